// The HTTP face of the test API server: HTTPS, bearer-token authentication, discovery, the REST verbs on
// every served resource (get, list, watch, create, update, patch in its four content types, delete,
// deletecollection, status subresources, namespaces/finalize), pod logs, pod port-forwards (WebSocket), the
// service proxy, and the fault knobs (latency, injected failures, access rules, outages, stalls, webhook
// denials). What a request does to the cluster is in api.ts; this file maps HTTP to it and back.
import { createServer, type Server } from 'node:https';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { text } from 'node:stream/consumers';
import { parse as parseYaml } from 'yaml';
import { Api, type DeleteOptions, type FieldValidation, type WriteOptions, type WriteResult } from './api.js';
import { Cluster, type ClusterOptions } from './controllers/index.js';
import type { Pod } from './controllers/objects.js';
import { Faults, type AdmissionReview, type RequestRecord } from './faults.js';
import { PortForwards } from './portforward.js';
import { Processes } from './processes.js';
import { ServiceProxy } from './proxy.js';
import {
  apiVersionOf,
  discovery,
  openApiDocument,
  openApiRoot,
  resourceByPath,
  servedTypes,
  type CustomResourceGroup,
  type Discovery,
  type ResourceType,
} from './resources.js';
import {
  ApiError,
  badRequest,
  failure,
  internalError,
  methodNotAllowed,
  notAcceptable,
  tooManyRequests,
  unauthorized,
  unsupportedMediaType,
  webhookDenied,
  type StatusBody,
} from './status.js';
import { Store, type KubeObject } from './store.js';
import { toTable } from './table.js';
import { serverCredentials } from './tls.js';
import { serveWatch } from './watch.js';

export interface TestApiServerOptions extends Partial<ClusterOptions> {
  /** Bearer token clients must send. @default a random one */
  token?: string;
  /** Added to every request before it is handled. @default 0 */
  latencyMs?: number;
  /** Fraction of requests answered 500, 429 or a reset connection. @default 0 */
  faultRate?: number;
  /** Seed of the fault sequence. @default 1 */
  seed?: number;
  /**
   * Custom resource groups whose CRDs the cluster has: `monitoring.coreos.com` (PodMonitor, ServiceMonitor,
   * PrometheusRule), `cert-manager.io` (Issuer, ClusterIssuer, Certificate, and a simulated cert-manager).
   * @default [] (a bare cluster: their URLs answer 404)
   */
  crds?: CustomResourceGroup[];
}

/** A parsed resource URL: `/api/v1/namespaces/ns/pods/name/log`, `/apis/apps/v1/deployments`… */
interface ResourcePath {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** After `/proxy/`: the path on the proxied service. */
  rest?: string;
}

type Json = Record<string, unknown>;

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
/** kind's `standard` class (its local-path-provisioner manifest): no allowVolumeExpansion. */
const KIND_STANDARD_CLASS = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'rancher.io/local-path',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
};
const JSON_TYPE = { 'Content-Type': 'application/json' };

export class TestApiServer {
  readonly store = new Store();
  readonly api = new Api(this.store);
  readonly cluster: Cluster;
  readonly faults: Faults;
  readonly token: string;
  /** What answers on the simulated pods' ports (the in-memory Loki of each stack, the fake gateways). */
  readonly processes: Processes;
  /** Pod port-forwards (WebSocket); `portForwards.open` counts the pod-side connections open now. */
  readonly portForwards: PortForwards;
  private readonly proxy: ServiceProxy;
  private readonly served: ResourceType[];
  private readonly discoveryDocuments: Discovery;
  private server: Server | undefined;
  /** Every open TCP connection, TLS handshake done or not (closeAllConnections only knows the former). */
  private readonly sockets = new Set<Socket>();

