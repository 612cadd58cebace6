// A StackStatus for a terminal: shared by status and apply, on both targets.
import { describeSchema, describeUpgrade, type ComponentStatus, type StackStatus } from '../stack/status-model.js';

/** The status for a terminal: the condition, a table of components, the pods that are not ready, the endpoints. */
export function formatStatus(status: StackStatus, now: number): string {
  const age = status.createdAt ? `, created ${formatAge(now - Date.parse(status.createdAt))} ago` : '';
  const lines = [
    `${status.namespace}/${status.name}: ${status.condition.type} (${status.condition.reason}) ${status.condition.message}`,
    `Loki ${status.version ?? 'version unknown'}${age}`,
    ...(status.upgrade ? [describeUpgrade(status.upgrade)] : []),
    ...(status.schema ? [describeSchema(status.schema)] : []),
    '',
    ...table([
      ['COMPONENT', 'KIND', 'READY', 'UP-TO-DATE', 'PODS'],
      ...Object.entries(status.components).map(([name, c]) => [
        name,
        c.kind,
        `${c.ready}/${c.desired}`,
        String(c.updated),
        podsOf(c),
      ]),
    ]),
  ];
  const problems = Object.values(status.components).flatMap((c) => c.notReady);
  if (problems.length > 0) {
    lines.push(
      '',
      ...table([
        ['POD', 'STATE', 'REASON', 'RESTARTS', 'MESSAGE'],
        ...problems.map((p) => [p.name, p.state, p.reason ?? '', String(p.restarts), p.message ?? '']),
      ]),
    );
  }
  lines.push('', ...formatEndpoints(status));
  return `${lines.join('\n')}\n`;
}

/** The push and query URLs, in the cluster and, for an exposed gateway, outside it. */
export function formatEndpoints(status: StackStatus): string[] {
  const { push, query, basicAuth, external } = status.endpoints;
  const auth = basicAuth ? " (basic auth: a tenant's user and password)" : '';
  return [
    `push URL:  ${push}${auth}`,
    `query URL: ${query}${auth}`,
    ...(external
      ? [`external push URL:  ${external.push}${auth}`, `external query URL: ${external.query}${auth}`]
      : []),
  ];
}

function podsOf(component: ComponentStatus): string {
  const counts = Object.entries(component.pods).filter(([, count]) => count > 0);
  return counts.length > 0 ? counts.map(([state, count]) => `${count} ${state}`).join(', ') : 'none';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 2)))
      .join('')
      .trimEnd(),
  );
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
