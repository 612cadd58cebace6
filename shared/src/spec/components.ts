// The Loki targets we deploy, and what each one needs: the one table the renderers, status and the spec
// read. Browser-safe: no imports.

export const COMPONENT_NAMES = [
  'distributor',
  'ingester',
  'querier',
  'queryFrontend',
  'queryScheduler',
  'indexGateway',
  'compactor',
  'ruler',
  'patternIngester',
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
  /**
   * The headless Service lists pods before they are ready: query-frontends and queriers dial every scheduler
   * pod, and schedulers only become ready once a frontend has connected, so start-up would otherwise deadlock.
   */
  discoveredBeforeReady: boolean;
  /** Seconds between SIGTERM and the kill: ingesters flush their chunks (Grafana's own jsonnet gives them 5 minutes). */
  shutdownGraceSeconds: number;
}

export const COMPONENTS: Record<ComponentName, ComponentTraits> = {
  /** Receives pushes (`/loki/api/v1/push`) and forwards each stream to replicationFactor ingesters. */
  distributor: {
    target: 'distributor',
    kind: 'Deployment',
    objectStore: false,
    ringMember: true,
    headless: false,
    discoveredBeforeReady: false,
    shutdownGraceSeconds: 30,
  },
  /** Holds recent streams in memory with a WAL on its volume, and flushes chunks to the object store. */
  ingester: {
    target: 'ingester',
    kind: 'StatefulSet',
    objectStore: true,
    ringMember: true,
    headless: true,
    discoveredBeforeReady: false,
    shutdownGraceSeconds: 300,
  },
  /** Pulls query work from the query-scheduler; reads ingesters for recent data and the object store for the rest. */
  querier: {
    target: 'querier',
    kind: 'Deployment',
    objectStore: true,
    ringMember: true,
    headless: false,
    discoveredBeforeReady: false,
    shutdownGraceSeconds: 30,
  },
  /** The query API: splits and caches queries, queues them on the scheduler, proxies tails to queriers. */
  queryFrontend: {
    target: 'query-frontend',
    kind: 'Deployment',
    objectStore: false,
    ringMember: false,
    headless: true,
    discoveredBeforeReady: true,
    shutdownGraceSeconds: 30,
  },
  /** Queues queries between frontends and querier workers. */
  queryScheduler: {
    target: 'query-scheduler',
    kind: 'Deployment',
    objectStore: false,
    ringMember: false,
    headless: true,
    discoveredBeforeReady: true,
    shutdownGraceSeconds: 30,
  },
  /** Serves the tsdb index from the object store to queriers and rulers, with a local cache on its volume. */
  indexGateway: {
    target: 'index-gateway',
    kind: 'StatefulSet',
    objectStore: true,
    ringMember: true,
    headless: true,
    discoveredBeforeReady: false,
    shutdownGraceSeconds: 30,
  },
  /** The singleton that compacts the index, applies retention and serves delete requests. */
  compactor: {
    target: 'compactor',
    kind: 'StatefulSet',
    objectStore: true,
    ringMember: true,
    headless: true,
    discoveredBeforeReady: false,
    shutdownGraceSeconds: 30,
  },
  /** Evaluates LogQL alerting and recording rules kept on the object store; absent when disabled. */
  ruler: {
    target: 'ruler',
    kind: 'StatefulSet',
    objectStore: true,
    ringMember: true,
    headless: true,
    discoveredBeforeReady: false,
    shutdownGraceSeconds: 30,
  },
  /**
   * Finds the patterns of recent log lines (Grafana's Logs Drilldown "Patterns" tab): distributors tee every push to
   * it and queriers ask it, both through its own ring; it keeps them in memory only. Absent when disabled.
   */
  patternIngester: {
    target: 'pattern-ingester',
    kind: 'StatefulSet',
    objectStore: false,
    ringMember: true,
    headless: true,
    discoveredBeforeReady: false,
    shutdownGraceSeconds: 30,
  },
};

export type StatefulComponentName = 'ingester' | 'indexGateway' | 'compactor' | 'ruler' | 'patternIngester';
