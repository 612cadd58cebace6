// Diagnostics as files, for a CI job to keep as an artifact: the stack's status, its rendered manifests, the
// namespace's events about it, and per pod its object, its events and the logs of each container (the
// instance before the last restart too). Everything written passes the redaction layer: a crashing container
// may print its credentials. What cannot be read is said in the file that would have held it.
import { mkdir } from 'node:fs/promises';
import type { CoreV1Event, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { describeError, redact } from '../../redact.js';
import type { LokiStack } from '../../spec/schema.js';
import { assertStackRef } from '../../stack/names.js';
import { stackSelector } from '../render/common.js';
import { renderKubernetes, toYaml } from '../render/index.js';
import { writeFileWithin } from '../render/manifests.js';
import type { Connection } from './connection.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { getStackStatus } from './status.js';

/** Enough of a log to see a start-up and a crash; a runaway container must not fill the runner's disk. */
const LOG_LIMIT_BYTES = 2 * 1024 * 1024;

export interface DiagnosticsOptions {
  retry?: RetryPolicy;
}

/** Writes the stack's diagnostics under `directory` (created if needed); returns the files written, relative to it. */
export async function writeDiagnostics(
  connection: Connection,
  stack: LokiStack,
  directory: string,
  options: DiagnosticsOptions = {},
): Promise<string[]> {
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  assertStackRef(ref);
  const written: string[] = [];
  // Pod and container names come from the API server: the files stay inside `directory` whatever they say.
  const write = async (path: string, text: string) => {
    await writeFileWithin(directory, path, redact(text));
    written.push(path);
  };
  const attempt = <T>(what: string, read: () => Promise<T>) =>
    withRetry(what, read, options.retry ?? { attempts: 3, baseDelayMs: 250, maxDelayMs: 1000 });
  const orReason = async (read: () => Promise<string>) =>
    read().catch((error: unknown) => `(could not be read: ${describeError(error)})\n`);

  await mkdir(directory, { recursive: true });
  const rendered = renderKubernetes(stack).objects;
  await write('manifests.yaml', toYaml(rendered));
  await write(
    'status.json',
    await orReason(async () => `${JSON.stringify(await getStackStatus(connection, ref, options.retry), null, 2)}\n`),
  );
  const [pods, events] = await Promise.all([
    attempt(`listing the pods of ${ref.namespace}/${ref.name}`, () =>
      connection.core.listNamespacedPod({ namespace: ref.namespace, labelSelector: stackSelector(ref.name) }),
    ).then(
      (list) => list.items,
      (error: unknown) => error as Error,
    ),
    attempt(`listing the events of ${ref.namespace}`, () =>
      connection.core.listNamespacedEvent({ namespace: ref.namespace }),
    ).then(
      (list) => list.items,
      (error: unknown) => error as Error,
    ),
  ]);
  const ours = objectsOf(rendered, pods instanceof Error ? [] : pods);
  const eventsAbout = (about: (name: string) => boolean) =>
    events instanceof Error ? events : events.filter((event) => about(event.involvedObject.name ?? ''));
  await write('events.txt', formatEvents(eventsAbout(ours)));
  if (pods instanceof Error) {
    await write('pods.txt', `(the pods could not be listed: ${describeError(pods)})\n`);
    return written;
  }
  for (const pod of pods) {
    const name = pod.metadata!.name!;
    await write(`pods/${name}/pod.yaml`, stringify(withoutManagedFields(pod)));
    await write(`pods/${name}/events.txt`, formatEvents(eventsAbout((object) => object === name)));
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const read = (previous: boolean) =>
        orReason(() =>
          attempt(`reading the log of ${name}/${status.name}`, () =>
            connection.core.readNamespacedPodLog({
              name,
              namespace: ref.namespace,
              container: status.name,
              limitBytes: LOG_LIMIT_BYTES,
              ...(previous ? { previous } : {}),
            }),
          ),
        );
      await write(`pods/${name}/${status.name}.log`, await read(false));
      if (status.restartCount > 0) await write(`pods/${name}/${status.name}.previous.log`, await read(true));
    }
  }
  return written;
}

/**
 * Whether an object name is the stack's: a rendered object, a pod, or what a controller made for a workload
 * (its ReplicaSets `<deployment>-<hash>`, a StatefulSet's claims `data-<statefulset>-<n>`). Not a bare
 * `<stack>-` prefix, which would take in neighbours such as loki-canary or a stack named loki-dev.
 */
function objectsOf(rendered: KubernetesObject[], pods: V1Pod[]): (name: string) => boolean {
  const names = new Set([...rendered, ...pods].map((object) => object.metadata?.name ?? ''));
  const workloads = rendered
    .filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet')
    .map((object) => object.metadata!.name!);
  return (name) =>
    names.has(name) || workloads.some((workload) => new RegExp(`^(data-)?${workload}-[a-z0-9]+$`).test(name));
}

/** Events oldest first, one line each, as `kubectl get events` shows them. */
function formatEvents(events: CoreV1Event[] | Error): string {
  if (events instanceof Error) return `(the events could not be listed: ${describeError(events)})\n`;
  const when = (event: CoreV1Event) =>
    String(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? '');
  const lines = [...events]
    .sort((a, b) => when(a).localeCompare(when(b)))
    .map(
      (event) =>
        `${when(event)} ${event.type} ${event.reason} ${event.involvedObject.kind}/${event.involvedObject.name}` +
        `${(event.count ?? 1) > 1 ? ` (x${event.count})` : ''}: ${event.message ?? ''}`,
    );
  return lines.length > 0 ? `${lines.join('\n')}\n` : '(no events)\n';
}

function withoutManagedFields(pod: V1Pod): V1Pod {
  return { ...pod, metadata: { ...pod.metadata, managedFields: undefined } };
}
