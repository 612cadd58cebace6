// What answers on the simulated pods' ports: the stand-ins for the programs a stack's pods run. Both ways
// into a pod go through here, the service proxy (proxy.ts, through a ready endpoint of the Service) and
// pod port-forwards (portforward.ts), so they reach the same process with the same behaviour:
// - Loki pods (`app.kubernetes.io/name: loki`) answer HTTP on their `http-metrics` port (3100), all of a
//   stack's pods backed by one in-memory Loki (loki/), each answering only the paths its Loki target
//   serves (the patterns API only while a pattern-ingester pod runs, see loki/), plus small `/config`,
//   `/services` and ring pages; the ingester ring page (`/ring`) answers
//   `Accept: application/json` as dskit's ring page does (`{shards: [{id, state, address, ...}], now}`), listing
//   the stack's running ingester pods ACTIVE unless `setRingState` says otherwise; ruler pods answer the rules
//   API (`/prometheus/api/v1/rules`) from the rule files mounted into the pod (loki/rules.ts): the ConfigMap
//   volumes its loki container mounts under `ruler.storage.local.directory`, read as the kubelet would;
// - gateway pods (`app.kubernetes.io/name: nginx`, component `gateway`) answer on their `http` port (8080)
//   as the stack's nginx gateway does (gateway.ts).
// Any other port, declared or not, has nothing listening: connecting to it is refused.
import { parse } from 'yaml';
import type { Api } from './api.js';
import type { Pod } from './controllers/objects.js';
import { serveGateway, type UserFile } from './gateway.js';
import { FakeLoki, type LokiRequest, type LokiResponse, type PatternIngesters } from './loki/index.js';
import { ruleGroups, type RuleFile } from './loki/rules.js';
import type { KubeObject } from './store.js';

export type HttpRequest = LokiRequest;
export type HttpResponse = LokiResponse;
/** An HTTP server behind a pod's port. */
export type Listener = (request: HttpRequest) => Promise<HttpResponse>;

/** A ready address of a Service port: the pod behind it and the port the traffic goes to. */
export interface Endpoint {
  pod: Pod;
  ip: string;
  port: number;
}

/** The files of a pod's Secret volume as its containers see them (undefined: the pod has no such volume mounted). */
export type SecretVolume = (pod: Pod, volume: string) => Record<string, Buffer> | undefined;

type Json = Record<string, unknown>;

/** Paths each Loki target serves (its HTTP API in microservices mode). */
const LOKI_ROUTES: Record<string, RegExp> = {
  distributor: /^\/loki\/api\/v1\/push$/,
  'query-frontend': /^\/loki\/api\/v1\/(query|query_range|labels|label\/[^/]+\/values|series|index\/stats|patterns)$/,
  querier: /^\/loki\/api\/v1\/(query|query_range|labels|label\/[^/]+\/values|series|index\/stats|patterns)$/,
};
const EVERY_TARGET = /^\/(ready|metrics|loki\/api\/v1\/status\/buildinfo)$/;
/** Ring pages: which targets have them. */
const RING_PAGES: Record<string, readonly string[]> = {
  '/ring': ['distributor', 'ingester', 'querier', 'ruler'],
  '/distributor/ring': ['distributor'],
};

const LOKI_PORT = { name: 'http-metrics', port: 3100 };
const GATEWAY_PORT = { name: 'http', port: 8080 };
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

export class Processes {
  private readonly lokis = new Map<string, FakeLoki>();
  /** Ring states set by tests, by `namespace/pod`. */
  private readonly ringStates = new Map<string, string>();

  constructor(
    private readonly api: Api,
    private readonly secretVolume: SecretVolume,
  ) {}

  /** The HTTP server listening on `port` of `pod`, or undefined when nothing does (the connection is refused). */
  listener(pod: Pod, port: number): Listener | undefined {
    const labels = pod.metadata.labels ?? {};
    const declared = pod.spec.containers
      .flatMap((container) => container.ports ?? [])
      .find((candidate) => candidate.containerPort === port);
    if (!declared) return undefined;
    const named = (expected: { name: string; port: number }) =>
      declared.name === expected.name || (declared.name === undefined && port === expected.port);
    if (labels['app.kubernetes.io/name'] === 'loki' && named(LOKI_PORT))
      return async (request) => this.serveLoki(pod, request);
    if (
      labels['app.kubernetes.io/name'] === 'nginx' &&
      labels['app.kubernetes.io/component'] === 'gateway' &&
      named(GATEWAY_PORT)
    ) {
      return (request) => this.serveGateway(pod, request);
    }
    return undefined;
  }

