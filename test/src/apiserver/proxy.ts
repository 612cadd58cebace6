// The service proxy (`/api/v1/namespaces/<ns>/services/<svc>[:<port>]/proxy/<path>`), which tools use to
// reach in-cluster services from outside without port-forwarding. A Service with no ready endpoint answers
// 503 as Kubernetes does (transcript 54). Behind the Services of a Loki stack sits one in-memory Loki per
// stack (loki/), so that a push to the distributor can be read back through the query-frontend; each
// component answers only the paths that Loki target serves. Other Services have no process behind them.
import { parse } from 'yaml';
import type { Api } from './api.js';
import { FakeLoki } from './loki/index.js';
import { resourceByKind } from './resources.js';
import { failure, notFound, serviceUnavailable } from './status.js';
import type { KubeObject } from './store.js';

export interface ProxyRequest {
  method: string;
  namespace: string;
  /** `<service>` or `<service>:<port name or number>`. */
  target: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Json = Record<string, unknown>;

/** Paths each Loki target serves (its HTTP API in microservices mode). */
const LOKI_ROUTES: Record<string, RegExp> = {
  distributor: /^\/loki\/api\/v1\/push$/,
  'query-frontend': /^\/loki\/api\/v1\/(query|query_range|labels|label\/[^/]+\/values|series|index\/stats)$/,
  querier: /^\/loki\/api\/v1\/(query|query_range|labels|label\/[^/]+\/values|series|index\/stats)$/,
};
const EVERY_TARGET = /^\/(ready|metrics|loki\/api\/v1\/status\/buildinfo)$/;

export class ServiceProxy {
  private readonly lokis = new Map<string, FakeLoki>();

  constructor(private readonly api: Api) {}

  handle(request: ProxyRequest): ProxyResponse {
    const [serviceName, port] = request.target.split(':') as [string, string | undefined];
    const service = this.api.store.get('Service', request.namespace, serviceName);
    if (!service) throw notFound(resourceByKind('Service'), serviceName);
    const ports = ((service.spec as Json).ports ?? []) as { name?: string; port: number }[];
    const servicePort = port === undefined ? ports[0] : ports.find((p) => p.name === port || String(p.port) === port);
    const endpoints = this.api.store.get('Endpoints', request.namespace, serviceName);
    const ready = ((endpoints?.subsets ?? []) as { addresses?: { ip: string }[] }[]).flatMap((subset) => subset.addresses ?? []);
    if (!servicePort || ready.length === 0) throw serviceUnavailable(`no endpoints available for service "${serviceName}"`);

    const labels = service.metadata.labels ?? {};
    const component = labels['app.kubernetes.io/component'] ?? '';
    if (labels['app.kubernetes.io/name'] !== 'loki') {
      throw failure(502, undefined, `error trying to reach service: dial tcp ${ready[0]!.ip}:${servicePort.port}: connect: connection refused`);
    }
    if (!EVERY_TARGET.test(request.path) && !LOKI_ROUTES[component]?.test(request.path)) {
      return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: '404 page not found\n' };
    }
    const loki = this.lokiFor(service);
    const answer = loki.handle({ method: request.method, path: request.path, query: request.query, headers: request.headers, body: request.body });
    return { status: answer.status, headers: answer.headers, body: answer.body };
  }

  /** One Loki per stack (namespace + instance label), multi-tenant when the stack's config says so. */
  private lokiFor(service: KubeObject): FakeLoki {
    const instance = service.metadata.labels?.['app.kubernetes.io/instance'] ?? '';
    const key = `${service.metadata.namespace}/${instance}`;
    let loki = this.lokis.get(key);
    if (!loki) {
      const config = this.api.store.get('ConfigMap', service.metadata.namespace, `${instance}-config`);
      const lokiConfig = config ? (parse(String((config.data as Json | undefined)?.['config.yaml'] ?? '')) as Json | null) : null;
      const version = service.metadata.labels?.['app.kubernetes.io/version'];
      loki = new FakeLoki({ authEnabled: lokiConfig?.auth_enabled === true, ...(version ? { version } : {}) });
      this.lokis.set(key, loki);
    }
    return loki;
  }
}
