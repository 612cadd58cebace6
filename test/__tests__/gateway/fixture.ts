// What the gateway suite runs a real nginx among: a fake cluster DNS (dns-packet over UDP) that resolves each
// component's Service to its own loopback address, a fake Loki component behind each address that records
// what it is sent and answers with its name, and nginx itself, started on the rendered configuration with the
// gateway Deployment's own arguments (its -e and -c paths swapped for the test's), with the files the site names.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import dnsPacket from 'dns-packet';
import { WebSocketServer } from 'ws';
import { COMPONENT_NAMES, renderKubernetes, type ComponentName, type LokiStack } from 'loki-microservices';
import {
  gatewayTenants,
  HTPASSWD_KEYS,
  htpasswdFile,
  nginxConfig,
  objectName,
  type NginxSite,
} from 'loki-microservices/testing';

/** nginx to run: $NGINX_BINARY (npm test sets it to Debian's, unpacked), else one on PATH, else /usr/sbin/nginx. */
export function findNginx(): { binary?: string; tried: string[] } {
  // A $NGINX_BINARY that is set but missing is a broken set-up, not a reason to test another nginx.
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'nginx'));
  const tried = process.env.NGINX_BINARY ? [process.env.NGINX_BINARY] : [...new Set([...onPath, '/usr/sbin/nginx'])];
  const binary = tried.find((path) => existsSync(path));
  return binary ? { binary, tried } : { tried };
}

/** The port every Loki component serves HTTP on, and so the one the gateway's upstream URLs name. */
export const LOKI_HTTP_PORT = 3100;

/** A component's Service name as the cluster DNS knows it. */
export const serviceHost = (stack: LokiStack, component: ComponentName) =>
  `${objectName(stack, component)}.${stack.metadata.namespace}.svc.${stack.spec.clusterDomain}`;

export interface DnsQuery {
  name: string;
  type: string;
  rcode: 'NOERROR' | 'NXDOMAIN';
}

export interface FakeDns {
  port: number;
  queries: DnsQuery[];
  close(): Promise<void>;
}

const NXDOMAIN = 3;

