// The service proxy (`/api/v1/namespaces/<ns>/services/<svc>[:<port>]/proxy/<path>`), which tools use to
// reach in-cluster services from outside without port-forwarding. As kube-apiserver does, it picks a ready
// endpoint of the Service port at random and sends the request to that pod's port, where processes.ts says
// what answers (the stack's in-memory Loki, the fake gateway). A Service with no ready endpoint answers 503
// (transcript 54); a pod port nothing listens on answers 502, as a refused connection does. The request
// arrives without the caller's Authorization header (server.ts removes it after authenticating).
import type { Api } from './api.js';
import type { Processes } from './processes.js';
import { resourceByKind } from './resources.js';
import { failure, notFound, serviceUnavailable } from './status.js';

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

export class ServiceProxy {
  constructor(
    private readonly api: Api,
    private readonly processes: Processes,
  ) {}

  async handle(request: ProxyRequest): Promise<ProxyResponse> {
    const [serviceName, port] = request.target.split(':') as [string, string | undefined];
    if (!this.api.store.get('Service', request.namespace, serviceName))
      throw notFound(resourceByKind('Service'), serviceName);
    const endpoint = this.processes.endpoint(request.namespace, serviceName, port);
    if ('unavailable' in endpoint) throw serviceUnavailable(endpoint.unavailable);
    const listener = this.processes.listener(endpoint.pod, endpoint.port);
    if (!listener)
      throw failure(
        502,
        undefined,
        `error trying to reach service: dial tcp ${endpoint.ip}:${endpoint.port}: connect: connection refused`,
      );
    const { method, path, query, headers, body } = request;
    return listener({ method, path, query, headers, body });
  }
}
