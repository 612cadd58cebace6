import { stringify } from 'yaml';
import { until } from '../kubernetes/ops/retry.js';
import { getStackStatus } from '../kubernetes/ops/status.js';
import type { StackStatus } from '../stack/status-model.js';
import { formatStatus } from './format-status.js';
import { StackNotFoundError } from '../errors.js';
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
      --timeout DURATION Give up after this long, retries of an unreachable API server included (default 1m)
  -o, --output FORMAT    table (default), json or yaml: a StackStatus (apiVersion loki-microservices/v1alpha1)
  -h, --help             Show this help

Exit codes: 0 Ready, 3 not Ready or no such stack, 2 invalid spec or usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...TARGET_OPTION,
    ...CLUSTER_OPTIONS,
    ...NOMAD_OPTIONS,
    timeout: { type: 'string', default: '1m' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['table', 'json', 'yaml'], 'table');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const target = parseTarget(values.target);
  if (target === 'kubernetes') rejectNomadOptions(values);
  else rejectKubernetesOptions(values, []);
  const stack = await loadStack(values, io);
  if (target === 'nomad') return nomadStatus(stack, values, format, io);
  const connection = connectFrom(values, io);
  let stackStatus: StackStatus;
  try {
    stackStatus = await getStackStatus(
      connection,
      { name: stack.metadata.name, namespace: stack.metadata.namespace },
      until(Date.now() + timeoutMs),
    );
  } catch (error) {
    if (!(error instanceof StackNotFoundError)) throw error;
    io.stderr(`${error.message}\n`);
    return 3;
  }
  io.stdout(
    format === 'json'
      ? `${JSON.stringify(stackStatus, null, 2)}\n`
      : format === 'yaml'
        ? stringify(stackStatus)
        : formatStatus(stackStatus, Date.now()),
  );
  return stackStatus.condition.type === 'Ready' ? 0 : 3;
}

export const command: Command = { help: HELP, run };
