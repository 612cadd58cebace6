// The loki-stack backend plugin in a test backend (startTestBackend, Backstage's default auth) answering from
// the test API server: ready, degraded, failed, missing, unreachable, forbidden, unauthenticated, bad params,
// and the cache (one lookup per TTL, concurrent requests sharing it).
import { mockCredentials } from '@backstage/backend-test-utils';
import { startStatusBackend, type StatusBackend } from './stacks.js';

type Json = Record<string, any>;

const TTL_SECONDS = 1;
let backend: StatusBackend;

beforeAll(async () => {
  backend = await startStatusBackend(TTL_SECONDS);
});

afterAll(async () => {
  await backend.close();
});

const get = (path: string) => backend.get(path);
const untilCondition = (path: string, type: string) => backend.untilCondition(path, type);
const listsIn = (namespace: string) => backend.fixture.running.server.faults.requests.filter((r) => r.method === 'GET' && r.path.includes(`/namespaces/${namespace}/`)).length;

test('a ready stack: the StackStatus the CLI prints, and checkedAt', async () => {
  const body = await untilCondition('/stacks/dev/b-ready/loki', 'Ready');
  expect(body).toMatchObject({ apiVersion: 'loki-microservices/v1alpha1', kind: 'StackStatus', name: 'loki', namespace: 'b-ready', endpoints: { query: 'http://loki-query-frontend.b-ready.svc.cluster.local:3100' } });
  expect(body.components.querier).toMatchObject({ desired: 2, ready: 2 });
  expect(Date.parse(body.checkedAt)).toBeGreaterThan(Date.now() - 60_000);
});

test('a failed and a degraded stack say which component and why', async () => {
  const failed = await untilCondition('/stacks/dev/b-failed/loki', 'Failed');
  expect(failed.components.ingester.notReady[0]).toMatchObject({ name: 'loki-ingester-0', failing: true });
  const degraded = await untilCondition('/stacks/prod-eu/b-degraded/loki', 'Degraded');
  expect(degraded.condition.message).toBe('distributor 1/1 ready (ImagePullBackOff)');
  expect(degraded.components.distributor.notReady[0]).toMatchObject({ reason: 'ImagePullBackOff', failing: true });
});

test('errors: 404 for a missing stack or cluster, 503 for an unreachable or forbidding cluster, 400 for bad params; never a stack trace', async () => {
  const cases: [string, number, RegExp][] = [
    ['/stacks/dev/b-ready/nothing', 404, /no Loki stack "nothing" in namespace "b-ready"/],
    ['/stacks/staging/b-ready/loki', 404, /cluster "staging" is not configured; configured clusters: "dev", "prod-eu", "gone"/],
    ['/stacks/gone/b-ready/loki', 503, /cluster "gone" cannot be reached/],
    ['/stacks/dev/B_Ready/loki', 400, /namespace "B_Ready" is not a namespace name/],
  ];
  for (const [path, status, message] of cases) {
    const response = await get(path);
    expect([path, response.status]).toEqual([path, status]);
    expect(response.body.error.message).toMatch(message);
    expect(JSON.stringify(response.body)).not.toMatch(/\n\s+at /);
  }
  backend.fixture.running.server.faults.forbid({ verb: 'list', resource: 'deployments' });
  try {
    const forbidden = await get('/stacks/dev/b-failed/loki-x');
    expect(forbidden.status).toBe(503);
    expect(forbidden.body.error.message).toMatch(/cluster "dev" refuses access to the stack.s workloads or pods \(HTTP 403\)/);
  } finally {
    backend.fixture.running.server.faults.allowAll();
  }
});

test('without credentials: 401', async () => {
  const response = await get('/stacks/dev/b-ready/loki').set('Authorization', mockCredentials.none.header());
  expect(response.status).toBe(401);
});

test('the cache: one lookup per TTL, and concurrent requests share it', async () => {
  await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 50));
  const before = listsIn('b-ready');
  const answers = await Promise.all(Array.from({ length: 10 }, () => get('/stacks/dev/b-ready/loki')));
  expect(answers.every((answer) => answer.status === 200)).toBe(true);
  expect(new Set(answers.map((answer) => answer.body.checkedAt)).size).toBe(1);
  const oneLookup = listsIn('b-ready') - before;
  expect(oneLookup).toBeGreaterThan(0);
  expect(oneLookup).toBeLessThanOrEqual(6);
  await get('/stacks/dev/b-ready/loki');
  expect(listsIn('b-ready') - before).toBe(oneLookup);
  await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 50));
  const fresh = await get('/stacks/dev/b-ready/loki');
  expect(fresh.body.checkedAt).not.toBe(answers[0]!.body.checkedAt);
  expect(listsIn('b-ready') - before).toBe(2 * oneLookup);
});
