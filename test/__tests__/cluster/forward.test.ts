// forwardStack and `loki-microservices port-forward`: local URLs that reach a stack's entry points over the test
// API server's pod port-forwards. A separate process pushes and reads back a line through them, as a later CI
// step would; the forward survives the pod behind it being replaced; closing it leaves nothing listening.
import { execFile, spawn } from 'node:child_process';
import { connect as connectTcp } from 'node:net';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { applyStack, forwardStack, waitForStack, type LokiStack } from 'loki-microservices';
import { eventually, FAST_RETRY, laterStep, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(120_000);

const BIN = fileURLToPath(new URL('../../../shared/bin/loki-microservices.js', import.meta.url));

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

type Json = Record<string, any>;

async function readyStack(namespace: string, spec: Json = {}): Promise<LokiStack> {
  const stack = stackOf({ metadata: { namespace }, spec });
  await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
  await waitForStack(fixture.connection, { name: 'loki', namespace }, { timeoutMs: 60_000, retry: FAST_RETRY });
  return stack;
}

const podsOf = (namespace: string, component: string) =>
  fixture.running.server.api
    .list('Pod', namespace, { labelSelector: `app.kubernetes.io/component=${component}` })
    .filter((pod: Json) => !pod.metadata.deletionTimestamp);

const isReady = (pod: Json) => pod.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True');

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() === undefined && false));
    socket.once('error', () => resolve(true));
  });

