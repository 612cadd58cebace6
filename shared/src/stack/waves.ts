// The order a change reaches the workloads in, servers before their clients: the compactor and the
// index-gateways serve the index, the ingesters serve recent data to the queriers, the query-schedulers hand
// work to the queriers, the query-frontends queue on the schedulers, and the distributors (the write path's
// entry) and the gateway come last, so that every client meets servers that already run the new version.
// Any platform: Kubernetes workloads and Nomad task groups are named by their component label.
import { COMPONENTS, type ComponentName } from '../spec/components.js';
import type { LokiStack } from '../spec/schema.js';
import { deployedComponents } from './components.js';

/** The gateway's component label: the last wave, in front of everything else. */
export const GATEWAY_COMPONENT = 'gateway';

const WAVE_ORDER: readonly (ComponentName | typeof GATEWAY_COMPONENT)[] = [
  'compactor',
  'indexGateway',
  'ingester',
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
}

const labelOf = (name: ComponentName | typeof GATEWAY_COMPONENT) =>
  name === GATEWAY_COMPONENT ? GATEWAY_COMPONENT : COMPONENTS[name].target;

/** The waves of a stack: one component each, in server-before-client order, only the components it runs. */
export function wavesOf(stack: LokiStack): Wave[] {
  const deployed = new Set<string>(deployedComponents(stack));
  if (stack.spec.gateway.enabled) deployed.add(GATEWAY_COMPONENT);
  return WAVE_ORDER.filter((name) => deployed.has(name)).map((name, index) => ({
    number: index + 1,
    components: [labelOf(name)],
  }));
}

/** The wave a component rolls in (by its label); undefined for what is not in a wave (the bundled object store). */
export const waveOf = (waves: Wave[], component: string) => waves.find((wave) => wave.components.includes(component));

/** The waves of the components a live stack runs (their labels, in any order), for a status read off the cluster. */
export function wavesOfComponents(components: Iterable<string>): Wave[] {
  const live = new Set(components);
  return WAVE_ORDER.map(labelOf)
    .filter((label) => live.has(label))
    .map((label, index) => ({ number: index + 1, components: [label] }));
}