  constructor(options: TestApiServerOptions = {}) {
    this.token = options.token ?? `test-${Math.random().toString(36).slice(2)}`;
    this.faults = new Faults(options.seed ?? 1);
    this.faults.latencyMs = options.latencyMs ?? 0;
    if (options.faultRate) this.faults.setFaultRate(options.faultRate);
    const crds = options.crds ?? [];
    this.served = servedTypes(crds);
    this.discoveryDocuments = discovery(crds);
    this.cluster = new Cluster(this.api, {
      readyAfterMs: options.readyAfterMs ?? 200,
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
      ...(options.namespaceDeletionDelayMs !== undefined
        ? { namespaceDeletionDelayMs: options.namespaceDeletionDelayMs }
        : {}),
      certManager: crds.includes('cert-manager.io'),
    });
    this.processes = new Processes(this.api, (pod, volume) => this.cluster.secretVolume(pod, volume));
    this.proxy = new ServiceProxy(this.api, this.processes);
    this.portForwards = new PortForwards(this.processes);
    // An outage starts as a crash: every connection is cut, watches and port-forwards included.
    this.faults.onOutage(() => {
      for (const socket of this.sockets) socket.destroy();
      this.portForwards.closeAll();
    });
    // The namespaces kube-apiserver creates when it starts.
    for (const name of SYSTEM_NAMESPACES)
      this.api.create(
        'Namespace',
        undefined,
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { manager: 'kube-apiserver' },
      );
    // kind's default StorageClass: the local-path provisioner, which cannot expand volumes.
    this.api.create('StorageClass', undefined, structuredClone(KIND_STANDARD_CLASS), { manager: 'kubectl-create' });
  }

  /** Let claims of a StorageClass grow (`allowVolumeExpansion`), or not; a class not there yet is created. */
  allowVolumeExpansion(className = 'standard', allowed = true): void {
    const live = this.store.get('StorageClass', undefined, className);
    const body = live ?? { ...structuredClone(KIND_STANDARD_CLASS), metadata: { name: className } };
    const next = { ...structuredClone(body), allowVolumeExpansion: allowed };
    if (live) this.api.replace('StorageClass', undefined, className, next, { manager: 'kubectl-edit' });
    else this.api.create('StorageClass', undefined, next, { manager: 'kubectl-create' });
  }

