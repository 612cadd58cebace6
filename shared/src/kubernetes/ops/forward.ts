// Local ports that reach a stack's push and query entry points from outside the cluster (a CI runner, a
// laptop), as `kubectl port-forward` does: the gateway when the stack has one, else the distributor and the
// query-frontend. Each local connection gets its own port-forward through the API server to a ready pod behind
// the entry point, so a pod that goes away (a rollout, an eviction) only costs the connections it carried: the
// next one goes to a ready pod picked again.
import { createServer, type Server, type Socket } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { describeError } from '../../redact.js';
import type { LokiStack } from '../../spec/schema.js';
import { assertStackRef } from '../../stack/names.js';
import { GATEWAY, PORTS } from '../render/common.js';
import { GATEWAY_PORT } from '../render/gateway-config.js';
import type { Connection } from './connection.js';
import { openPortForward } from './port-forward.js';
import { withRetry, type RetryPolicy } from './retry.js';
import type { StackRef } from './status.js';

/** One attempt: a forwarder asks again on the next connection. */
const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

export interface ForwardOptions {
  /** The local address to listen on. @default 127.0.0.1 */
  address?: string;
  /** Local ports; 0 picks a free one. With the gateway, push and query share `pushPort`. @default 0 */
  pushPort?: number;
  queryPort?: number;
  /** How long a connection may wait for a ready pod to forward to (a rollout in progress). @default 60000 */
  podWaitMs?: number;
  /** A forward that failed, and what happens next. */
  onEvent?: (line: string) => void;
}

export interface LocalForward {
  /** Loki's push API on the local port, e.g. `http://127.0.0.1:43101/loki/api/v1/push`. */
  pushUrl: string;
  /** The query API root on the local port (a Grafana data source URL). */
  queryUrl: string;
  ports: { push: number; query: number };
  /** Stops listening and cuts the connections being forwarded. */
  close(): Promise<void>;
}

interface EntryPoint {
  component: string;
  port: number;
}

/** Where pushes and queries enter the stack: its gateway, or the distributor and the query-frontend. */
function entryPoints(stack: LokiStack): { push: EntryPoint; query: EntryPoint } {
  if (stack.spec.gateway.enabled) {
    const gateway = { component: GATEWAY, port: GATEWAY_PORT.port };
    return { push: gateway, query: gateway };
  }
  return {
    push: { component: 'distributor', port: PORTS.http.port },
    query: { component: 'query-frontend', port: PORTS.http.port },
  };
}

export async function forwardStack(
  connection: Connection,
  stack: LokiStack,
  options: ForwardOptions = {},
): Promise<LocalForward> {
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  assertStackRef(ref);
  const address = options.address ?? '127.0.0.1';
  const entries = entryPoints(stack);
  const forwarders = new Set<Forwarder>();
  const listen = async (entry: EntryPoint, port: number) => {
    const forwarder = new Forwarder(connection, ref, entry, options);
    forwarders.add(forwarder);
    return forwarder.listen(address, port);
  };
  try {
    const push = await listen(entries.push, options.pushPort ?? 0);
    const query = entries.query === entries.push ? push : await listen(entries.query, options.queryPort ?? 0);
    const host = address.includes(':') ? `[${address}]` : address;
    return {
      pushUrl: `http://${host}:${push}/loki/api/v1/push`,
      queryUrl: `http://${host}:${query}`,
      ports: { push, query },
      close: async () => void (await Promise.all([...forwarders].map((forwarder) => forwarder.close()))),
    };
  } catch (error) {
    await Promise.all([...forwarders].map((forwarder) => forwarder.close()));
    throw error;
  }
}

/** One local port, forwarding each connection to a ready pod of one component. */
class Forwarder {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** The pod the last connection reached; dropped when a forward to it fails. */
  private pod: string | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly ref: StackRef,
    private readonly entry: EntryPoint,
    private readonly options: ForwardOptions,
  ) {
    this.server = createServer((socket) => void this.forward(socket));
  }

  listen(address: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (error) =>
        reject(
          new Error(`cannot listen on ${address}:${port} for the ${this.entry.component}: ${describeError(error)}`),
        ),
      );
      this.server.listen(port, address, () => {
        // Once listening, a failure to accept (too many open files) is said, not a crash of the process.
        this.server.on('error', (error) => this.say(`cannot accept connections: ${describeError(error)}`));
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }

  private async forward(socket: Socket): Promise<void> {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // What the client sends before the forward is open waits in the socket, which is not read until piped.
    const deadline = Date.now() + (this.options.podWaitMs ?? 60_000);
    for (;;) {
      try {
        const pod = (this.pod ??= await readyPodOf(this.connection, this.ref, this.entry.component));
        const stream = await openPortForward(
          this.connection,
          this.ref.namespace,
          pod,
          this.entry.port,
          this.connection.requestTimeoutMs,
        );
        if (socket.destroyed) return void stream.destroy();
        stream.on('error', (error) => {
          this.say(`the forward to pod ${pod} broke (${describeError(error)})`);
          if (this.pod === pod) this.pod = undefined;
          socket.destroy();
        });
        socket.once('close', () => stream.destroy());
        socket.pipe(stream).pipe(socket);
        return;
      } catch (error) {
        this.pod = undefined;
        if (socket.destroyed) return;
        if (Date.now() >= deadline) {
          this.say(`gave up on a connection to the ${this.entry.component}: ${describeError(error)}`);
          return void socket.destroy();
        }
        this.say(`${describeError(error)}; trying a ready pod again`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private say(line: string): void {
    this.options.onEvent?.(`${this.entry.component}: ${line}`);
  }
}

/** A ready pod of one of the stack's components (not one being deleted). */
export async function readyPodOf(
  connection: Connection,
  ref: StackRef,
  component: string,
  retry: RetryPolicy = NO_RETRY,
): Promise<string> {
  const labelSelector = `app.kubernetes.io/instance=${ref.name},app.kubernetes.io/component=${component}`;
  const pods = await withRetry(
    `listing ${component} pods in ${ref.namespace}`,
    () => connection.core.listNamespacedPod({ namespace: ref.namespace, labelSelector }),
    retry,
  );
  const pod = pods.items.find(isReady);
  if (!pod) throw new Error(`no ready ${component} pod in ${ref.namespace} (${pods.items.length} ${component} pods)`);
  return pod.metadata!.name!;
}

const isReady = (pod: V1Pod) =>
  !pod.metadata?.deletionTimestamp &&
  (pod.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
