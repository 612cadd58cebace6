// plan: what deploy would change, as a server-side dry run that writes nothing. The Markdown plan is the job
// summary (fit for a pull-request check), the StackPlan is an output. Changes are not a failure; a change the
// cluster refuses (a blocker) is, since deploy would stop on it.
import * as core from '@actions/core';
import {
  ClusterError,
  connect,
  formatPlanMarkdown,
  formatPlanText,
  planStack,
  until,
  type StackPlan,
} from 'loki-microservices';
import { ACTION_OPTION_NAMES, type Inputs } from './inputs.js';
import { stackTitle } from './outputs.js';

export async function plan(inputs: Inputs): Promise<void> {
  const { stack } = inputs;
  const connection = connect({ kubeconfig: inputs.kubeconfig, context: inputs.context });
  core.info(`planning ${stackTitle(stack)} (Loki ${stack.spec.version}) on ${connection.server}; nothing is changed`);
  let planned: StackPlan;
  try {
    planned = await planStack(connection, stack, {
      credentials: inputs.credentials,
      adopt: inputs.adopt,
      optionNames: ACTION_OPTION_NAMES,
      retry: until(Date.now() + inputs.timeoutMs),
    });
  } finally {
    connection.close();
  }
  core.setOutput('plan', JSON.stringify(planned));
  core.setOutput('has-changes', String(planned.hasChanges));
  core.info(formatPlanText(planned).trimEnd());
  core.summary.addRaw(formatPlanMarkdown(planned), true);
  for (const warning of planned.warnings) core.warning(warning.message, { title: `Loki plan: ${warning.code}` });
  // One error (setFailed, in main) with every blocker's message: deploy would refuse the same changes.
  if (planned.blockers.length > 0)
    throw new ClusterError(
      `deploy would stop before changing anything: ${planned.blockers.map((blocker) => blocker.message).join('\n')}`,
      422,
      'Invalid',
    );
}
