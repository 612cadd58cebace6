// The HTTP server: plain HTTP on 127.0.0.1 as a Nomad agent serves it by default, JSON answers,
// plain-text errors, the index headers of blocking queries, and a log of requests (method and path
// only: headers, where the token travels, are never kept).
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { text } from 'node:stream/consumers';
import { Cluster, type ClusterSettings } from './cluster.js';
import { Endpoints, type Reply } from './endpoints.js';
import { NomadError } from './errors.js';
import { clone, type Json } from './json.js';
import { GROUP_BEHAVIOURS, type GroupBehaviour } from './model.js';

export interface NomadApiServerOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  /** When set, ACLs are on: requests must send it as X-Nomad-Token or `Authorization: Bearer`. */
  aclToken?: string;
  /** @default ['default'] */
  namespaces?: string[];
  /** @default 'global' */
  region?: string;
  /** Client nodes, all in datacenter `datacenter`. @default 3 */
  nodes?: number;
  /** @default 'dc1' */
  datacenter?: string;
  /** Placement to running. @default 50 */
  runDelayMs?: number;
  /** Running to healthy (min_healthy_time). @default 50 */
  healthyDelayMs?: number;
  /** Placement to unhealthy when health never comes (healthy_deadline). @default 300 */
  healthyDeadlineMs?: number;
  /** A non-zero progress_deadline. @default 1000 */
  progressDeadlineMs?: number;
  /** The reschedule policy's first delay. @default 100 */
  rescheduleDelayMs?: number;
  /** Restarts of a crashing task before its allocation fails. @default 2 */
  maxRestarts?: number;
  /** Evaluation created to evaluation processed. @default 10 */
  evalDelayMs?: number;
  /** `"<job>/<group>": mode`, for that job and group in any namespace. */
  behaviours?: Record<string, GroupBehaviour>;
}

export interface RequestRecord {
  method: string;
  /** Path and query string. */
  path: string;
}

export class NomadApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly cluster: Cluster;
  private readonly endpoints: Endpoints;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Aborts the blocking queries still waiting when the server closes. */
  private readonly closing = new AbortController();

  constructor(options: NomadApiServerOptions = {}) {
    const settings: ClusterSettings = {
      region: options.region ?? 'global',
      namespaces: options.namespaces ?? ['default'],
      runDelayMs: options.runDelayMs ?? 50,
      healthyDelayMs: options.healthyDelayMs ?? 50,
      healthyDeadlineMs: options.healthyDeadlineMs ?? 300,
      progressDeadlineMs: options.progressDeadlineMs ?? 1000,
      rescheduleDelayMs: options.rescheduleDelayMs ?? 100,
      maxRestarts: options.maxRestarts ?? 2,
      evalDelayMs: options.evalDelayMs ?? 10,
      nodes: Cluster.nodes(options.nodes ?? 3, options.datacenter ?? 'dc1'),
    };
    this.cluster = new Cluster(settings);
    for (const [key, mode] of Object.entries(options.behaviours ?? {})) {
      const [job, group, ...rest] = key.split('/');
      if (!job || !group || rest.length > 0 || !GROUP_BEHAVIOURS.includes(mode)) {
        throw new Error(
          `behaviours: expected "<job>/<group>": ${GROUP_BEHAVIOURS.join(' | ')}, got ${JSON.stringify(key)}: ${JSON.stringify(mode)}`,
        );
      }
      this.cluster.setBehaviour(job, group, mode);
    }
    // Every waiting blocking query listens for the close.
    setMaxListeners(0, this.closing.signal);
    this.endpoints = new Endpoints(this.cluster, options.aclToken);
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  get url(): string {
    const address = this.server.address() as AddressInfo | null;
    if (!address) throw new Error('the Nomad API test double is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.cluster.close();
    this.closing.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** The group's allocations behave so from now on (those placed later, and running ones where it applies). */
  setGroupBehaviour(jobId: string, group: string, mode: GroupBehaviour, namespace = 'default'): void {
    if (!GROUP_BEHAVIOURS.includes(mode))
      throw new Error(`unknown group behaviour ${JSON.stringify(mode)}: expected ${GROUP_BEHAVIOURS.join(' | ')}`);
    this.cluster.setBehaviour(jobId, group, mode, namespace);
  }

  /** The current version of every job of the namespace (`*`: of all), as GET /v1/job/:id answers. */
  jobs(namespace = 'default'): Json[] {
    return [...this.cluster.store.jobs.values()]
      .filter(({ job }) => namespace === '*' || job.Namespace === namespace)
      .map(({ job }) => clone(job));
  }

  /** Errors thrown by the simulation's timers (bugs of the double); empty in a healthy run. */
  get simulationErrors(): readonly Error[] {
    return this.cluster.timers.errors;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    this.requests.push({ method, path: url.pathname + url.search });
    const gone = new AbortController();
    response.on('close', () => gone.abort());
    this.closing.signal.addEventListener('abort', () => gone.abort(), { once: true, signal: gone.signal });
    let reply: Reply;
    try {
      reply = await this.endpoints.handle({
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        text: () => text(request),
        signal: gone.signal,
      });
    } catch (error) {
      reply =
        error instanceof NomadError
          ? { status: error.code, body: error.message }
          : { status: 500, body: `Nomad API test double bug: ${(error as Error).stack ?? String(error)}` };
    }
    if (response.destroyed || response.headersSent) return;
    const headers: Record<string, string> = {};
    if (reply.index !== undefined) headers['X-Nomad-Index'] = String(reply.index);
    if (reply.query) Object.assign(headers, { 'X-Nomad-KnownLeader': 'true', 'X-Nomad-LastContact': '0' });
    if (reply.body === undefined) {
      response.writeHead(reply.status, headers).end();
    } else if (reply.status >= 400 && typeof reply.body === 'string') {
      response.writeHead(reply.status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(reply.body);
    } else {
      response
        .writeHead(reply.status, { ...headers, 'Content-Type': 'application/json' })
        .end(JSON.stringify(reply.body));
    }
  }
}
