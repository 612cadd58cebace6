// The loki-stack backend plugin in a test backend (startTestBackend, Backstage's default auth) answering from
// the test API server. By entity: ready, degraded, failed, missing stack, unreachable or forbidding cluster, an
// entity the caller may not read (404, as if it did not exist), loki.stack.read denied (403), no or a bad
// annotation (404), unauthenticated (401), the cache. By location: services only, behind its own permission.
// Rules: what the ruler of a stack that declares them reports, failing groups by file and group; a ruler that
// does not answer makes them "unknown", not the status.
import { startStatusBackend, AS, ENTITIES, type StatusBackend } from './stacks.js';
import { byEntity, stackEntity } from './entities.js';

type Json = Record<string, any>;

const TTL_SECONDS = 1;
let backend: StatusBackend;

beforeAll(async () => {
  backend = await startStatusBackend(TTL_SECONDS);
});

afterAll(async () => {
  await backend.close();
});

const get = (path: string, as?: string) => backend.get(path, as);
const untilCondition = (location: string, type: string) => backend.untilCondition(location, type);
const listsIn = (namespace: string) =>
  backend.fixture.running.server.faults.requests.filter(
    (r) => r.method === 'GET' && r.path.includes(`/namespaces/${namespace}/`),
  ).length;
const entityPath = (location: string) => byEntity(stackEntity(location));

test('a ready stack by its entity: the StackStatus the CLI prints, and checkedAt', async () => {
  const body = await untilCondition('dev/b-ready/loki', 'Ready');
  expect(body).toMatchObject({
    apiVersion: 'loki-microservices/v1alpha1',
    kind: 'StackStatus',
    name: 'loki',
    namespace: 'b-ready',
    endpoints: { query: 'http://loki-query-frontend.b-ready.svc.cluster.local:3100' },
  });
  expect(body.components.querier).toMatchObject({ desired: 2, ready: 2 });
  expect(Date.parse(body.checkedAt)).toBeGreaterThan(Date.now() - 60_000);
});

test('a failed and a degraded stack say which component and why', async () => {
  const failed = await untilCondition('dev/b-failed/loki', 'Failed');
  expect(failed.components.ingester.notReady[0]).toMatchObject({ name: 'loki-ingester-0', failing: true });
  const degraded = await untilCondition('prod-eu/b-degraded/loki', 'Degraded');
  // The kubelet alternates ErrImagePull and ImagePullBackOff while it retries the pull; either is the answer.
  expect(degraded.condition.message).toMatch(/^distributor 1\/1 ready \((ErrImagePull|ImagePullBackOff)\)$/);
  expect(degraded.components.distributor.notReady[0]).toMatchObject({
    reason: expect.stringMatching(/^(ErrImagePull|ImagePullBackOff)$/),
    failing: true,
  });
});

test('a stack that declares rules: the groups its ruler loaded, and the failing one by tenant, file and group', async () => {
  const body = await backend.untilRulesLoaded('dev/b-rules/loki', 2);
  expect(body.rules).toEqual({
    loaded: 2,
    problems: [
      {
        tenant: 'fake',
        source: 'rules/shop.yaml',
        group: 'typo',
        state: 'failing',
        error: expect.stringMatching(/^parse error/),
      },
    ],
  });
  expect(body.condition.type).toBe('Ready');
  expect((await backend.status('dev/b-ready/loki')).body).not.toHaveProperty('rules');
}, 90_000);

test('rules cost one port-forward to a ruler per tenant for any number of concurrent cards, none for a stack without rules', async () => {
  await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 50));
  const forwards = (namespace: string) =>
    backend.fixture.running.server.faults.requests.filter(
      (r) => r.path.includes(`/namespaces/${namespace}/pods/`) && r.path.includes('/portforward'),
    ).length;
  const before = [forwards('b-rules'), forwards('b-ready')];
  const answers = await Promise.all(Array.from({ length: 10 }, () => backend.status('dev/b-rules/loki')));
  expect(answers.map((answer) => answer.body.rules?.loaded)).toEqual(Array(10).fill(2));
  await Promise.all(Array.from({ length: 3 }, () => backend.status('dev/b-ready/loki')));
  expect([forwards('b-rules') - before[0]!, forwards('b-ready') - before[1]!]).toEqual([1, 0]);
}, 90_000);

test('a ruler that does not answer: the status comes within the rules deadline, its rules "unknown" and why', async () => {
  await backend.untilRulesLoaded('dev/b-rules/loki', 2);
  const { faults } = backend.fixture.running.server;
  faults.stall({ verb: 'create', resource: 'pods/portforward', namespace: 'b-rules' });
  try {
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 50));
    const started = Date.now();
    const response = await backend.status('dev/b-rules/loki');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(response.status).toBe(200);
    expect(response.body.condition.type).toBe('Ready');
    expect(response.body.rules).toEqual({ unknown: 'the ruler did not answer within 2000 ms' });
  } finally {
    faults.releaseStalled();
  }
  await backend.untilRulesLoaded('dev/b-rules/loki', 2);
}, 90_000);