  /** Listen on 127.0.0.1 (port 0 = a free one); returns the server's URL. */
  async listen(port = 0): Promise<string> {
    const credentials = await serverCredentials();
    this.server = createServer(
      { cert: credentials.certPem, key: credentials.keyPem },
      (request, response) => void this.handle(request, response),
    );
    this.server.on(
      'upgrade',
      (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(request, socket, head),
    );
    this.server.on('connection', (socket: Socket) => {
      // During an outage a connection is reset before anything is said (not even the TLS handshake).
      if (this.faults.inOutage) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.cluster.start();
    return this.url;
  }

  /** TCP connections open now (clients' keep-alive connections, watches and port-forwards included). */
  get openConnections(): number {
    return this.sockets.size;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the test API server is not listening');
    return `https://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.cluster.stop();
    this.faults.endOutage();
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A connection still in its TLS handshake would otherwise be served and then kept alive, holding close
    // up for the keep-alive timeout (a client that gave up on a call leaves such connections behind).
    for (const socket of this.sockets) socket.destroy();
    server.closeAllConnections();
    this.portForwards.closeAll();
    // Stalled requests wake up to find their connection gone, and end there.
    this.faults.releaseStalled();
    await closed;
  }

  /** The knobs' latency and a drawn fault, for a request or an upgrade: true when the connection was reset. */
  private async injectFaults(record: RequestRecord, reset: () => void): Promise<boolean> {
    if (this.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.faults.latencyMs));
    const fault = this.faults.draw(record);
    if (!fault) return false;
    record.fault = fault;
    if (fault === 'reset') {
      reset();
      return true;
    }
    throw fault === 'throttle'
      ? tooManyRequests()
      : internalError('injected fault: the test API server failed this request on purpose');
  }
  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(request.url ?? '/', 'https://localhost');
    const record: RequestRecord = {
      method: request.method ?? 'GET',
      path: url.pathname + url.search,
      status: 0,
      durationMs: 0,
    };
    // Recorded when the head goes out, so that a client that has its answer finds it in the log.
    const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
    response.writeHead = ((...args: unknown[]) => {
      record.status = args[0] as number;
      record.durationMs = Date.now() - started;
      return writeHead(...args);
    }) as typeof response.writeHead;
    this.faults.requests.push(record);
    try {
      if (this.dropInOutage(record, request.socket)) return;
      if (await this.injectFaults(record, () => request.socket.destroy())) return;
      if (request.headers.authorization !== `Bearer ${this.token}`) throw unauthorized();
      // kube-apiserver's authentication filter removes the credentials it accepted, so that nothing behind
      // it (the service proxy's backends) sees them (kubernetes/kubernetes#38775).
      delete request.headers.authorization;
      await this.route(request, response, url);
    } catch (error) {
      if (error === GONE) return;
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const status: StatusBody =
        error instanceof ApiError
          ? error.status
          : internalError(`test API server bug: ${(error as Error).stack ?? String(error)}`).status;
      const headers: Record<string, string> = { ...JSON_TYPE };
      if (status.code === 429) headers['Retry-After'] = '1';
      response.writeHead(status.code ?? 500, headers).end(JSON.stringify(status));
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = request.method ?? 'GET';
    if (method === 'GET') {
      const discovery = this.discovery(path, request.headers.accept);
      if (discovery) {
        response.writeHead(200, JSON_TYPE).end(JSON.stringify(discovery));
        return;
      }
      if (['/healthz', '/readyz', '/livez'].includes(path)) {
        response.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
        return;
      }
    }
    const resource = parseResourcePath(this.served, path);
    if (!resource) throw failure(404, 'NotFound', 'the server could not find the requested resource');
    const verb = verbOf(method, resource, url.searchParams);
    this.checkAccess(verb, resource.type.plural, resource);
    await this.stallIfAsked(verb, resource.type.plural, resource, request.socket);
    if (resource.subresource === 'proxy') return this.serveProxy(request, response, resource, url);
    if (resource.subresource === 'log') return this.serveLog(response, resource, url);
    if (resource.subresource === 'portforward' && resource.type.kind === 'Pod') {
      // What the kubelet's SPDY upgrader answers a request that asks for no upgrade.
      const message = `unable to upgrade: missing upgrade headers in request: ${goHeader(request.headers)}`;
      response
        .writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
        .end(`${message}\n`);
      return;
    }
    if (
      resource.subresource &&
      (!['status', 'finalize'].includes(resource.subresource) ||
        !resource.type.subresources.includes(resource.subresource))
    ) {
      throw failure(404, 'NotFound', 'the server could not find the requested resource');
    }
    // namespaces/finalize only takes updates.
    if (resource.subresource === 'finalize' && verb !== 'update') throw methodNotAllowed();
    const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? await text(request) : '';
    const result = this.serveResource(method, verb, resource, url.searchParams, request.headers, body, response);
    if (result) this.send(response, result.status, result.body, result.warnings, request.headers.accept);
  }

  /** During an outage: drop the connection without an answer (true when it was dropped). */
  private dropInOutage(record: RequestRecord, socket: Duplex): boolean {
    if (!this.faults.inOutage) return false;
    record.fault = 'outage';
    socket.destroy();
    return true;
  }

  /**
   * A request a stall rule matches waits, unanswered, until the stall is released; then it goes on if its
   * client is still connected (and the server still running), else it ends without a word.
   */
  private async stallIfAsked(verb: string, resource: string, path: ResourcePath, socket: Duplex): Promise<void> {
    if (!this.faults.isStalled(verb, resource, path.namespace)) return;
    await this.faults.hold();
    if (socket.destroyed || !this.server) throw GONE;
  }

  /** 403 as RBAC words it, for requests an access rule forbids (`resource` may name a subresource: `pods/portforward`). */
  private checkAccess(verb: string, resource: string, path: ResourcePath): void {
    if (!this.faults.isForbidden(verb, resource, path.namespace)) return;
    const { type, name, namespace } = path;
    const what = `${type.plural}${type.group ? `.${type.group}` : ''}${name ? ` "${name}"` : ''}`;
    const scope = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
    throw failure(
      403,
      'Forbidden',
      `${what} is forbidden: User "system:serviceaccount:test:client" cannot ${verb} resource "${resource}" in API group "${type.group}"${scope}`,
      {
        ...(name ? { name } : {}),
        ...(type.group ? { group: type.group } : {}),
        kind: type.plural,
      },
    );
  }

  /**
   * A WebSocket upgrade: only `pods/<pod>/portforward` is served (the channel protocol client-node speaks,
   * portforward.ts). Authentication, faults and errors as for any request; errors before the upgrade are
   * written as plain HTTP responses on the socket.
   */
  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = Date.now();
    const url = new URL(request.url ?? '/', 'https://localhost');
    const record: RequestRecord = {
      method: request.method ?? 'GET',
      path: url.pathname + url.search,
      status: 0,
      durationMs: 0,
    };
    this.faults.requests.push(record);
    const answer = (status: number, body: string, contentType = 'application/json') => {
      record.status = status;
      record.durationMs = Date.now() - started;
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
    };
    socket.on('error', () => socket.destroy());
    try {
      if (this.dropInOutage(record, socket)) return;
      if (await this.injectFaults(record, () => socket.destroy())) return;
      if (request.headers.authorization !== `Bearer ${this.token}`) throw unauthorized();
      delete request.headers.authorization;
      const resource = parseResourcePath(this.served, url.pathname.replace(/\/+$/, ''));
      if (
        !resource ||
        resource.type.kind !== 'Pod' ||
        resource.subresource !== 'portforward' ||
        !resource.namespace ||
        request.method !== 'GET'
      ) {
        throw failure(404, 'NotFound', 'the server could not find the requested resource');
      }
      this.checkAccess('create', 'pods/portforward', resource);
      await this.stallIfAsked('create', 'pods/portforward', resource, socket);
      const pod = this.api.get('Pod', resource.namespace, resource.name!) as Pod;
      const outcome = this.portForwards.upgrade(request, socket, head, pod, url.searchParams);
      if ('body' in outcome) answer(outcome.status, outcome.body, 'text/plain; charset=utf-8');
      else {
        record.status = 101;
        record.durationMs = Date.now() - started;
      }
    } catch (error) {
      if (error === GONE) return;
      const status: StatusBody =
        error instanceof ApiError
          ? error.status
          : internalError(`test API server bug: ${(error as Error).stack ?? String(error)}`).status;
      answer(status.code ?? 500, JSON.stringify(status));
    }
  }

  private discovery(path: string, accept: string | undefined): unknown {
    const { version, api, apis, groupVersions } = this.discoveryDocuments;
    const documents: Record<string, unknown> = {
      '/version': version,
      '/api': api,
      '/apis': apis,
      ...prefixed(groupVersions),
    };
    const document =
      documents[path] ??
      (path === '/openapi/v3'
        ? openApiRoot(this.served)
        : path.startsWith('/openapi/v3/')
          ? openApiDocument(this.served, path.slice('/openapi/v3/'.length))
          : undefined);
    if (!document) return undefined;
    // Aggregated discovery alone is refused as a 1.24 server does; clients then fall back (transcripts 07-08).
    if (
      accept &&
      accept.includes('as=APIGroupDiscoveryList') &&
      !/(^|,)\s*application\/json\s*(;\s*q=[\d.]+)?\s*(,|$)/.test(accept)
    )
      throw notAcceptable();
    return document;
  }

  private serveResource(
    method: string,
    verb: string,
    resource: ResourcePath,
    query: URLSearchParams,
    headers: IncomingMessage['headers'],
    body: string,
    response: ServerResponse,
  ): { status: number; body: unknown; warnings?: string[] } | undefined {
    const { type, namespace, name } = resource;
    const admission = this.admission(verb, resource, headers['content-type'], body);
    const options: WriteOptions = {
      ...writeOptions(query, resource.subresource),
      ...(admission ? { validatingAdmission: admission } : {}),
    };
    const deletion = (): DeleteOptions => ({
      ...deleteOptions(query, body),
      ...(admission ? { validatingAdmission: (old: KubeObject) => admission(undefined, old) } : {}),
    });
    switch (verb) {
      case 'get':
        return { status: 200, body: this.api.get(type.kind, namespace, name!) };
      case 'list':
        return { status: 200, body: this.listBody(type, namespace, query, headers.accept) };
      case 'watch':
        serveWatch(
          this.api,
          {
            type,
            namespace,
            labelSelector: query.get('labelSelector'),
            fieldSelector: query.get('fieldSelector'),
            resourceVersion: query.get('resourceVersion'),
            timeoutSeconds: query.has('timeoutSeconds') ? Number(query.get('timeoutSeconds')) : undefined,
            allowBookmarks: query.get('allowWatchBookmarks') === 'true',
          },
          response,
        );
        return undefined;
      case 'create':
        return written(this.api.create(type.kind, namespace, decodeJson(body) as KubeObject, options));
      case 'update':
        return written(this.api.update(type.kind, namespace, name!, decodeJson(body) as KubeObject, options));
      case 'patch':
        return written(this.patch(type, namespace, name!, headers['content-type'] ?? '', body, query, options));
      case 'delete': {
        const result = this.api.delete(type.kind, namespace, name!, deletion());
        return { status: 200, body: 'object' in result ? result.object : result.status };
      }
      case 'deletecollection': {
        const items = this.api.deleteCollection(
          type.kind,
          namespace,
          { labelSelector: query.get('labelSelector'), fieldSelector: query.get('fieldSelector') },
          deletion(),
        );
        return { status: 200, body: listOf(type, items, this.store.resourceVersion) };
      }
      default:
        void method;
        throw methodNotAllowed();
    }
  }

  /**
   * The simulated validating webhook of a `deny` rule that matches this write: it refuses with the rule's
   * message, computed from the decoded request body and what a webhook is shown.
   */
  private admission(
    verb: string,
    resource: ResourcePath,
    contentType: string | undefined,
    body: string,
  ): ((object: KubeObject | undefined, old: KubeObject | undefined) => void) | undefined {
    const denial = this.faults.denial(verb, resource.type.plural, resource.namespace);
    if (!denial) return undefined;
    return (object, old) => {
      const name = object?.metadata.name ?? old?.metadata.name ?? resource.name ?? '';
      const review: AdmissionReview = {
        verb,
        resource: resource.type.plural,
        namespace: resource.namespace,
        name,
        object,
        oldObject: old,
      };
      throw webhookDenied(
        denial.webhook,
        denial.message(decodeForWebhook(contentType, body), review),
        denial.code,
        denial.reason,
      );
    };
  }

  private patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: string,
    query: URLSearchParams,
    options: WriteOptions,
  ): WriteResult {
    const mediaType = contentType.split(';')[0]!.trim();
    switch (mediaType) {
      case 'application/apply-patch+yaml': {
        const manager = query.get('fieldManager');
        if (!manager)
          throw failure(
            422,
            'Invalid',
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
          );
        return this.api.apply(type.kind, namespace, name, decodeYaml(body) as KubeObject, {
          ...options,
          manager,
          force: query.get('force') === 'true',
        });
      }
      case 'application/merge-patch+json':
      case 'application/strategic-merge-patch+json':
        return this.api.mergePatch(
          type.kind,
          namespace,
          name,
          decodeJson(body) as Json,
          options,
          mediaType.startsWith('application/strategic'),
        );
      case 'application/json-patch+json':
        return this.api.jsonPatch(type.kind, namespace, name, decodeJson(body) as never, options);
      default:
        throw unsupportedMediaType(contentType);
    }
  }

  private listBody(
    type: ResourceType,
    namespace: string | undefined,
    query: URLSearchParams,
    accept: string | undefined,
  ): unknown {
    const all = this.api.list(type.kind, namespace, {
      labelSelector: query.get('labelSelector'),
      fieldSelector: query.get('fieldSelector'),
    });
    const limit = Number(query.get('limit') ?? 0);
    const start = query.get('continue') ? decodeContinue(query.get('continue')!) : 0;
    const items = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const more = limit > 0 && start + limit < all.length;
    if (accept?.includes('as=Table')) return toTable(type.kind, items, this.store.resourceVersion, new Date());
    const list = listOf(type, items, this.store.resourceVersion) as { metadata: Json };
    if (more) list.metadata.continue = Buffer.from(JSON.stringify({ start: start + limit })).toString('base64');
    return list;
  }

  private async serveProxy(
    request: IncomingMessage,
    response: ServerResponse,
    resource: ResourcePath,
    url: URL,
  ): Promise<void> {
    if (resource.type.kind !== 'Service' || !resource.namespace)
      throw failure(404, 'NotFound', 'the server could not find the requested resource');
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([key, value]) => [
        key.toLowerCase(),
        Array.isArray(value) ? value.join(',') : value,
      ]),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = await this.proxy.handle({
      method: request.method ?? 'GET',
      namespace: resource.namespace,
      target: resource.name!,
      path: `/${resource.rest ?? ''}`,
      query: url.searchParams,
      headers,
      body: Buffer.concat(chunks),
    });
    response.writeHead(answer.status, answer.headers).end(answer.body);
  }

  private serveLog(response: ServerResponse, resource: ResourcePath, url: URL): void {
    if (resource.type.kind !== 'Pod')
      throw failure(404, 'NotFound', 'the server could not find the requested resource');
    const pod = this.api.get('Pod', resource.namespace, resource.name!);
    const containers = (((pod.spec as Json).containers ?? []) as { name: string }[]).map((c) => c.name);
    const container = url.searchParams.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container)
      throw badRequest(
        `a container name must be specified for pod ${resource.name}, choose one of: [${containers.join(' ')}]`,
      );
    const tail = url.searchParams.has('tailLines') ? Number(url.searchParams.get('tailLines')) : undefined;
    response
      .writeHead(200, { 'Content-Type': 'text/plain' })
      .end(this.cluster.logs(resource.namespace!, resource.name!, container, tail));
  }

  private send(
    response: ServerResponse,
    status: number,
    body: unknown,
    warnings: string[] = [],
    accept?: string,
  ): void {
    const headers: Record<string, string | string[]> = { ...JSON_TYPE };
    // RFC 7234 warn-text: a quoted string with backslash escapes, as the API server sends it.
    if (warnings.length > 0)
      headers.Warning = warnings.map((warning) => `299 - "${warning.replace(/[\\"]/g, '\\$&')}"`);
    if (
      accept?.includes('as=Table') &&
      body &&
      typeof body === 'object' &&
      (body as Json).kind !== 'Table' &&
      (body as Json).metadata &&
      !(body as Json).items
    ) {
      const object = body as KubeObject;
      body = toTable(object.kind ?? '', [object], this.store.resourceVersion, new Date());
    }
    response.writeHead(status, headers).end(JSON.stringify(body));
  }
}

