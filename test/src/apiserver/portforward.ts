// Pod port-forwards over WebSocket (`GET …/pods/<pod>/portforward?ports=N`), as the kubelet serves them
// behind kube-apiserver: the `v4.channel.k8s.io` channel protocol (binary frames whose first byte is the
// channel: 2i carries the data of the i-th port, 2i+1 its errors), where the first frame on each channel
// is the port number, 2 bytes little-endian. Bytes from the client's data channel go to what listens on
// that port of the pod (processes.ts), through an in-process HTTP server, and the answers come back on the
// same channel. When the pod side closes the connection the WebSocket closes (once all its ports are
// done); when the WebSocket closes, the pod side's connections are dropped.
//
// As the kubelet does: a port nothing listens on (or a pod whose container is not running) gets an error
// message on its error channel, then the channels close; a pod with no sandbox yet (no IP) is refused
// before the upgrade with 500; subprotocols other than v4.channel.k8s.io (or none) get 403. Not served:
// SPDY (what kubectl port-forward speaks) and the base64 variant of the channel protocol.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ContainerStatus, Pod } from './controllers/objects.js';
import type { Listener, Processes } from './processes.js';
import { badRequest } from './status.js';

const PROTOCOL = 'v4.channel.k8s.io';

/** What happened to an upgrade request: 101 (the WebSocket is open), or the kubelet's plain-text refusal. */
export type UpgradeOutcome = { status: 101 } | { status: number; body: string };

export class PortForwards {
  private readonly sockets = new WebSocketServer({ noServer: true, handleProtocols: () => PROTOCOL });
  /** The pod side: connections are Duplex pairs emitted into it, each tied to the listener it reaches. */
  private readonly backend = createServer((request, response) => void this.serve(request, response));
  private readonly listeners = new WeakMap<object, Listener>();
  private readonly connections = new Set<Duplex>();
  /** The client side: every port-forward WebSocket open now. */
  private readonly webSockets = new Set<WebSocket>();

  constructor(private readonly processes: Processes) {}

  /** Cut every port-forward at once (an API server outage, or its shutdown): the WebSockets and the pod side. */
  closeAll(): void {
    for (const ws of this.webSockets) ws.terminate();
    this.webSockets.clear();
    for (const connection of this.connections) connection.destroy();
  }

  /** Connections to pod ports that are open now (each forwarded port of each WebSocket has one). */
  get open(): number {
    return this.connections.size;
  }

