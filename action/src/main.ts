// The Action's main step: read the inputs (nothing touches a cluster if one is wrong), run the command
// through the core, and present the result as outputs, log groups, annotations and the job summary. The one
// place that calls setFailed.
import * as core from '@actions/core';
import { ClusterError, describeError, flowCollectorLoki, smokeOptionsOf, stackEndpoints } from 'loki-microservices';
import { destroy, render, status } from './commands.js';
import { deploy } from './deploy.js';
import { InputError, readInputs, type Inputs } from './inputs.js';
import { stackTitle } from './outputs.js';
import { plan } from './plan.js';
import { addError, addHeading, writeSummary } from './summary.js';
import { upgradeTest } from './upgrade-test.js';

export async function run(): Promise<void> {
  let inputs: Inputs;
  try {
    inputs = await readInputs();
  } catch (error) {
    core.setFailed(
      error instanceof InputError
        ? `${describeError(error)}\nNothing was sent to the cluster.`
        : describeError(error, { stack: true }),
    );
    return;
  }
  const { stack } = inputs;
  core.setOutput('name', stack.metadata.name);
  core.setOutput('namespace', stack.metadata.namespace);
  const endpoints = stackEndpoints(stack);
  core.setOutput('push-url', endpoints.push);
  core.setOutput('query-url', endpoints.query);
  core.setOutput('external-push-url', endpoints.external?.push ?? '');
  core.setOutput('external-query-url', endpoints.external?.query ?? '');
  const gateway = smokeOptionsOf(stack).gateway;
  core.setOutput('gateway-user', gateway?.user ?? '');
  core.setOutput('gateway-passwords-secret', gateway?.passwordsSecret ?? '');
  core.setOutput('flowcollector', flowCollectorLoki(stack));
  try {
    await COMMAND_RUNNERS[inputs.command](inputs);
  } catch (error) {
    const message = describeError(error);
    if (!(error instanceof ClusterError || error instanceof InputError))
      core.debug(describeError(error, { stack: true }));
    if (core.summary.isEmptyBuffer()) addHeading(`${stackTitle(stack)}: ${inputs.command} failed`);
    addError(message);
    core.setFailed(message);
  } finally {
    await writeSummary();
  }
}

const COMMAND_RUNNERS: Record<Inputs['command'], (inputs: Inputs) => Promise<void>> = {
  deploy,
  plan,
  render,
  status,
  destroy,
  'upgrade-test': upgradeTest,
};