  /**
   * A ready endpoint of a Service port, picked as the API server's service proxy picks one: `port` names
   * the Service port (a number is looked up among the Service's ports; none means the unnamed port), and a
   * random ready address of a subset with that port is taken. A string says why there is none.
   */
  endpoint(namespace: string, serviceName: string, port: string | undefined): Endpoint | { unavailable: string } {
    const service = this.api.store.get('Service', namespace, serviceName);
    const ports = ((service?.spec as Json | undefined)?.ports ?? []) as { name?: string; port: number }[];
    let portName = port ?? '';
    if (/^\d+$/.test(portName)) {
      const byNumber = ports.find((candidate) => String(candidate.port) === portName);
      if (!byNumber) return { unavailable: `no service port ${portName} found for service "${serviceName}"` };
      portName = byNumber.name ?? '';
    }
    const endpoints = this.api.store.get('Endpoints', namespace, serviceName);
    const subsets = (endpoints?.subsets ?? []) as {
      addresses?: { ip: string; targetRef?: { name: string } }[];
      ports?: { name?: string; port: number }[];
    }[];
    for (const subset of shuffled(subsets)) {
      const subsetPort = subset.ports?.find((candidate) => (candidate.name ?? '') === portName);
      if (!subsetPort) continue;
      for (const address of shuffled(subset.addresses ?? [])) {
        const pod =
          address.targetRef && (this.api.store.get('Pod', namespace, address.targetRef.name) as Pod | undefined);
        if (pod?.status?.podIP === address.ip) return { pod, ip: address.ip, port: subsetPort.port };
      }
    }
    return { unavailable: `no endpoints available for service "${serviceName}"` };
  }

  /**
   * The state the ingester ring gives a pod (`JOINING`, `LEAVING`, `UNHEALTHY`…) instead of ACTIVE; `undefined`
   * puts it back; `null` leaves it out of the ring.
   */
  setRingState(namespace: string, pod: string, state: string | null | undefined): void {
    if (state === undefined) this.ringStates.delete(`${namespace}/${pod}`);
    else this.ringStates.set(`${namespace}/${pod}`, state ?? '');
  }

  /** The in-memory Loki of a stack (namespace + instance label), multi-tenant when the stack's config says so. */
  loki(namespace: string, instance: string, version?: string): FakeLoki {
    const key = `${namespace}/${instance}`;
    let loki = this.lokis.get(key);
    if (!loki) {
      loki = new FakeLoki({
        authEnabled: this.lokiConfig(namespace, instance)?.auth_enabled === true,
        ...(version ? { version } : {}),
        patternIngesters: () => this.patternIngesters(namespace, instance),
      });
      this.lokis.set(key, loki);
    }
    return loki;
  }

  /** The stack's pattern ingesters as its Loki config and its running pattern-ingester pods say. */
  private patternIngesters(namespace: string, instance: string): PatternIngesters {
    const config = this.lokiConfig(namespace, instance)?.pattern_ingester as Json | undefined;
    if (config?.enabled !== true) return 'disabled';
    const pods = this.api.list('Pod', namespace, {
      labelSelector: `app.kubernetes.io/instance=${instance},app.kubernetes.io/component=pattern-ingester`,
    }) as Pod[];
    const running = pods.some(
      (pod) => !pod.metadata.deletionTimestamp && pod.status?.podIP && pod.status.phase === 'Running',
    );
    return running ? 'running' : 'none';
  }

  private lokiConfig(namespace: string, instance: string): Json | null {
    const config = this.api.store.get('ConfigMap', namespace, `${instance}-config`);
    return config ? (parse(String((config.data as Json | undefined)?.['config.yaml'] ?? '')) as Json | null) : null;
  }

  private serveLoki(pod: Pod, request: HttpRequest): HttpResponse {
    const labels = pod.metadata.labels ?? {};
    const component = labels['app.kubernetes.io/component'] ?? '';
    const namespace = pod.metadata.namespace ?? '';
    const instance = labels['app.kubernetes.io/instance'] ?? '';
    if (request.path === '/ring' && RING_PAGES['/ring']!.includes(component) && wantsJson(request))
      return this.ingesterRing(namespace, instance);
    if (component === 'ruler' && request.path === '/prometheus/api/v1/rules') return this.rulerRules(pod, request);
    const page = lokiPage(request.path, component, () =>
      this.api.store.get('ConfigMap', namespace, `${instance}-config`),
    );
    if (page) return page;
    if (!EVERY_TARGET.test(request.path) && !LOKI_ROUTES[component]?.test(request.path)) {
      return { status: 404, headers: { ...TEXT }, body: '404 page not found\n' };
    }
    return this.loki(namespace, instance, labels['app.kubernetes.io/version']).handle(request);
  }

