// The eight Loki targets we deploy, and what each one needs. Browser-safe: no imports.

export const COMPONENT_NAMES = [
  'distributor',
  'ingester',
  'querier',
  'queryFrontend',
  'queryScheduler',
  'indexGateway',
  'compactor',
  'ruler',
] as const;

export type ComponentName = (typeof COMPONENT_NAMES)[number];

export interface ComponentTraits {
  /** Loki `-target` value; also the suffix of every object name (`<name>-<target>`). */
  target: string;
  kind: 'Deployment' | 'StatefulSet';
  /** Reads or writes the object store, so it gets the storage credentials. */
  objectStore: boolean;
  /** Takes part in a hash ring, so it joins the memberlist cluster. */
  ringMember: boolean;
  /** Has a headless Service: StatefulSet governing service or DNS discovery of every pod. */
  headless: boolean;
}

export const COMPONENTS: Record<ComponentName, ComponentTraits> = {
  distributor: { target: 'distributor', kind: 'Deployment', objectStore: false, ringMember: true, headless: false },
  ingester: { target: 'ingester', kind: 'StatefulSet', objectStore: true, ringMember: true, headless: true },
  querier: { target: 'querier', kind: 'Deployment', objectStore: true, ringMember: true, headless: false },
  queryFrontend: { target: 'query-frontend', kind: 'Deployment', objectStore: false, ringMember: false, headless: true },
  queryScheduler: { target: 'query-scheduler', kind: 'Deployment', objectStore: false, ringMember: false, headless: true },
  indexGateway: { target: 'index-gateway', kind: 'StatefulSet', objectStore: true, ringMember: true, headless: true },
  compactor: { target: 'compactor', kind: 'StatefulSet', objectStore: true, ringMember: true, headless: true },
  ruler: { target: 'ruler', kind: 'StatefulSet', objectStore: true, ringMember: true, headless: true },
};

export type StatefulComponentName = 'ingester' | 'indexGateway' | 'compactor' | 'ruler';
