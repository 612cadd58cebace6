// A small Loki stack for the tests of what runs behind pod ports (Loki, the gateway): the objects our
// renderer's contract names (labels, ports, the gateway's htpasswd Secret and the stack's config), applied
// through client-node; and a local port forwarded to a pod with client-node's PortForward, as our tools
// would open one.
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { request, type Agent } from 'node:http';
import type { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import bcrypt from 'bcryptjs';
import type WebSocket from 'ws';
import type { RunningApiServer } from '../../src/apiserver/index.js';

export const NAMESPACE = 'demo';

/** Secrets of random values for the ones a rendered stack needs and `apply` generates (`rendered.generatedSecrets`). */
export function generatedSecrets(
  secrets: { name: string; namespace: string; keys: string[]; labels: Record<string, string> }[],
): k8s.KubernetesObject[] {
  return secrets.map(
    ({ name, namespace, keys, labels }) =>
      ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace, labels },
        stringData: Object.fromEntries(keys.map((key) => [key, randomBytes(16).toString('hex')])),
      }) as k8s.KubernetesObject,
  );
}
export const STACK = 'loki';

type Json = Record<string, unknown>;

export function applier(running: RunningApiServer) {
  const objects = k8s.KubernetesObjectApi.makeApiClient(running.kubeConfig);
  return (object: Json) =>
    objects.patch(
      object as k8s.KubernetesObject,
      undefined,
      undefined,
      'test',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
}

const labels = (component: string, name = 'loki') => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': STACK,
  'app.kubernetes.io/component': component,
});

function deployment(name: string, selector: Record<string, string>, container: Json, volumes: Json[] = []): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE, labels: selector },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: { metadata: { labels: selector }, spec: { containers: [container], volumes } },
    },
  };
}

const service = (name: string, selector: Record<string, string>, ports: Json[]): Json => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NAMESPACE, labels: selector },
  spec: { selector, ports },
});

/** An htpasswd line as `htpasswd -nbB` writes it ($2y$, a low cost to keep the tests fast). */
export const htpasswd = (user: string, password: string) =>
  `${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$')}`;

export interface StackOptions {
  /** Loki's auth_enabled. */
  multiTenant?: boolean;
  /** The gateway's htpasswd Secret data; undefined: no Secret. */
  htpasswd?: Record<string, string> | undefined;
  gateway?: boolean;
}

export const USERS = { tenant: ['team-a', 'pw-a'], other: ['team-b', 'pw-b'], admin: ['admin', 'pw-admin'] } as const;

export const DEFAULT_HTPASSWD = {
  'tenants.htpasswd': `${htpasswd(...USERS.tenant)}\n${htpasswd(...USERS.other)}\n`,
  'admin.htpasswd': `${htpasswd(...USERS.admin)}\n`,
};

/** The namespace, the stack's config, its distributor and query-frontend, and (by default) the gateway with its Secret. */
export async function applyStack(running: RunningApiServer, options: StackOptions = {}): Promise<void> {
  const apply = applier(running);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  await apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${STACK}-config`, namespace: NAMESPACE },
    data: { 'config.yaml': `auth_enabled: ${options.multiTenant === true}\n` },
  });
  for (const component of ['distributor', 'query-frontend']) {
    const container = {
      name: 'loki',
      image: 'grafana/loki:3.5.0',
      ports: [
        { name: 'http-metrics', containerPort: 3100 },
        { name: 'grpc', containerPort: 9095 },
      ],
    };
    await apply(deployment(`${STACK}-${component}`, labels(component), container));
    await apply(
      service(`${STACK}-${component}`, labels(component), [
        { name: 'http-metrics', port: 3100, targetPort: 'http-metrics' },
      ]),
    );
  }
  if (options.gateway === false) return;
  const data = 'htpasswd' in options ? options.htpasswd : DEFAULT_HTPASSWD;
  if (data)
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${STACK}-gateway-htpasswd`, namespace: NAMESPACE },
      stringData: data,
    });
  const gateway = labels('gateway', 'nginx');
  const nginx = {
    name: 'nginx',
    image: 'nginxinc/nginx-unprivileged:1.29-alpine',
    ports: [{ name: 'http', containerPort: 8080 }],
  };
  await apply(
    deployment(`${STACK}-gateway`, gateway, nginx, [
      { name: 'htpasswd', secret: { secretName: `${STACK}-gateway-htpasswd` } },
    ]),
  );
  await apply(service(`${STACK}-gateway`, gateway, [{ name: 'http', port: 80, targetPort: 'http' }]));
}

/** The name of the one pod of a component. */
export function podOf(running: RunningApiServer, component: string): string {
  const pods = running.server.api.list('Pod', NAMESPACE, { labelSelector: `app.kubernetes.io/component=${component}` });
  if (pods.length !== 1) throw new Error(`expected one ${component} pod, found ${pods.length}`);
  return pods[0]!.metadata.name;
}

export interface Forward {
  /** The local port: connections to it are forwarded to the pod. */
  port: number;
  /** The WebSocket of each connection so far. */
  sockets: WebSocket[];
  close(): Promise<void>;
}

/**
 * A local port forwarded to `pod`:`port`, as our tools open one: each connection to it gets its own
 * port-forward WebSocket through client-node, and ends when that WebSocket closes (client-node leaves that
 * to the caller).
 */
export async function forward(
  running: RunningApiServer,
  pod: string,
  port: number,
  errors?: Writable,
): Promise<Forward> {
  const portForward = new k8s.PortForward(running.kubeConfig);
  const sockets: WebSocket[] = [];
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    portForward.portForward(NAMESPACE, pod, [port], socket, errors ?? null, socket).then(
      (ws) => {
        const opened = ws as unknown as WebSocket;
        sockets.push(opened);
        opened.on('close', () => socket.end());
      },
      (error: Error) => socket.destroy(error),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () => {
      for (const socket of connections) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP/1.1 request to a local port (through `agent`, for keep-alive). */
export function http(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; agent?: Agent } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers = {
      ...options.headers,
      ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}),
    };
    const req = request(
      { host: '127.0.0.1', port, method, path, headers, ...(options.agent ? { agent: options.agent } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** A push body with one line, timestamped now. */
export function pushBody(line: string, labels: Record<string, string> = { job: 'smoke' }): string {
  return JSON.stringify({ streams: [{ stream: labels, values: [[`${Date.now()}000000`, line]] }] });
}

export const queryPath = (selector = '{job="smoke"}') =>
  `/loki/api/v1/query_range?query=${encodeURIComponent(selector)}`;

/** The lines a query_range answer carries. */
export function linesOf(answer: HttpAnswer): string[] {
  const result = (JSON.parse(answer.body) as { data: { result: { values: [string, string][] }[] } }).data.result;
  return result.flatMap((stream) => stream.values.map(([, line]) => line));
}
