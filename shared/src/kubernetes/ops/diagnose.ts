// Why a stack is not ready: the components that are not, their pods and reasons (from the status), the
// recent warning events about the stack's objects, and the last log lines of the containers that fail
// (redacted, as everything shown: a crashing container may print its credentials).
import { ApiException } from '@kubernetes/client-node';
import { assertStackRef } from '../../stack/names.js';
import { redact } from '../../redact.js';
import type { Connection } from './connection.js';
import type { StackRef } from './status.js';
import type { PodProblem, StackStatus } from '../../stack/status-model.js';

export interface Diagnosis {
  components: { name: string; desired: number; ready: number; pods: PodProblem[] }[];
  /** Newest first. */
  events: { object: string; reason: string; message: string; count: number; lastSeen: string }[];
  logs: { pod: string; container: string; previous: boolean; lines: string[] }[];
}

const EVENTS = 10;
const LOG_LINES = 20;
/** At most this many containers' logs: one per failing component is enough to see why. */
const LOGS = 5;

export async function diagnose(connection: Connection, ref: StackRef, status: StackStatus): Promise<Diagnosis> {
  assertStackRef(ref);
  const components = Object.entries(status.components)
    .filter(([, c]) => !c.current || c.notReady.length > 0)
    .map(([name, c]) => ({ name, desired: c.desired, ready: c.ready, pods: c.notReady }));
  const podNames = new Set(components.flatMap((c) => c.pods.map((p) => p.name)));
  const [events, logs] = await Promise.all([
    warningEvents(connection, ref, status, podNames),
    failingLogs(connection, ref.namespace, components),
  ]);
  return { components, events, logs };
}

async function warningEvents(
  connection: Connection,
  ref: StackRef,
  status: StackStatus,
  pods: Set<string>,
): Promise<Diagnosis['events']> {
  const list = await connection.core
    .listNamespacedEvent({ namespace: ref.namespace, fieldSelector: 'type=Warning' })
    .catch(() => ({ items: [] }));
  // The stack's objects are named <stack>-<component>[-…] (claims data-<stack>-<component>-N): a bare
  // "<stack>-" prefix would take in the warnings of neighbours such as loki-canary or a stack loki-dev.
  const prefixes = Object.keys(status.components).map((component) => `${ref.name}-${component}`);
  const ours = (name: string) =>
    pods.has(name) ||
    name === ref.name ||
    prefixes.some((prefix) => name === prefix || name.startsWith(`${prefix}-`) || name.startsWith(`data-${prefix}-`));
  return list.items
    .filter((event) => ours(event.involvedObject.name ?? ''))
    .map((event) => ({
      object: `${event.involvedObject.kind}/${event.involvedObject.name}`,
      reason: event.reason ?? '',
      message: redact(event.message ?? ''),
      count: event.count ?? event.series?.count ?? 1,
      lastSeen: String(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? ''),
    }))
    .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen))
    .slice(0, EVENTS);
}

/** Logs of containers that started and failed; the crashed instance's (previous) when it restarted. */
async function failingLogs(
  connection: Connection,
  namespace: string,
  components: Diagnosis['components'],
): Promise<Diagnosis['logs']> {
  const failing = components
    .map((c) =>
      c.pods.find(
        (p) =>
          p.failing &&
          p.container &&
          p.reason !== 'ImagePullBackOff' &&
          p.reason !== 'ErrImagePull' &&
          p.reason !== 'Unschedulable',
      ),
    )
    .filter((p): p is PodProblem => !!p)
    .slice(0, LOGS);
  const logs = await Promise.all(
    failing.map(async (pod) => {
      const read = (previous: boolean) =>
        connection.core.readNamespacedPodLog({
          name: pod.name,
          namespace,
          container: pod.container!,
          tailLines: LOG_LINES,
          ...(previous ? { previous } : {}),
        });
      const previous = pod.restarts > 0;
      const text = await read(previous)
        .catch((error: unknown) => (previous && error instanceof ApiException ? read(false) : Promise.reject(error)))
        .catch(() => '');
      return {
        pod: pod.name,
        container: pod.container!,
        previous,
        lines: text.split('\n').filter(Boolean).map(redact),
      };
    }),
  );
  return logs.filter((log) => log.lines.length > 0);
}

/** The diagnosis as text, for a terminal or a log. */
export function formatDiagnosis(diagnosis: Diagnosis): string {
  const lines: string[] = [];
  for (const component of diagnosis.components) {
    lines.push(`${component.name}: ${component.ready}/${component.desired} ready`);
    for (const pod of component.pods) {
      const where = pod.container ? ` (container ${pod.container})` : '';
      lines.push(
        `  ${pod.name}: ${pod.state}${pod.reason ? `, ${pod.reason}` : ''}${where}${pod.restarts ? `, ${pod.restarts} restarts` : ''}${pod.message ? ` - ${pod.message}` : ''}`,
      );
    }
  }
  if (diagnosis.events.length > 0) {
    lines.push('recent warning events:');
    for (const event of diagnosis.events)
      lines.push(`  ${event.object}: ${event.reason}${event.count > 1 ? ` (x${event.count})` : ''} - ${event.message}`);
  }
  for (const log of diagnosis.logs) {
    lines.push(`last log lines of ${log.pod}/${log.container}${log.previous ? ' (before its last restart)' : ''}:`);
    for (const line of log.lines) lines.push(`  ${line}`);
  }
  return lines.join('\n');
}
