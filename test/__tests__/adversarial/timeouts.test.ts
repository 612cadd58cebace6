// Attacks 7 and 8: an API server that accepts connections and never answers hung `status` until it was
// killed, and the status backend never answered; the status path parsed the stack's ConfigMap with a YAML
// parser that takes minutes on a megabyte. Every request has a timeout, every watch an idle timeout, every
// command a deadline; status reads no ConfigMap at all.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { PatchStrategy } from '@kubernetes/client-node';
import { applyStack, getStackStatus, parseSpec, waitForStack } from 'loki-microservices';
import { kubeconfigYaml } from '../../src/apiserver/index.js';
import { serverCredentials } from '../../src/apiserver/tls.js';
import { FAST_RETRY, startFixture, type Fixture } from '../cluster/fixture.js';
import { cli } from './harness.js';

jest.setTimeout(180_000);

let fixture: Fixture;
let silent: Server;
let silentKubeconfig: string;
const held: Socket[] = [];

beforeAll(async () => {
  fixture = await startFixture({ readyAfterMs: 1500 });
  // Accepts every connection and never says a word (not even the TLS handshake).
  silent = createServer((socket) => void held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  silentKubeconfig = join(mkdtempSync(join(tmpdir(), 'silent-')), 'kubeconfig');
  writeFileSync(
    silentKubeconfig,
    kubeconfigYaml(`https://127.0.0.1:${port}`, 'silent-token', (await serverCredentials()).caPem),
  );
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  await fixture.close();
});

test.each([
  ['status', ['status', '--request-timeout', '1s', '--timeout', '5s']],
  ['apply', ['apply', '--request-timeout', '1s', '--timeout', '5s']],
  ['destroy', ['destroy', '--request-timeout', '1s', '--timeout', '5s']],
])('%s against an API server that never answers ends within its deadline, saying so', async (_command, args) => {
  const started = Date.now();
  const result = await cli(undefined, [...args, '--kubeconfig', silentKubeconfig]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/did not answer in time/);
  // The deadline plus one request's timeout, with room for a busy machine: not "until killed".
  expect(Date.now() - started).toBeLessThan(60_000);
});

test('a wait whose watches go silent lists again and sees the stack become ready', async () => {
  const ref = { name: 'loki', namespace: 'silent-watch' };
  await applyStack(fixture.connection, parseSpec({ metadata: { namespace: ref.namespace } }), { retry: FAST_RETRY });
  fixture.running.server.faults.stall({ verb: 'watch' });
  try {
    const { status } = await waitForStack(fixture.connection, ref, {
      timeoutMs: 90_000,
      watchIdleTimeoutMs: 1000,
      retry: FAST_RETRY,
    });
    expect(status.condition.type).toBe('Ready');
  } finally {
    fixture.running.server.faults.allowAll();
  }
});

test("status reads no ConfigMap: a megabyte of hostile YAML in the stack's config costs it nothing", async () => {
  const ref = { name: 'loki', namespace: 'big-config' };
  await applyStack(fixture.connection, parseSpec({ metadata: { namespace: ref.namespace } }), { retry: FAST_RETRY });
  const megabyte = 'key: value\n'.repeat(95_000);
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'loki-config', namespace: ref.namespace },
    data: { 'config.yaml': megabyte },
  };
  await fixture.connection.objects.patch(
    configMap,
    undefined,
    undefined,
    'someone',
    undefined,
    PatchStrategy.MergePatch,
  );
  const before = fixture.running.server.faults.requests.length;
  const status = await getStackStatus(fixture.connection, ref, FAST_RETRY);
  expect(status.endpoints.query).toBe('http://loki-query-frontend.big-config.svc.cluster.local:3100');
  const paths = fixture.running.server.faults.requests.slice(before).map((request) => request.path);
  expect(paths.filter((path) => path.includes('configmaps'))).toEqual([]);
});