test('a cluster that refuses port-forwards: the rules are unknown saying which right is missing, never an address', async () => {
  await backend.untilRulesLoaded('dev/b-rules/loki', 2);
  const { faults } = backend.fixture.running.server;
  faults.forbid({ verb: 'create', resource: 'pods/portforward', namespace: 'b-rules' });
  try {
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 50));
    const response = await backend.status('dev/b-rules/loki');
    expect(response.status).toBe(200);
    expect(response.body.rules).toEqual({
      unknown:
        'the cluster refuses a port-forward to a ruler pod (HTTP 403): the service account needs create on pods/portforward',
    });
  } finally {
    faults.allowAll();
  }
}, 90_000);

test('a ruler annotation edited by hand: the rules are unknown, naming it, and the status is served', async () => {
  const { apps } = backend.fixture.connection;
  const setAnnotation = async (value: string) => {
    const ruler = await apps.readNamespacedStatefulSet({ name: 'loki-ruler', namespace: 'b-rules' });
    const old = ruler.metadata!.annotations!['loki-microservices/rules']!;
    ruler.metadata!.annotations!['loki-microservices/rules'] = value;
    await apps.replaceNamespacedStatefulSet({ name: 'loki-ruler', namespace: 'b-rules', body: ruler });
    return old;
  };
  const declared = await setAnnotation('{"groups": "not a list"}');
  try {
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 50));
    const response = await backend.status('dev/b-rules/loki');
    expect(response.status).toBe(200);
    expect(response.body.components.ruler).toMatchObject({ ready: 1 });
    expect(response.body.rules).toEqual({
      unknown: "the ruler's loki-microservices/rules annotation is not a list of rule files and their groups",
    });
  } finally {
    await setAnnotation(declared);
  }
}, 90_000);

test('the entity is read as the caller, then loki.stack.read is asked on it as a resource', async () => {
  backend.asked.length = 0;
  expect((await get(entityPath('dev/b-ready/loki'), AS.noStatus)).status).toBe(403);
  expect(backend.asked).toEqual([
    {
      principal: 'user:default/no-status',
      permission: 'catalog.entity.read',
      resourceRef: 'resource:observability/dev.b-ready.loki',
    },
    {
      principal: 'user:default/no-status',
      permission: 'loki.stack.read',
      resourceRef: 'resource:observability/dev.b-ready.loki',
    },
  ]);
});

test('an entity the caller may not read is a 404 worded as for an entity that does not exist', async () => {
  const sent = backend.fixture.running.server.faults.requests.length;
  const hidden = await get(entityPath('dev/b-ready/loki'), AS.outsider);
  const missing = await get('/stacks/by-entity/resource/observability/no.such.entity');
  expect([hidden.status, missing.status]).toEqual([404, 404]);
  expect(hidden.body.error.message).toBe(
    'no entity resource:observability/dev.b-ready.loki that you may read in the catalog',
  );
  expect(missing.body.error.message).toBe(
    'no entity resource:observability/no.such.entity that you may read in the catalog',
  );
  expect(backend.fixture.running.server.faults.requests).toHaveLength(sent);
  expect(
    backend.asked.filter((asked) => asked.principal === 'user:default/outsider').map((asked) => asked.permission),
  ).not.toContain('loki.stack.read');
});

test('loki.stack.read denied: 403 naming the permission; kind and namespace matter, case does not', async () => {
  const denied = await get(entityPath('dev/b-ready/loki'), AS.noStatus);
  expect(denied.status).toBe(403);
  expect(denied.body.error.message).toBe(
    'you may not read the Loki stack status of resource:observability/dev.b-ready.loki (permission loki.stack.read)',
  );
  expect((await get('/stacks/by-entity/Resource/Observability/dev.b-ready.loki')).status).toBe(200);
  expect((await get('/stacks/by-entity/resource/default/dev.b-ready.loki')).status).toBe(404);
  expect((await get('/stacks/by-entity/component/observability/dev.b-ready.loki')).status).toBe(404);
});