function prefixed(groupVersions: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(groupVersions).map(([groupVersion, document]) => [
      groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`,
      document,
    ]),
  );
}

function parseResourcePath(served: readonly ResourceType[], path: string): ResourcePath | undefined {
  const parts = path.split('/').filter(Boolean);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) [group, version, rest] = ['', parts[1]!, parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 4) [group, version, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  // `namespaces/<ns>/<plural>…` is namespaced; `namespaces/<name>[/status]` is the Namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const type = resourceByPath(served, group, version, rest[0]!);
  if (!type || (namespace !== undefined && !type.namespaced)) return undefined;
  return {
    type,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(rest[1] !== undefined ? { name: decodeURIComponent(rest[1]) } : {}),
    ...(rest[2] !== undefined ? { subresource: rest[2] } : {}),
    ...(rest[2] === 'proxy' ? { rest: rest.slice(3).join('/') } : {}),
  };
}

/** Go's %#v of an http.Header, as the kubelet prints request headers in its upgrade error. */
function goHeader(headers: IncomingMessage['headers']): string {
  const canonical = (name: string) =>
    name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
  const entries = Object.entries(headers)
    .map(([name, value]) => [canonical(name), Array.isArray(value) ? value : [value ?? '']] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, values]) => `${JSON.stringify(name)}:[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`);
  return `http.Header{${entries.join(', ')}}`;
}

function verbOf(method: string, resource: ResourcePath, query: URLSearchParams): string {
  const collection = resource.name === undefined;
  switch (method) {
    case 'GET':
      return collection ? (['1', 'true'].includes(query.get('watch') ?? '') ? 'watch' : 'list') : 'get';
    case 'POST':
      return collection ? 'create' : 'unsupported';
    case 'PUT':
      return collection ? 'unsupported' : 'update';
    case 'PATCH':
      return collection ? 'unsupported' : 'patch';
    case 'DELETE':
      return collection ? 'deletecollection' : 'delete';
    default:
      return 'unsupported';
  }
}

function writeOptions(query: URLSearchParams, subresource: string | undefined): WriteOptions {
  const validation = query.get('fieldValidation');
  return {
    manager: query.get('fieldManager') ?? 'unknown',
    dryRun: query.get('dryRun') === 'All',
    ...(validation ? { fieldValidation: validation as FieldValidation } : {}),
    ...(subresource === 'status' || subresource === 'finalize' ? { subresource } : {}),
  };
}

function deleteOptions(query: URLSearchParams, body: string): DeleteOptions {
  const fromBody = body.trim() ? (decodeJson(body) as DeleteOptions & { dryRun?: string[] | boolean }) : {};
  const policy = query.get('propagationPolicy') ?? fromBody.propagationPolicy;
  const grace = query.get('gracePeriodSeconds') ?? fromBody.gracePeriodSeconds;
  const dryRun = query.get('dryRun') === 'All' || (Array.isArray(fromBody.dryRun) && fromBody.dryRun.includes('All'));
  const preconditions =
    fromBody.preconditions && typeof fromBody.preconditions === 'object' ? fromBody.preconditions : undefined;
  return {
    ...(policy ? { propagationPolicy: policy as DeleteOptions['propagationPolicy'] } : {}),
    ...(grace !== undefined && grace !== null ? { gracePeriodSeconds: Number(grace) } : {}),
    ...(dryRun ? { dryRun } : {}),
    ...(preconditions ? { preconditions } : {}),
  };
}

/** The request body as a webhook's author would read it: JSON, the YAML of an apply, or the text itself. */
function decodeForWebhook(contentType: string | undefined, body: string): unknown {
  if (!body.trim()) return undefined;
  try {
    return contentType?.startsWith('application/apply-patch+yaml') ? parseYaml(body) : JSON.parse(body);
  } catch {
    return body;
  }
}

/** Thrown when a request's client went away while it was held: it ends without an answer. */
const GONE = Symbol('the client is gone');

function written(result: WriteResult): { status: number; body: unknown; warnings: string[] } {
  return { status: result.created ? 201 : 200, body: result.object, warnings: result.warnings };
}

function listOf(type: ResourceType, items: KubeObject[], resourceVersion: string): unknown {
  // List items carry no kind or apiVersion of their own (transcripts 35-44).
  return {
    kind: `${type.kind}List`,
    apiVersion: apiVersionOf(type),
    metadata: { resourceVersion },
    items: items.map(({ kind: _k, apiVersion: _a, ...item }) => item),
  };
}

function decodeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw badRequest(`error decoding the request body: ${(error as Error).message}`);
  }
}

function decodeYaml(body: string): unknown {
  try {
    // JSON is YAML, and what most clients send; parsing it as YAML costs ten times more.
    if (body.trimStart().startsWith('{')) {
      try {
        return JSON.parse(body);
      } catch {
        // not JSON after all: YAML decides
      }
    }
    return parseYaml(body);
  } catch (error) {
    throw badRequest(`error decoding YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

function decodeContinue(token: string): number {
  try {
    return (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { start: number }).start;
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data');
  }
}