test('a later process pushes and reads back through the local URLs; a replaced pod is forwarded to again', async () => {
  const stack = await readyStack('f-main');
  const forward = await forwardStack(fixture.connection, stack);
  try {
    expect(forward.pushUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/push$/);
    expect(forward.queryUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(forward.ports.push).not.toBe(forward.ports.query);
    expect(await laterStep(forward.pushUrl, forward.queryUrl)).toMatchObject({ code: 0 });

    // The distributor pod goes away (an eviction, a rollout); its ReplicaSet makes another.
    const [before] = podsOf('f-main', 'distributor');
    fixture.running.server.api.delete('Pod', 'f-main', before!.metadata.name);
    await eventually(
      () => podsOf('f-main', 'distributor').find((pod) => pod.metadata.name !== before!.metadata.name && isReady(pod)),
      'a new ready distributor pod',
      30_000,
    );
    const mark = fixture.running.server.faults.requests.length;
    const step = await laterStep(forward.pushUrl, forward.queryUrl);
    expect(step).toMatchObject({ code: 0 });
    const toDistributors = fixture.running.server.faults.requests
      .slice(mark)
      .filter((r) => /\/pods\/loki-distributor-[^/]+\/portforward/.test(r.path));
    expect(toDistributors.at(-1)?.path).not.toContain(before!.metadata.name);
  } finally {
    await forward.close();
  }
  expect(await refused(forward.ports.push)).toBe(true);
  expect(await refused(forward.ports.query)).toBe(true);
});

test('with the gateway: one port for both, refused without credentials, open with a tenant password', async () => {
  const stack = await readyStack('f-gateway', { gateway: { enabled: true } });
  const forward = await forwardStack(fixture.connection, stack);
  try {
    expect(forward.ports.push).toBe(forward.ports.query);
    const anonymous = await fetch(forward.pushUrl, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);
    const secret = fixture.running.server.api.get('Secret', 'f-gateway', 'loki-gateway-passwords') as Json;
    const [user, password] = Object.entries(secret.data as Record<string, string>)[0]!;
    const step = await laterStep(forward.pushUrl, forward.queryUrl, `${user}:${Buffer.from(password, 'base64')}`);
    expect(step).toMatchObject({ code: 0 });
  } finally {
    await forward.close();
  }
});

test('through the gateway, the patterns API answers from the pattern ingester while one runs, 404 without one', async () => {
  const tenantOf = (namespace: string) => {
    const secret = fixture.running.server.api.get('Secret', namespace, 'loki-gateway-passwords') as Json;
    const [user, password] = Object.entries(secret.data as Record<string, string>)[0]!;
    return `Basic ${Buffer.from(`${user}:${Buffer.from(password, 'base64')}`).toString('base64')}`;
  };
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const push = {
    streams: [
      {
        stream: { job: 'patterns' },
        values: [1n, 2n, 3n].map((i) => [String(nowNs - i * 1_000_000_000n), `GET /api/orders/${i} took ${i}ms`]),
      },
    ],
  };
  const patternsPath = `/loki/api/v1/patterns?query=${encodeURIComponent('{job="patterns"}')}&start=${nowNs - 60_000_000_000n}&end=${nowNs + 1_000_000_000n}&step=60s`;

  for (const [namespace, running] of [
    ['f-patterns', true],
    ['f-no-patterns', false],
  ] as const) {
    const stack = await readyStack(namespace, {
      gateway: { enabled: true },
      components: { patternIngester: { enabled: running } },
    });
    expect(podsOf(namespace, 'pattern-ingester')).toHaveLength(running ? 1 : 0);
    const forward = await forwardStack(fixture.connection, stack);
    try {
      const authorization = tenantOf(namespace);
      const pushed = await fetch(forward.pushUrl, {
        method: 'POST',
        headers: { Authorization: authorization, 'Content-Type': 'application/json' },
        body: JSON.stringify(push),
      });
      expect(pushed.status).toBe(204);
      const answer = await fetch(`${forward.queryUrl}${patternsPath}`, { headers: { Authorization: authorization } });
      expect({ namespace, status: answer.status }).toEqual({ namespace, status: running ? 200 : 404 });
      if (!running) continue;
      const [found, ...others] = ((await answer.json()) as Json).data as Json[];
      expect({ others, pattern: found!.pattern, level: found!.level }).toEqual({
        others: [],
        pattern: 'GET <_> took <_>',
        level: 'unknown',
      });
      // Three lines, in one 60 s step or two when they straddle a minute.
      expect((found!.samples as [number, number][]).reduce((sum, [, count]) => sum + count, 0)).toBe(3);
    } finally {
      await forward.close();
    }
  }
});

test('a connection waits for a ready pod, and gives up on none with the reason', async () => {
  const stack = await readyStack('f-none');
  const events: string[] = [];
  fixture.running.server.cluster.fail({ workload: 'loki-query-frontend' }, 'crashLoop');
  await eventually(() => !podsOf('f-none', 'query-frontend').some(isReady), 'no ready query-frontend', 30_000);
  const forward = await forwardStack(fixture.connection, stack, { podWaitMs: 1500, onEvent: (e) => events.push(e) });
  try {
    await expect(fetch(`${forward.queryUrl}/ready`)).rejects.toThrow();
    expect(events.at(-1)).toMatch(
      /^query-frontend: gave up on a connection to the query-frontend: no ready query-frontend pod in f-none/,
    );
  } finally {
    await forward.close();
    fixture.running.server.cluster.heal();
  }
});

test('port-forward from the CLI: prints the URLs as JSON, forwards, and ends with 0 on SIGTERM', async () => {
  await readyStack('f-cli');
  const child = spawn(process.execPath, [
    BIN,
    'port-forward',
    '--set',
    'metadata.namespace=f-cli',
    '-o',
    'json',
    '--kubeconfig',
    fixture.running.kubeconfigPath,
  ]);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const printed = await eventually(() => stdout.includes('\n') && (JSON.parse(stdout) as Json), 'the URLs', 30_000);
  expect(printed).toMatchObject({ gateway: null, ports: { push: expect.any(Number), query: expect.any(Number) } });
  expect(await laterStep(printed.pushUrl, printed.queryUrl)).toMatchObject({ code: 0 });
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

test('port-forward refuses a bad port before contacting anything', async () => {
  const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, [BIN, 'port-forward', '--push-port', '70000'], (error, _stdout, stderr) =>
      resolve({ code: Number((error as { code?: number } | null)?.code ?? 0), stderr }),
    ),
  );
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('--push-port must be a port number (0-65535), not "70000"');
});
