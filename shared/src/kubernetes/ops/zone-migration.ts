// Changing how the ingesters are split into StatefulSets on a stack whose ingesters already hold data: zone
// awareness switched on (the single StatefulSet gives way to one per zone), off, or zones renamed. Every stream
// moves to other ingesters; Loki documents the staged migration (docs/sources/operations/zone-ingesters.md).
// Refused unless asked for; plan lists the steps; with the option, the replaced ingesters leave one at a time.
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError, SpecError } from '../../errors.js';
import type { LokiStack } from '../../spec/schema.js';
import { MANAGER } from '../../stack/names.js';
import { objectName, zoneObjectName, zonesOf } from '../render/common.js';
import type { Connection } from './connection.js';
import { createdFor, notFoundAsUndefined } from './kinds.js';
import { withRetry, type RetryPolicy } from './retry.js';

/** A change of the ingesters' StatefulSets refused before anything was sent: exit code 2, like any spec error. */
export class ZoneMigrationRefusedError extends SpecError {
  constructor(message: string) {
    super([{ path: 'spec.zoneAwareness.enabled', message }]);
    this.name = 'ZoneMigrationRefusedError';
  }
}

/** The ingester StatefulSets the spec renders: one per zone, or the one. */
export function ingesterSetNames(stack: LokiStack): string[] {
  const zones = zonesOf(stack, 'ingester');
  return zones.length > 0 ? zones.map((zone) => zoneObjectName(stack, zone)) : [objectName(stack, 'ingester')];
}

/** Whether a name is one an ingester StatefulSet of the stack has, with zones or without. */
export const isIngesterSetName = (stack: LokiStack, name: string) =>
  name === objectName(stack, 'ingester') || name.startsWith(`${objectName(stack, 'ingester')}-zone-`);

/** The live ingester StatefulSets of the stack that the spec no longer renders, in name order. */
export function replacedIngesters(stack: LokiStack, existing: Map<string, KubernetesObject>): KubernetesObject[] {
  const wanted = new Set(ingesterSetNames(stack));
  return [...existing.values()]
    .filter(
      (object) =>
        object.kind === 'StatefulSet' &&
        createdFor(object, stack.metadata.name) &&
        isIngesterSetName(stack, object.metadata?.name ?? '') &&
        !wanted.has(object.metadata?.name ?? ''),
    )
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** The steps of the migration from the `replaced` StatefulSets, in order, as the plan and the refusal tell them. */
export function zoneMigrationSteps(stack: LokiStack, replaced: string[]): string[] {
  const old = replaced.join(', ');
  const ring = stack.spec.zoneAwareness.enabled
    ? 'the rings are zone-aware: the distributors write each stream to one ingester per zone, and the queriers read the zones'
    : 'the rings are no longer zone-aware: the distributors write each stream to any replicationFactor ingesters';
  return [
    `the StatefulSets ${ingesterSetNames(stack).join(', ')} run (those missing are created) beside ${old}, which keep running`,
    `the other components roll wave by wave; ${ring}`,
    `${old} ${replaced.length > 1 ? 'are' : 'is'} scaled down one pod at a time once the new ingesters are ready, each ingester flushing its chunks to the object store and leaving the ring before the next stops (so that no stream loses two copies at once), then deleted; the volumes are kept`,
  ];
}

/** Why apply refuses the change without the option: the steps, and the option that accepts them. */
export function zoneMigrationRefusal(stack: LokiStack, replaced: string[], option: string | undefined): string {
  const steps = zoneMigrationSteps(stack, replaced)
    .map((step, index) => `(${index + 1}) ${step}`)
    .join('; ');
  const running = replaced.map((name) => `"${name}"`).join(', ');
  return `replaces the running ingesters (${running}) by other StatefulSets, which moves every stream to other ingesters: ${steps}. ${option ? `Re-run with ${option} to go ahead, or follow` : 'Follow'} the staged procedure in docs/kubernetes.md ("Switching zone awareness on"); nothing was applied`;
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
