// Switching zone awareness on for a stack whose ingesters already hold data: the single ingester StatefulSet
// gives way to one per zone, and Loki's documented migration (docs/sources/operations/zone-ingesters.md) moves
// writes and reads over in steps. Refused unless asked for; plan lists the steps.
import type { KubernetesObject } from '@kubernetes/client-node';
import { SpecError } from '../../errors.js';
import type { LokiStack } from '../../spec/schema.js';
import { objectName, zoneObjectName } from '../render/common.js';

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
    `${old} is deleted once the zones are ready: each of its ingesters flushes its chunks to the object store on shutdown (flush_on_shutdown), its volumes are kept`,
  ];
}

/** Why apply refuses the switch without the option: the steps, and the option that accepts them. */
export function zoneMigrationRefusal(stack: LokiStack, option: string | undefined): string {
  const steps = zoneMigrationSteps(stack)
    .map((step, index) => `(${index + 1}) ${step}`)
    .join('; ');
  return `switches the running ingesters ("${objectName(stack, 'ingester')}") to zone-aware StatefulSets, which moves every stream to other ingesters: ${steps}. ${option ? `Re-run with ${option} to go ahead, or follow` : 'Follow'} the staged procedure in docs/kubernetes.md ("Switching zone awareness on"); nothing was applied`;
}