test('errors by entity: 404 for a missing stack, a missing cluster, no or a bad annotation; 503 for an unreachable or forbidding cluster; never a stack trace', async () => {
  const cases: [string, number, RegExp][] = [
    [entityPath('dev/b-ready/nothing'), 404, /no Loki stack "nothing" in namespace "b-ready"/],
    [
      entityPath('staging/b-ready/loki'),
      404,
      /cluster "staging" is not configured; configured clusters: "dev", "prod-eu", "gone"/,
    ],
    [entityPath('gone/b-ready/loki'), 503, /cluster "gone" cannot be reached/],
    [
      byEntity(ENTITIES.find((entity) => entity.metadata.name === 'no-stack')!),
      404,
      /^resource:observability\/no-stack names no Loki stack: it has no loki-microservices\/stack annotation$/,
    ],
    [
      byEntity(ENTITIES.find((entity) => entity.metadata.name === 'bad')!),
      404,
      /names no Loki stack: its loki-microservices\/stack annotation "dev\/B_Ready\/loki" is not <cluster>\/<namespace>\/<name>/,
    ],
  ];
  for (const [path, status, message] of cases) {
    const response = await get(path);
    expect([path, response.status]).toEqual([path, status]);
    expect(response.body.error.message).toMatch(message);
    expect(JSON.stringify(response.body)).not.toMatch(/\n\s+at /);
  }
  backend.fixture.running.server.faults.forbid({ verb: 'list', resource: 'deployments' });
  try {
    const forbidden = await get(entityPath('dev/b-failed/loki-x'));
    expect(forbidden.status).toBe(503);
    expect(forbidden.body.error.message).toMatch(
      /cluster "dev" refuses access to the stack.s workloads or pods \(HTTP 403\)/,
    );
  } finally {
    backend.fixture.running.server.faults.allowAll();
  }
});

test('without credentials: 401 on both routes', async () => {
  expect((await get(entityPath('dev/b-ready/loki'), AS.nobody)).status).toBe(401);
  expect((await get('/stacks/dev/b-ready/loki', AS.nobody)).status).toBe(401);
});

test('by location: a service reads any stack; a user gets 403, and so does a service refused loki.stack.location.read', async () => {
  const service = await get('/stacks/dev/b-ready/loki', AS.service);
  expect(service.status).toBe(200);
  expect(service.body).toMatchObject({ kind: 'StackStatus', name: 'loki', namespace: 'b-ready' });
  const user = await get('/stacks/dev/b-ready/loki', AS.user);
  expect(user.status).toBe(403);
  expect(user.body.error.message).toBe("This endpoint does not allow 'user' credentials");
  const restricted = await get('/stacks/dev/b-ready/loki', AS.noLocation);
  expect(restricted.status).toBe(403);
  expect(restricted.body.error.message).toMatch(/permission loki\.stack\.location\.read/);
});

test('errors by location: 404 for a missing stack or cluster, 400 for bad params', async () => {
  const cases: [string, number, RegExp][] = [
    ['/stacks/dev/b-ready/nothing', 404, /no Loki stack "nothing" in namespace "b-ready"/],
    ['/stacks/staging/b-ready/loki', 404, /cluster "staging" is not configured/],
    ['/stacks/dev/B_Ready/loki', 400, /namespace "B_Ready" is not a namespace name/],
  ];
  for (const [path, status, message] of cases) {
    const response = await get(path, AS.service);
    expect([path, response.status]).toEqual([path, status]);
    expect(response.body.error.message).toMatch(message);
  }
});

test('the permissions are registered for policies and the permission backend to list', async () => {
  const metadata = await get('/.well-known/backstage/permissions/metadata', AS.service);
  expect(metadata.status).toBe(200);
  const permissions = (metadata.body.permissions as Json[]).map(({ name, type, resourceType }) => ({
    name,
    type,
    resourceType,
  }));
  expect(permissions).toEqual([
    { name: 'loki.stack.read', type: 'resource', resourceType: 'catalog-entity' },
    { name: 'loki.stack.location.read', type: 'basic', resourceType: undefined },
  ]);
});

test('the cache: one lookup per TTL, and concurrent requests share it', async () => {
  await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 50));
  const path = entityPath('dev/b-ready/loki');
  const before = listsIn('b-ready');
  const answers = await Promise.all(Array.from({ length: 10 }, () => get(path)));
  expect(answers.every((answer) => answer.status === 200)).toBe(true);
  expect(new Set(answers.map((answer) => answer.body.checkedAt)).size).toBe(1);
  const oneLookup = listsIn('b-ready') - before;
  expect(oneLookup).toBeGreaterThan(0);
  expect(oneLookup).toBeLessThanOrEqual(6);
  await get(path);
  expect(listsIn('b-ready') - before).toBe(oneLookup);
  await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 50));
  const fresh = await get(path);
  expect(fresh.body.checkedAt).not.toBe(answers[0]!.body.checkedAt);
  expect(listsIn('b-ready') - before).toBe(2 * oneLookup);
});
