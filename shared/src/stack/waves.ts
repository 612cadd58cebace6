// The order a change reaches the workloads in, servers before their clients: the compactor and the
// index-gateways serve the index, the ingesters serve recent data to the queriers, the pattern ingesters take
// the distributors' tee and answer the queriers' pattern queries, the query-schedulers hand
// work to the queriers, the query-frontends queue on the schedulers, and the distributors (the write path's
// entry) and the gateway come last, so that every client meets servers that already run the new version.
// Any platform: Kubernetes workloads and Nomad task groups are named by their component label.
import { COMPONENTS, type ComponentName } from '../spec/components.js';
import type { LokiStack } from '../spec/schema.js';
import type { PlannedRoll, StackPlan } from './plan-model.js';
import { deployedComponents } from './components.js';
import type { StackUpgrade } from './status-model.js';

/** The gateway's component label: the last wave, in front of everything else. */
export const GATEWAY_COMPONENT = 'gateway';

const WAVE_ORDER: readonly (ComponentName | typeof GATEWAY_COMPONENT)[] = [
  'compactor',
  'indexGateway',
  'ingester',
  'patternIngester',
  'queryScheduler',
  'querier',
  'queryFrontend',
  'ruler',
  'distributor',
  GATEWAY_COMPONENT,
];

/** One wave: the components (their `app.kubernetes.io/component` labels) rolled out together. */
export interface Wave {
  /** 1-based, as people count them: "wave 3/9". */
  number: number;
  components: string[];
  /** A zone-aware ingester rolls one zone per wave: the zone (the `loki-microservices/zone` label) of this one. */
  zone?: string;
}

const labelOf = (name: ComponentName | typeof GATEWAY_COMPONENT) =>
  name === GATEWAY_COMPONENT ? GATEWAY_COMPONENT : COMPONENTS[name].target;

/**
 * The waves of a stack: one component each, in server-before-client order, only the components it runs; a
 * zone-aware ingester one wave per zone, in the spec's order, so that a rollout never takes two zones at once.
 */
export function wavesOf(stack: LokiStack): Wave[] {
  const deployed = new Set<string>(deployedComponents(stack));
  if (stack.spec.gateway.enabled) deployed.add(GATEWAY_COMPONENT);
  const zones = stack.spec.zoneAwareness.enabled ? stack.spec.zoneAwareness.zones : [];
  return WAVE_ORDER.filter((name) => deployed.has(name))
    .flatMap((name) =>
      name === 'ingester' && zones.length > 0
        ? zones.map((zone) => ({ components: [labelOf(name)], zone }))
        : [{ components: [labelOf(name)] }],
    )
    .map((wave, index) => ({ number: index + 1, ...wave }));
}

/** A wave as people read it: its components, and its zone. */
export const waveName = (wave: { components: string[]; zone?: string }) =>
  `${wave.components.join(', ')}${wave.zone ? ` zone ${wave.zone}` : ''}`;

/**
 * The wave a component rolls in (by its label, and its zone for a zone-aware ingester; without one, its first
 * zone's); undefined for what is not in a wave (the bundled object store).
 */
export const waveOf = (waves: Wave[], component: string, zone?: string) =>
  waves.find((wave) => wave.components.includes(component) && (!zone || !wave.zone || wave.zone === zone));

/** The waves of the components a live stack runs (their labels, in any order), for a status read off the cluster. */
export function wavesOfComponents(components: Iterable<string>): Wave[] {
  const live = new Set(components);
  return WAVE_ORDER.map(labelOf)
    .filter((label) => live.has(label))
    .map((label, index) => ({ number: index + 1, components: [label] }));
}

/**
 * A plan's pods rolling in several components: the waves they roll in, numbered among all of the stack's waves
 * (a rollout in waves rolls them in this order; one component rolling needs no waves).
 */
export function plannedWaves(stack: LokiStack, rolls: PlannedRoll[]): Pick<StackPlan, 'waves'> {
  const waves = wavesOf(stack).flatMap((wave) => {
    const rolling = rolls.filter((roll) => wave.components.includes(roll.component) && roll.zone === wave.zone);
    const pods = rolling.reduce((sum, roll) => sum + roll.pods, 0);
    return rolling.length > 0
      ? [{ number: wave.number, components: wave.components, ...(wave.zone ? { zone: wave.zone } : {}), pods }]
      : [];
  });
  return waves.length > 1 ? { waves } : {};
}

/** A workload of a live stack (a Kubernetes workload, a Nomad task group) as a rollout in waves sees it. */
export interface RollingWorkload {
  /** Its component label. */
  component: string;
  /** The Loki version its spec runs. */
  version: string | undefined;
  /** It and all its pods run its spec, ready. */
  settled: boolean;
  /** Its pods that run its spec, and how many it wants. */
  updated: number;
  desired: number;
}

/**
 * The rollout under way across the Loki workloads of a stack that runs `components` (any order): waves go
 * servers first, so the first wave's version is the one rolled to, and the wave rolling is the first whose
 * workload does not run it yet (none of its pods updated) or has not settled on it. Undefined when every wave has.
 * The caller tells whether the versions differ at all.
 */
export function upgradeInWaves(components: Iterable<string>, workloads: RollingWorkload[]): StackUpgrade | undefined {
  const waves = wavesOfComponents(components);
  const workloadOf = (component: string) => workloads.find((workload) => workload.component === component);
  const to = waves.map((wave) => workloadOf(wave.components[0]!)).find(Boolean)?.version;
  if (!to) return undefined;
  for (const wave of waves) {
    const component = wave.components[0]!;
    const workload = workloadOf(component);
    if (!workload) continue;
    const atTarget = workload.version === to;
    if (atTarget && workload.settled) continue;
    return {
      to,
      wave: wave.number,
      waves: waves.length,
      component,
      updated: atTarget ? workload.updated : 0,
      desired: workload.desired,
    };
  }
  return undefined;
}
