// Switching zone awareness on for a stack whose ingesters already hold data: the single ingester StatefulSet
// gives way to one per zone, and Loki's documented migration (docs/sources/operations/zone-ingesters.md) moves
// writes and reads over in steps. Refused unless asked for; plan lists the steps.
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError, SpecError } from '../../errors.js';
import type { LokiStack } from '../../spec/schema.js';
import { MANAGER } from '../../stack/names.js';
import { objectName, zoneObjectName } from '../render/common.js';
import type { Connection } from './connection.js';
import { notFoundAsUndefined } from './kinds.js';
import { withRetry, type RetryPolicy } from './retry.js';

/** A switch to zone-aware ingesters refused before anything was sent: exit code 2, like any spec error. */
export class ZoneMigrationRefusedError extends SpecError {
  constructor(message: string) {
    super([{ path: 'spec.zoneAwareness.enabled', message }]);
    this.name = 'ZoneMigrationRefusedError';
  }
}

/** The single ingester StatefulSet of a live stack that the spec now splits into zones; undefined otherwise. */
export function singleZoneIngesters(
  stack: LokiStack,
  existing: Map<string, KubernetesObject>,
): KubernetesObject | undefined {
  if (!stack.spec.zoneAwareness.enabled) return undefined;
  return existing.get(`StatefulSet/${objectName(stack, 'ingester')}`);
}

/** The steps of the migration, in order, as the plan and the refusal tell them. */
export function zoneMigrationSteps(stack: LokiStack): string[] {
  const old = objectName(stack, 'ingester');
  const zones = stack.spec.zoneAwareness.zones.map((zone) => zoneObjectName(stack, zone)).join(', ');
  return [
    `the StatefulSets ${zones} are created beside ${old}, which keeps running`,
    'every ring turns zone-aware: the distributors write each stream to one ingester per zone, and the queriers read the zones',
    `${old} is scaled down one pod at a time once the zones are ready, each ingester flushing its chunks to the object store and leaving the ring before the next stops (so that no stream loses two copies at once), then deleted; its volumes are kept`,
  ];
}

/** Why apply refuses the switch without the option: the steps, and the option that accepts them. */
export function zoneMigrationRefusal(stack: LokiStack, option: string | undefined): string {
  const steps = zoneMigrationSteps(stack)
    .map((step, index) => `(${index + 1}) ${step}`)
    .join('; ');
  return `switches the running ingesters ("${objectName(stack, 'ingester')}") to zone-aware StatefulSets, which moves every stream to other ingesters: ${steps}. ${option ? `Re-run with ${option} to go ahead, or follow` : 'Follow'} the staged procedure in docs/kubernetes.md ("Switching zone awareness on"); nothing was applied`;
}

/** How long one old ingester may take to flush and leave, beyond its grace period, when the apply sets no deadline. */
const DRAIN_POD_MS = 330_000;

/**
 * Scale the old ingesters down one pod at a time, each gone before the next stops: an ingester flushes and leaves
 * the ring on shutdown, and with one leaving at a time no stream loses two of its copies at once (a push needs a
 * quorum of them). A StatefulSet with `Parallel` pods would stop them all together if deleted or scaled to 0.
 */
export async function drainIngesters(
  connection: Connection,
  live: KubernetesObject,
  retry: RetryPolicy,
): Promise<void> {
  const name = live.metadata?.name ?? '';
  const namespace = live.metadata?.namespace ?? '';
  const start = (live as { spec?: { replicas?: number } }).spec?.replicas ?? 1;
  const deadline = retry.deadline ?? Date.now() + start * DRAIN_POD_MS;
  for (let replicas = start - 1; replicas >= 0; replicas--) {
    const body = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace }, spec: { replicas } };
    await withRetry(
      `scaling StatefulSet ${namespace}/${name} to ${replicas} (its ingesters leave one at a time)`,
      () => connection.objects.patch(body, undefined, undefined, MANAGER, undefined, PatchStrategy.MergePatch),
      retry,
    );
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-${replicas}`, namespace } };
    for (;;) {
      const current = await withRetry(
        `reading Pod ${namespace}/${pod.metadata.name}`,
        () => connection.objects.read(pod).catch(notFoundAsUndefined),
        retry,
      );
      if (!current) break;
      if (Date.now() > deadline)
        throw new ClusterError(
          `timed out waiting for ingester ${namespace}/${pod.metadata.name} to flush and leave the ring; apply again with the same options to go on from there`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
