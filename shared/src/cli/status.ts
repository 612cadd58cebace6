import { stringify } from 'yaml';
import { until } from '../kubernetes/ops/retry.js';
import { describeRuleProblem, describeRules, rulesReport, type RulesReport } from '../kubernetes/ops/rules-check.js';
import { getStackState, type StackState } from '../kubernetes/ops/status.js';
import { formatStatus } from './format-status.js';
import { ClusterError, StackNotFoundError } from '../errors.js';
import type { CliIo, Command } from './io.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import {
  NOMAD_HELP,
  NOMAD_OPTIONS,
  nomadStatus,
  parseTarget,
  rejectKubernetesOptions,
  rejectNomadOptions,
  TARGET_HELP,
  TARGET_OPTION,
} from './nomad.js';
import { loadStack, parseCommandLine, parseDuration, parseFormat, SPEC_HELP, SPEC_OPTIONS } from './options.js';

const HELP = `Usage: loki-microservices status [-f spec.yaml] [--set path=value ...] [-o table|json|yaml]

Show whether a Loki stack is Ready, Pending, Degraded or Failed, and per component the ready replicas,
pods by state and why pods are not ready. The stack is named by its spec (metadata.name, metadata.namespace;
on Nomad the job metadata.name in spec.nomad.namespace, with allocations as the pods).

Options:
${SPEC_HELP}
${TARGET_HELP}
${CLUSTER_HELP}
${NOMAD_HELP}
      --rules            Also read the ruler's rules API: the declared rule groups loaded, and those missing
                         or failing (exit 3); JSON and YAML add \`rules: {loaded, problems}\`
      --timeout DURATION Give up after this long, retries of an unreachable API server included (default 1m)
  -o, --output FORMAT    table (default), json or yaml: a StackStatus (apiVersion loki-microservices/v1alpha1)
  -h, --help             Show this help

Exit codes: 0 Ready, 3 not Ready, a declared rule group not loaded (--rules) or no such stack, 2 invalid spec or
usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...TARGET_OPTION,
    ...CLUSTER_OPTIONS,
    ...NOMAD_OPTIONS,
    timeout: { type: 'string', default: '1m' },
    rules: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['table', 'json', 'yaml'], 'table');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const target = parseTarget(values.target);
  if (target === 'kubernetes') rejectNomadOptions(values);
  else rejectKubernetesOptions(values, ['rules']);
  const stack = await loadStack(values, io);
  if (target === 'nomad') return nomadStatus(stack, values, format, io);
  const connection = connectFrom(values, io);
  let state: StackState;
  try {
    state = await getStackState(
      connection,
      { name: stack.metadata.name, namespace: stack.metadata.namespace },
      until(Date.now() + timeoutMs),
    );
  } catch (error) {
    if (!(error instanceof StackNotFoundError)) throw error;
    io.stderr(`${error.message}\n`);
    return 3;
  }
  const { status: stackStatus, declaredRules } = state;
  // Only when asked: a status is three list requests, and reading rules takes a port-forward to a ruler. The
  // groups are those the live ruler's annotation declares, as the status backend reads them.
  let rules: RulesReport | undefined;
  if (values.rules) {
    if (!Array.isArray(declaredRules)) throw new ClusterError(declaredRules.invalid);
    rules = await rulesReport(connection, stack.metadata, declaredRules, until(Date.now() + timeoutMs));
  }
  const document = rules ? { ...stackStatus, rules } : stackStatus;
  io.stdout(
    format === 'json'
      ? `${JSON.stringify(document, null, 2)}\n`
      : format === 'yaml'
        ? stringify(document)
        : `${formatStatus(stackStatus, Date.now())}${rules ? `\n${describeRules(rules)}\n${rules.problems.map((p) => `  ${describeRuleProblem(p)}\n`).join('')}` : ''}`,
  );
  return stackStatus.condition.type === 'Ready' && !rules?.problems.length ? 0 : 3;
}

export const command: Command = { help: HELP, run };