  /** The ruler's rules API for the request's tenant (Loki's auth middleware first, as for every tenant route). */
  private rulerRules(pod: Pod, request: HttpRequest): HttpResponse {
    if (request.method !== 'GET') return { status: 405, headers: {}, body: '' };
    const namespace = pod.metadata.namespace ?? '';
    const config = this.lokiConfig(namespace, pod.metadata.labels?.['app.kubernetes.io/instance'] ?? '');
    const tenant = config?.auth_enabled === true ? request.headers['x-scope-orgid'] : 'fake';
    if (!tenant) return { status: 401, headers: { ...TEXT }, body: 'no org id\n' };
    const storage = ((config?.ruler as Json | undefined)?.storage ?? {}) as {
      type?: string;
      local?: { directory?: string };
    };
    const directory = storage.type === 'local' ? storage.local?.directory : undefined;
    const files = directory ? this.mountedRuleFiles(pod, `${directory}/${tenant}`) : [];
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'success', data: { groups: ruleGroups(files) } }),
    };
  }

  /** The files of the ConfigMap volumes the pod's loki container mounts at `directory`, as the kubelet writes them. */
  private mountedRuleFiles(pod: Pod, directory: string): RuleFile[] {
    const container = pod.spec.containers.find((candidate) => candidate.name === 'loki');
    return (container?.volumeMounts ?? [])
      .filter((mount) => mount.mountPath === directory && !mount.subPath)
      .flatMap((mount) => {
        const volume = (pod.spec.volumes ?? []).find((candidate) => candidate.name === mount.name);
        const name = (volume?.configMap as { name?: string } | undefined)?.name;
        const configMap = name ? this.api.store.get('ConfigMap', pod.metadata.namespace, name) : undefined;
        return Object.entries((configMap?.data ?? {}) as Record<string, string>).map(([name, text]) => ({
          name,
          text,
        }));
      });
  }

  /** dskit's ring page in JSON (ring/http.go `httpResponse`): the stack's running ingester pods, by name. */
  private ingesterRing(namespace: string, instance: string): HttpResponse {
    const now = new Date().toISOString();
    const shards = (
      this.api.list('Pod', namespace, {
        labelSelector: `app.kubernetes.io/instance=${instance},app.kubernetes.io/name=loki`,
      }) as Pod[]
    )
      .filter(
        (pod) =>
          (pod.metadata.labels?.['app.kubernetes.io/component'] ?? '').startsWith('ingester') &&
          !pod.metadata.deletionTimestamp &&
          pod.status?.podIP &&
          pod.status.phase === 'Running',
      )
      .map((pod) => ({ pod, state: this.ringStates.get(`${namespace}/${pod.metadata.name}`) ?? 'ACTIVE' }))
      .filter(({ state }) => state !== '')
      .sort((a, b) => a.pod.metadata.name.localeCompare(b.pod.metadata.name))
      .map(({ pod, state }) => ({
        id: pod.metadata.name,
        state,
        address: `${pod.status!.podIP}:9095`,
        timestamp: now,
        registered_timestamp: pod.status?.startTime ?? now,
        zone: '',
        tokens: [],
      }));
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: `${JSON.stringify({ shards, now })}\n`,
    };
  }

  private serveGateway(pod: Pod, request: HttpRequest): Promise<HttpResponse> {
    const namespace = pod.metadata.namespace ?? '';
    const instance = pod.metadata.labels?.['app.kubernetes.io/instance'] ?? '';
    const files = this.secretVolume(pod, 'htpasswd');
    return serveGateway(request, {
      multiTenant: this.lokiConfig(namespace, instance)?.auth_enabled === true,
      userFile: (name: UserFile) => files?.[name]?.toString('utf8'),
      upstream: (component) => {
        const endpoint = this.endpoint(namespace, `${instance}-${component}`, LOKI_PORT.name);
        return 'pod' in endpoint ? this.listener(endpoint.pod, endpoint.port) : undefined;
      },
    });
  }
}

/** The pages every Loki target serves besides its API: the running config, the service states, ring pages. */
function lokiPage(path: string, component: string, config: () => KubeObject | undefined): HttpResponse | undefined {
  const text = (body: string) => ({ status: 200, headers: { ...TEXT }, body });
  if (path === '/config') return text(String(((config()?.data ?? {}) as Json)['config.yaml'] ?? ''));
  if (path === '/services') return text(`${component} => Running\nserver => Running\nmemberlist-kv => Running\n`);
  if (path === '/memberlist')
    return text(`Memberlist of ${component}: this pod is a member; the test double keeps no member list.\n`);
  if (RING_PAGES[path]?.includes(component))
    return text(
      `${path === '/ring' ? 'Ingester' : 'Distributor'} ring, as seen by the ${component}: the test double keeps no ring.\n`,
    );
  return undefined;
}

const wantsJson = (request: HttpRequest) =>
  (request.headers.accept ?? request.headers.Accept ?? '').includes('application/json');

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