/** A DNS server on 127.0.0.1: A records for `hosts` (name → address), no AAAA records, NXDOMAIN for other names. */
export async function startFakeDns(hosts: Map<string, string>): Promise<FakeDns> {
  const socket = createSocket('udp4');
  const queries: DnsQuery[] = [];
  socket.on('message', (message, peer) => {
    let query: ReturnType<typeof dnsPacket.decode>;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const questions = query.questions ?? [];
    const known = questions.every((question) => hosts.has(question.name.toLowerCase()));
    const answers = questions.flatMap((question) =>
      question.type === 'A' && hosts.has(question.name.toLowerCase())
        ? [{ type: 'A' as const, name: question.name, ttl: 30, data: hosts.get(question.name.toLowerCase())! }]
        : [],
    );
    for (const question of questions)
      queries.push({ name: question.name, type: question.type, rcode: known ? 'NOERROR' : 'NXDOMAIN' });
    const flags =
      ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : NXDOMAIN);
    socket.send(
      dnsPacket.encode({ id: query.id, type: 'response', flags, questions, answers }),
      peer.port,
      peer.address,
    );
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return { port: socket.address().port, queries, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** One request as a fake Loki component saw it. */
export interface Received {
  component: ComponentName;
  method: string;
  /** Path and query, as sent on the request line. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  upgrade: boolean;
}

interface FakeComponent {
  close(): Promise<void>;
}

/**
 * A Loki component on address:3100: records each request in `received` and answers 200 with its name (text),
 * and takes WebSocket upgrades, echoing each message as `<component>: <message>`.
 */
async function startFakeComponent(
  component: ComponentName,
  address: string,
  received: Received[],
): Promise<FakeComponent> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        component,
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks),
        upgrade: false,
      });
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Component': component }).end(component);
    });
  });
  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    received.push({
      component,
      method: req.method!,
      url: req.url!,
      headers: req.headers,
      body: Buffer.alloc(0),
      upgrade: true,
    });
    sockets.handleUpgrade(req, socket, head, (ws) =>
      ws.on('message', (data) => ws.send(`${component}: ${String(data)}`)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(LOKI_HTTP_PORT, address, () => resolve());
  });
  return {
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The arguments the gateway Deployment starts nginx with, with the paths of `files` (option → path) instead. */
export function podArguments(stack: LokiStack, files: Record<string, string>): string[] {
  const deployment = renderKubernetes(stack).objects.find(
    (object) => object.kind === 'Deployment' && object.metadata?.name === `${stack.metadata.name}-gateway`,
  ) as V1Deployment | undefined;
  const [command, ...args] = deployment?.spec?.template.spec?.containers[0]?.command ?? [];
  if (command !== 'nginx')
    throw new Error(
      `the gateway Deployment does not start nginx: ${JSON.stringify(deployment?.spec?.template.spec?.containers[0]?.command)}`,
    );
  return args.map((arg, index) =>
    index > 0 && files[args[index - 1]!] !== undefined ? files[args[index - 1]!]! : arg,
  );
}

/** `nginx -t` on the gateway's configuration: its exit code and what it printed. */
export async function testConfiguration(nginx: string, gw: Gateway): Promise<{ code: number | null; output: string }> {
  const outputFile = join(gw.dir, 'nginx-t.out');
  const output = openSync(outputFile, 'w');
  const child = spawn(nginx, ['-t', '-p', gw.dir, '-e', join(gw.dir, 'nginx-t.log'), '-c', gw.configFile], {
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  return { code, output: readFileSync(outputFile, 'utf8') };
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One plain HTTP/1.1 request, on its own connection. */
export function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer from nginx in 10 s`)));
    req.end(body);
  });
}

export interface Gateway {
  stack: LokiStack;
  port: number;
  dir: string;
  configFile: string;
  secretsDir: string;
  /** Every user's password: the tenants' and the admin user's. */
  passwords: Record<string, string>;
  received: Received[];
  dns: FakeDns;
  /** Writes a user file the way the kubelet updates a Secret volume: whole, by a rename. */
  writeUsers(key: string, text: string): void;
  readUsers(key: string): string;
  /** nginx's error log: what it wrote to the -e file (until it read the config) and to stderr (the config's error_log). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * nginx on `nginxConfig(stack, site)`, its upstreams at 127.0.0.<firstAddress + index of the component>
 * (every component of the stack, routed or not, so a request that reaches any of them is seen), its users in
 * htpasswd files from `htpasswdFile` with a fresh password each.
 */
export async function startGateway(nginx: string, stack: LokiStack, firstAddress: number): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-nginx-'));
  const secretsDir = join(dir, 'secrets');
  const tmpDir = join(dir, 'tmp');
  mkdirSync(secretsDir);
  mkdirSync(tmpDir);
  // Run as root, nginx's workers are `nobody`: they read the user files at each request and write request
  // bodies under tmpDir, as uid 101 does in the pod (whose Secret volume files are 0644).
  for (const path of [dir, secretsDir, tmpDir]) chmodSync(path, 0o755);
  const writeUsers = (key: string, text: string) => {
    const staging = join(secretsDir, `.${key}.new`);
    writeFileSync(staging, text, { mode: 0o644 });
    renameSync(staging, join(secretsDir, key));
  };

  const adminUser = stack.spec.gateway.adminUser;
  const users = [...gatewayTenants(stack), adminUser];
  const passwords = Object.fromEntries(
    users.map((user, index) => [user, `pw-${index}-${Math.random().toString(36).slice(2)}`]),
  );
  writeUsers(HTPASSWD_KEYS.tenants, htpasswdFile(gatewayTenants(stack), passwords));
  writeUsers(HTPASSWD_KEYS.admin, htpasswdFile([adminUser], passwords));

  const received: Received[] = [];
  const addresses = new Map(COMPONENT_NAMES.map((component, index) => [component, `127.0.0.${firstAddress + index}`]));
  const components = await Promise.all(
    [...addresses].map(([component, address]) => startFakeComponent(component, address, received)),
  );
  const dns = await startFakeDns(
    new Map([...addresses].map(([component, address]) => [serviceHost(stack, component), address])),
  );

  const port = await freePort();
  const site: NginxSite = { port, resolver: `127.0.0.1:${dns.port}`, secretsDir, tmpDir };
  const configFile = join(dir, 'nginx.conf');
  writeFileSync(configFile, nginxConfig(stack, site));
  const errorLog = join(dir, 'error.log');
  // The config logs to /dev/stderr and /dev/stdout, which nginx opens by name: that fails (ENXIO) on the Unix
  // sockets node gives a child for 'pipe', so nginx writes to files instead (in the pod: the container's pipes).
  const stderrLog = join(dir, 'stderr.log');
  const stdout = openSync(join(dir, 'access.log'), 'a');
  const stderr = openSync(stderrLog, 'a');
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  const log = () => `${read(errorLog)}${read(stderrLog)}`.trim() || '(empty)';

  const process_: ChildProcess = spawn(
    nginx,
    ['-p', dir, ...podArguments(stack, { '-e': errorLog, '-c': configFile })],
    { stdio: ['ignore', stdout, stderr] },
  );
  closeSync(stdout);
  closeSync(stderr);
  let spawnError = '';
  const exited = new Promise<number | null>((resolve) => {
    process_.once('exit', (code) => resolve(code));
    // Not started at all (not executable, say): no exit event follows.
    process_.once('error', (error) => {
      spawnError = `${error.message}\n`;
      resolve(null);
    });
  });
  let running = true;
  void exited.then(() => (running = false));
  const closeFakes = async () => {
    await Promise.all(components.map((component) => component.close()));
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const stop = async () => {
    if (running) {
      process_.kill('SIGTERM');
      const timer = setTimeout(() => process_.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await closeFakes();
  };

  // Ready when the probe path answers, as the readiness probe sees it.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!running) {
      const message = `nginx exited (code ${await exited}) before it answered on port ${port}; ${spawnError}its error log:\n${log()}`;
      await closeFakes();
      throw new Error(message);
    }
    const answer = await send(port, 'GET', '/').catch(() => undefined);
    if (answer?.status === 200) break;
    if (Date.now() > deadline) {
      const message = `nginx did not answer GET / on port ${port} within 10 s; its error log:\n${log()}`;
      await stop();
      throw new Error(message);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    stack,
    port,
    dir,
    configFile,
    secretsDir,
    passwords,
    received,
    dns,
    writeUsers,
    readUsers: (key) => readFileSync(join(secretsDir, key), 'utf8'),
    log,
    stop,
  };
}