  /** Upgrade a request for pod port-forwarding, or say why not (ApiErrors are the API server's own refusals). */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, pod: Pod, query: URLSearchParams): UpgradeOutcome {
    if (!pod.spec.nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    if (request.headers.upgrade?.toLowerCase() !== 'websocket') {
      return {
        status: 400,
        body: `unable to upgrade: the test API server serves port-forwards over WebSocket (${PROTOCOL}) only, not ${request.headers.upgrade}\n`,
      };
    }
    const ports = parsePorts(query);
    if (typeof ports === 'string') return { status: 400, body: `${ports}\n` };
    if (!pod.status?.podIP)
      return {
        status: 500,
        body: `failed to find sandboxID for pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
      };
    const offered = (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((protocol) => protocol.trim())
      .filter(Boolean);
    if (offered.length > 0 && !offered.includes(PROTOCOL)) return { status: 403, body: '' };
    this.sockets.handleUpgrade(request, socket, head, (ws) => this.forward(ws, pod, ports));
    return { status: 101 };
  }

  private forward(ws: WebSocket, pod: Pod, ports: number[]): void {
    this.webSockets.add(ws);
    ws.once('close', () => this.webSockets.delete(ws));
    const send = (channel: number, data: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(channel), data]), { binary: true });
    };
    const connections = new Map<number, Duplex>();
    let open = ports.length;
    const done = () => {
      if (--open === 0) ws.close(1000);
    };
    ports.forEach((port, index) => {
      const [data, error] = [index * 2, index * 2 + 1];
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port);
      send(data, portBytes);
      send(error, portBytes);
      const connection = this.connect(pod, port);
      if (typeof connection === 'string') {
        send(error, Buffer.from(connection));
        done();
        return;
      }
      connections.set(data, connection);
      let closed = false;
      const finish = () => {
        if (closed) return;
        closed = true;
        connections.delete(data);
        connection.destroy();
        done();
      };
      connection.on('data', (chunk: Buffer) => send(data, chunk));
      connection.on('end', finish);
      connection.on('close', finish);
    });
    ws.on('message', (message: RawData, isBinary: boolean) => {
      const frame = Buffer.isBuffer(message)
        ? message
        : Array.isArray(message)
          ? Buffer.concat(message)
          : Buffer.from(message);
      if (isBinary && frame.length > 1) connections.get(frame[0]!)?.write(frame.subarray(1));
    });
    const drop = () => {
      for (const connection of connections.values()) connection.destroy();
    };
    ws.on('close', drop);
    ws.on('error', drop);
  }

  /** A connection to `port` of the pod, or the kubelet's error when nothing accepts it. */
  private connect(pod: Pod, port: number): Duplex | string {
    const listener = containerRunning(pod, port) ? this.processes.listener(pod, port) : undefined;
    if (!listener) return refused(pod, port);
    const [client, server] = socketPair();
    this.connections.add(client);
    client.on('close', () => this.connections.delete(client));
    this.listeners.set(server, listener);
    this.backend.emit('connection', server);
    return client;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const listener = this.listeners.get(request.socket);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://pod');
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([key, value]) => [key, Array.isArray(value) ? value.join(',') : value]),
    );
    try {
      const answer = await listener!({
        method: request.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers,
        body: Buffer.concat(chunks),
      });
      response
        .writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) })
        .end(answer.body);
    } catch (error) {
      const body = `test API server bug: ${(error as Error).stack ?? String(error)}\n`;
      response
        .writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
        .end(body);
    }
  }
}

/** The `ports` query parameter (repeated or comma-separated), or the kubelet's complaint about it. */
function parsePorts(query: URLSearchParams): number[] | string {
  const values = query.getAll('ports');
  if (values.length === 0) return 'query parameter "port" is required';
  const ports: number[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const port = /^\d+$/.test(part) ? Number(part) : NaN;
      if (!(port >= 1 && port <= 65535)) return `unable to parse "${value}" as a port`;
      ports.push(port);
    }
  }
  return ports;
}

/** Whether the container that declares `port` is running (only then does anything listen on it). */
function containerRunning(pod: Pod, port: number): boolean {
  if (pod.status?.phase !== 'Running') return false;
  const container = pod.spec.containers.find((candidate) =>
    candidate.ports?.some((declared) => declared.containerPort === port),
  );
  const status = pod.status.containerStatuses?.find((candidate: ContainerStatus) => candidate.name === container?.name);
  return Boolean(status?.state.running);
}

/** The kubelet's message for a refused connection (containerd's wording; the sandbox ID stands in for the pod). */
function refused(pod: Pod, port: number): string {
  const sandbox = createHash('sha256').update(`sandbox/${pod.metadata.uid}`).digest('hex');
  const netns = createHash('sha256').update(`netns/${pod.metadata.uid}`).digest('hex');
  const namespace = `/var/run/netns/cni-${netns.slice(0, 8)}-${netns.slice(8, 12)}-${netns.slice(12, 16)}-${netns.slice(16, 20)}-${netns.slice(20, 32)}`;
  return (
    `error forwarding port ${port} to pod ${sandbox}, uid : failed to execute portforward in network namespace "${namespace}": ` +
    `failed to connect to localhost:${port} inside namespace "${sandbox}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused ` +
    `IPv6 dial tcp6 [::1]:${port}: connect: connection refused `
  );
}

/** Two connected in-memory sockets: what one end writes the other reads; ending or destroying one reaches the other. */
function socketPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const end = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        other().push(chunk);
        callback();
      },
      final(callback) {
        other().push(null);
        callback();
      },
      destroy(error, callback) {
        other().destroy();
        callback(error);
      },
    });
  ends.push(
    end(() => ends[1]!),
    end(() => ends[0]!),
  );
  return [ends[0]!, ends[1]!];
}
