// One test API server per test file, a connection to it through its kubeconfig (as users connect), and
// specs parsed like the CLI parses them. Retries are fast here: the fault knobs make them happen on purpose.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, parseSpec, type Connection, type LokiStack, type RetryPolicy } from 'loki-microservices';
import { startTestApiServer, type RunningApiServer, type TestApiServerOptions } from '../../src/apiserver/index.js';

export const FAST_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 2, maxDelayMs: 20 };

export interface Fixture {
  running: RunningApiServer;
  connection: Connection;
  close(): Promise<void>;
}

export async function startFixture(options: TestApiServerOptions = {}): Promise<Fixture> {
  const running = await startTestApiServer({ readyAfterMs: 20, ...options });
  const connection = connect({ kubeconfig: running.kubeconfigPath });
  return { running, connection, close: () => running.close() };
}

const BIN = fileURLToPath(new URL('../../../shared/bin/loki-microservices.js', import.meta.url));
/** A home without ~/.kube/config, so that only the fixture's kubeconfig is used. */
const HOME = mkdtempSync(join(tmpdir(), 'cli-home-'));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI through its built bin, as users run it, against the fixture's server (`--kubeconfig` appended). */
export function runCli(fixture: Fixture, args: string[]): Promise<CliRun> {
  const { KUBECONFIG: _ignored, ...inherited } = process.env;
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [BIN, ...args, '--kubeconfig', fixture.running.kubeconfigPath],
      { env: { ...inherited, HOME } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** The default stack (profile demo, name loki, namespace loki) with `spec` fields merged in. */
export function stackOf(document: Record<string, unknown> = {}): LokiStack {
  return parseSpec(document);
}

/** Each Loki workload's image tag, by component. */
export function lokiVersions(fixture: Fixture, namespace: string): Record<string, string> {
  type Workload = {
    metadata: { labels?: Record<string, string> };
    spec: { template: { spec: { containers: { name: string; image: string }[] } } };
  };
  const api = fixture.running.server.api;
  return Object.fromEntries(
    (['Deployment', 'StatefulSet'] as const).flatMap((kind) =>
      (api.list(kind, namespace, {}) as unknown as Workload[])
        .filter((workload) => workload.metadata.labels?.['app.kubernetes.io/name'] === 'loki')
        .map((workload) => [
          workload.metadata.labels!['app.kubernetes.io/component']!,
          workload.spec.template.spec.containers
            .find((container) => container.name === 'loki')!
            .image.split(':')
            .pop()!,
        ]),
    ),
  );
}

/** The namespaced kinds a stack is made of (as `applyStack` lists them for pruning). */
export const STACK_KINDS = [
  'ServiceAccount',
  'ConfigMap',
  'Secret',
  'Service',
  'NetworkPolicy',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'PodDisruptionBudget',
] as const;

/** What the server stores with both of the stack's labels in its namespace, as `Kind/name`, sorted. */
export function storedStackObjects(running: RunningApiServer, name = 'loki', namespace = 'loki'): string[] {
  const labelSelector = `app.kubernetes.io/instance=${name},app.kubernetes.io/managed-by=loki-microservices`;
  return STACK_KINDS.flatMap((kind) =>
    running.server.api.list(kind, namespace, { labelSelector }).map((object) => `${kind}/${object.metadata.name}`),
  ).sort();
}

/** One step of the request log: a request arriving at the server, or its answer going out. */
export interface RequestEvent {
  at: 'sent' | 'answered';
  method: string;
  path: string;
  status: number;
}

/**
 * From now on, every request as it arrives and as its answer goes out, in order (the request log itself
 * keeps arrivals only): enough to tell what was in flight together and what waited for what.
 */
export function recordTimeline(running: RunningApiServer): RequestEvent[] {
  const events: RequestEvent[] = [];
  const requests = running.server.faults.requests;
  const push = requests.push.bind(requests);
  requests.push = (...records) => {
    for (const record of records) {
      events.push({ at: 'sent', method: record.method, path: record.path, status: 0 });
      let status = record.status;
      Object.defineProperty(record, 'status', {
        enumerable: true,
        configurable: true,
        get: () => status,
        set: (value: number) => {
          status = value;
          events.push({ at: 'answered', method: record.method, path: record.path, status: value });
        },
      });
    }
    return push(...records);
  };
  return events;
}

/** Poll `probe` until it returns something truthy (and return that), or fail after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The JSON of an object without undefined members (the server never returns those). */
export const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A GET through the API server's service proxy, as the test's own client (not the code under test). */
export async function proxyGet(
  fixture: Fixture,
  namespace: string,
  service: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(
    `/api/v1/namespaces/${namespace}/services/${service}:http-metrics/proxy${path}`,
    fixture.running.url,
  );
  const options: Record<string, unknown> = { method: 'GET', headers };
  await fixture.running.kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const LATER_STEP = fileURLToPath(new URL('../../dist/steps/push-and-query.js', import.meta.url));

/** A later CI step, a process of its own: push a line to `pushUrl` and read it back through `queryUrl`. */
export function laterStep(
  pushUrl: string,
  queryUrl: string,
  credentials?: string,
): Promise<{ code: number; output: string }> {
  const args = [LATER_STEP, pushUrl, queryUrl, ...(credentials ? [credentials] : [])];
  return new Promise((resolve) =>
    execFile(process.execPath, args, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    ),
  );
}
