// writeDiagnostics and `loki-microservices diagnose -o DIR`: the files a CI job keeps as an artifact when a stack
// does not work: status, manifests, the stack's events, and per pod its object, events and logs (the crashed
// instance's too); redacted, and only about this stack.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { applyStack, registerSecret, waitForStack, writeDiagnostics } from 'loki-microservices';
import { eventually, FAST_RETRY, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(120_000);

const BIN = fileURLToPath(new URL('../../../shared/bin/loki-microservices.js', import.meta.url));

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

afterEach(() => {
  fixture.running.server.cluster.heal();
});

type Json = Record<string, any>;

const read = (directory: string, file: string) => readFileSync(join(directory, file), 'utf8');
/** The container of a pod that has restarted (the init container, when that is the one failing). */
const restarted = (pod: Json): string | undefined =>
  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
    (status: Json) => status.restartCount > 0,
  )?.name;

test('a crash-looping ingester: its pod, its events and the log of the crashed instance, redacted', async () => {
  const stack = stackOf({ metadata: { namespace: 'd-crash' } });
  // A neighbour whose events must not be in the stack's diagnostics.
  const neighbour = stackOf({ metadata: { name: 'loki-dev', namespace: 'd-crash' } });
  fixture.running.server.cluster.fail({ workload: 'loki-ingester' }, 'crashLoop');
  await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
  await applyStack(fixture.connection, neighbour, { retry: FAST_RETRY });
  const ingester = await eventually(
    () =>
      fixture.running.server.api
        .list('Pod', 'd-crash', {
          labelSelector: 'app.kubernetes.io/instance=loki,app.kubernetes.io/component=ingester',
        })
        .find((pod: Json) => restarted(pod)) as Json | undefined,
    'the ingester to have restarted',
    30_000,
  );
  const secret = fixture.running.server.store.get('Secret', 'd-crash', 'loki-object-store') as Json;
  const storeKey = Buffer.from(secret.data.AWS_SECRET_ACCESS_KEY, 'base64').toString();
  registerSecret(storeKey);

  const directory = mkdtempSync(join(tmpdir(), 'diagnostics-'));
  const files = await writeDiagnostics(fixture.connection, stack, directory, { retry: FAST_RETRY });

  const pod = ingester.metadata.name as string;
  const container = restarted(ingester)!;
  expect(files).toEqual(
    expect.arrayContaining([
      'manifests.yaml',
      'status.json',
      'events.txt',
      `pods/${pod}/pod.yaml`,
      `pods/${pod}/events.txt`,
      `pods/${pod}/${container}.log`,
      `pods/${pod}/${container}.previous.log`,
    ]),
  );
  expect(JSON.parse(read(directory, 'status.json'))).toMatchObject({ kind: 'StackStatus', name: 'loki' });
  expect(read(directory, 'manifests.yaml')).toContain('name: loki-ingester');
  expect(read(directory, `pods/${pod}/events.txt`)).toMatch(/Warning BackOff Pod\//);
  expect(read(directory, `pods/${pod}/${container}.previous.log`)).toMatch(/fatal error, exiting/);
  expect(read(directory, `pods/${pod}/pod.yaml`)).not.toContain('managedFields');
  // Only this stack: none of loki-dev's pods, none of its events.
  expect(files.some((file) => file.startsWith('pods/loki-dev-'))).toBe(false);
  expect(read(directory, 'events.txt')).not.toMatch(/loki-dev-/);
  for (const file of files) expect(read(directory, file)).not.toContain(storeKey);
});

test('diagnose from the CLI writes the directory; without -o it is a usage error, before any request', async () => {
  const stack = stackOf({ metadata: { namespace: 'd-cli' } });
  await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
  await waitForStack(
    fixture.connection,
    { name: 'loki', namespace: 'd-cli' },
    { timeoutMs: 60_000, retry: FAST_RETRY },
  );
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [BIN, 'diagnose', ...args], (error, stdout, stderr) =>
        resolve({ code: Number((error as { code?: number } | null)?.code ?? 0), stdout, stderr }),
      ),
    );
  const directory = join(mkdtempSync(join(tmpdir(), 'diagnose-cli-')), 'out');
  const written = await run([
    '--set',
    'metadata.namespace=d-cli',
    '-o',
    directory,
    '--kubeconfig',
    fixture.running.kubeconfigPath,
  ]);
  expect(written).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+ files written to /) });
  expect(existsSync(join(directory, 'status.json'))).toBe(true);

  const usage = await run(['--set', 'metadata.namespace=d-cli']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('-o DIR is required');
});
