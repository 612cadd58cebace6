import { stringify } from 'yaml';
import { getStackStatus } from '../cluster/status.js';
import type { ComponentStatus, StackStatus } from '../cluster/status-model.js';
import { StackNotFoundError } from '../errors.js';
import type { CliIo, Command } from './io.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import { NOMAD_HELP, NOMAD_OPTIONS, nomadStatus, parseTarget, rejectKubernetesOptions, rejectNomadOptions, TARGET_HELP, TARGET_OPTION } from './nomad.js';
import { loadStack, parseCommandLine, parseFormat, SPEC_HELP, SPEC_OPTIONS } from './options.js';

const HELP = `Usage: loki-microservices status [-f spec.yaml] [--set path=value ...] [-o table|json|yaml]

Show whether a Loki stack is Ready, Pending, Degraded or Failed, and per component the ready replicas,
pods by state and why pods are not ready. The stack is named by its spec (metadata.name, metadata.namespace;
on Nomad the job metadata.name in spec.nomad.namespace, with allocations as the pods).

Options:
${SPEC_HELP}
${TARGET_HELP}
${CLUSTER_HELP}
${NOMAD_HELP}
  -o, --output FORMAT    table (default), json or yaml: a StackStatus (apiVersion loki-microservices/v1alpha1)
  -h, --help             Show this help

Exit codes: 0 Ready, 3 not Ready or no such stack, 2 invalid spec or usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, { ...SPEC_OPTIONS, ...TARGET_OPTION, ...CLUSTER_OPTIONS, ...NOMAD_OPTIONS, output: { type: 'string', short: 'o' } });
  const format = parseFormat(values.output, ['table', 'json', 'yaml'], 'table');
  const target = parseTarget(values.target);
  if (target === 'kubernetes') rejectNomadOptions(values);
  else rejectKubernetesOptions(values, []);
  const stack = await loadStack(values, io);
  if (target === 'nomad') return nomadStatus(stack, values, format, io);
  const connection = connectFrom(values, io);
  let stackStatus: StackStatus;
  try {
    stackStatus = await getStackStatus(connection, { name: stack.metadata.name, namespace: stack.metadata.namespace });
  } catch (error) {
    if (!(error instanceof StackNotFoundError)) throw error;
    io.stderr(`${error.message}\n`);
    return 3;
  }
  io.stdout(format === 'json' ? `${JSON.stringify(stackStatus, null, 2)}\n` : format === 'yaml' ? stringify(stackStatus) : formatStatus(stackStatus, Date.now()));
  return stackStatus.condition.type === 'Ready' ? 0 : 3;
}

/** The status for a terminal: the condition, a table of components, the pods that are not ready, the endpoints. */
export function formatStatus(status: StackStatus, now: number): string {
  const age = status.createdAt ? `, created ${formatAge(now - Date.parse(status.createdAt))} ago` : '';
  const lines = [
    `${status.namespace}/${status.name}: ${status.condition.type} (${status.condition.reason}) ${status.condition.message}`,
    `Loki ${status.version ?? 'version unknown'}${age}`,
    '',
    ...table([
      ['COMPONENT', 'KIND', 'READY', 'UP-TO-DATE', 'PODS'],
      ...Object.entries(status.components).map(([name, c]) => [name, c.kind, `${c.ready}/${c.desired}`, String(c.updated), podsOf(c)]),
    ]),
  ];
  const problems = Object.values(status.components).flatMap((c) => c.notReady);
  if (problems.length > 0) {
    lines.push('', ...table([['POD', 'STATE', 'REASON', 'RESTARTS', 'MESSAGE'], ...problems.map((p) => [p.name, p.state, p.reason ?? '', String(p.restarts), p.message ?? ''])]));
  }
  lines.push('', ...formatEndpoints(status));
  return `${lines.join('\n')}\n`;
}

export function formatEndpoints(status: StackStatus): string[] {
  return [`push URL:  ${status.endpoints.push}`, `query URL: ${status.endpoints.query}`];
}

function podsOf(component: ComponentStatus): string {
  const counts = Object.entries(component.pods).filter(([, count]) => count > 0);
  return counts.length > 0 ? counts.map(([state, count]) => `${count} ${state}`).join(', ') : 'none';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 2))).join('').trimEnd());
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export const command: Command = { help: HELP, run };
