// What keeps the command quick to start, checked by behaviour, not by time: the installed command runs the CLI's
// bundle (one file and a chunk per command) and nothing else from disk, `render` never loads the Kubernetes
// client, and the cluster commands keep to few sequential round trips to the API server.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import type { RunningApiServer } from '../src/apiserver/index.js';
import { startFixture, type Fixture } from './cluster/fixture.js';

jest.setTimeout(60_000);

const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url));
const BIN = join(SHARED, 'bin/loki-microservices.js');
const BUNDLE = join(SHARED, 'dist/bundle');
/** A home without ~/.kube/config, so that only what a test passes is used. */
const HOME = mkdtempSync(join(tmpdir(), 'startup-home-'));

// Writes every file URL Node resolves to stderr, from the loader hooks' thread (which shares the process's fd 2).
const HOOKS = `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.startsWith('file:')) (await import('node:fs')).writeSync(2, 'resolved ' + result.url + '\\n');
  return result;
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

function run(args: string[], nodeOptions: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeOptions, BIN, ...args],
      { env: { ...process.env, HOME } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The files a command loads from disk, the bin itself left out. */
async function loadedFiles(args: string[]): Promise<string[]> {
  const { code, stderr } = await run(args, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`]);
  expect(code).toBe(0);
  const files = [...stderr.matchAll(/^resolved (file:\S+)$/gm)].map((match) => fileURLToPath(match[1]!));
  return [...new Set(files)].filter((file) => file !== BIN);
}

// A type name in the Kubernetes client's serializer table: it survives minification.
const kubernetesClientIn = (file: string) => readFileSync(file, 'utf8').includes('"V1ObjectMeta"');

describe('the installed command', () => {
  test('loads only the bundle, and for render none of the Kubernetes client', async () => {
    const rendering = await loadedFiles(['render']);
    expect(rendering.length).toBeGreaterThan(1);
    expect(rendering.filter((file) => !file.startsWith(`${BUNDLE}/`))).toEqual([]);
    expect(rendering.filter(kubernetesClientIn)).toEqual([]);
    // The check does see the client where a command needs it.
    expect((await loadedFiles(['apply', '--help'])).filter(kubernetesClientIn)).toHaveLength(1);
  });

  test('runs a bundle built from the compiled sources as they are now (npm run build after tsc -b)', () => {
    const compiled = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? entry.name === 'bundle' && dir === join(SHARED, 'dist')
            ? []
            : compiled(join(dir, entry.name))
          : entry.name.endsWith('.js')
            ? [join(dir, entry.name)]
            : [],
      );
    const built = statSync(join(BUNDLE, 'cli.js')).mtimeMs;
    expect(compiled(join(SHARED, 'dist')).filter((file) => statSync(file).mtimeMs > built)).toEqual([]);
  });
});

/**
 * The longest chain of requests each sent after the one before it was answered: the round trips a command waits
 * for one after the other, whatever the latency.
 */
function sequentialRoundTrips(running: RunningApiServer): () => number {
  let answered = 0;
  let deepest = 0;
  const requests = running.server.faults.requests;
  const push = requests.push.bind(requests);
  requests.push = (...records) => {
    for (const record of records) {
      const depth = answered + 1;
      deepest = Math.max(deepest, depth);
      let status = record.status;
      Object.defineProperty(record, 'status', {
        enumerable: true,
        configurable: true,
        get: () => status,
        set: (value: number) => {
          status = value;
          answered = Math.max(answered, depth);
        },
      });
    }
    return push(...records);
  };
  return () => {
    requests.push = push;
    return deepest;
  };
}

describe('round trips to the API server', () => {
  let fixture: Fixture;
  // Latency keeps requests sent together in flight together, so that they count as one round trip even on a busy
  // machine.
  beforeAll(async () => {
    fixture = await startFixture({ latencyMs: 200 });
  });
  afterAll(() => fixture.close());
  const inNamespace = (namespace: string) => ['--set', `metadata.namespace=${namespace}`];
  const kubeconfig = () => ['--kubeconfig', fixture.running.kubeconfigPath];
  const roundTrips = async (command: string) => {
    const count = sequentialRoundTrips(fixture.running);
    const { code } = await run([command, ...inNamespace('startup'), ...kubeconfig()]);
    return { code, roundTrips: count() };
  };

  // Into a new namespace: the namespace's state and discovery of every apiVersion together, the namespace, the
  // lock, the three phases of objects, and the lock's release; nothing to list for pruning in a namespace this
  // apply made. Again into the same namespace: the lists for pruning instead of the namespace.
  test('apply of the demo stack: at most 7 in a row into a new namespace, 8 again; status: at most 2', async () => {
    const apply = await roundTrips('apply');
    expect(apply.code).toBe(0);
    expect(apply.roundTrips).toBeGreaterThan(1);
    expect(apply.roundTrips).toBeLessThanOrEqual(7);
    const again = await roundTrips('apply');
    expect(again.code).toBe(0);
    expect(again.roundTrips).toBeLessThanOrEqual(8);
    const status = await roundTrips('status');
    expect(status.roundTrips).toBeGreaterThan(0);
    expect(status.roundTrips).toBeLessThanOrEqual(2);
  });

  test('apply with generated certificates loads @peculiar/x509 (a chunk of its own) and issues them', async () => {
    const { code } = await run([
      'apply',
      ...inNamespace('startup-tls'),
      '--set',
      'spec.tls.enabled=true',
      ...kubeconfig(),
    ]);
    expect(code).toBe(0);
    const certificates = fixture.running.server.api
      .list('Secret', 'startup-tls')
      .filter((secret) => secret.type === 'kubernetes.io/tls');
    expect(certificates.length).toBeGreaterThan(1);
  });
});
