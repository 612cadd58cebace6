// plan against the test API server: a plan sends nothing that changes the stack; what it marks as changed is
// exactly what the next apply changes, and the pods it says roll are exactly the pods replaced.
import { jest } from '@jest/globals';
import { applyStack, ImmutableFieldError, planStack, waitForStack, type LokiStack } from 'loki-microservices';
import { FAST_RETRY, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(300_000);

type Json = Record<string, any>;
let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});
afterAll(async () => {
  await fixture.close();
});

const specIn = (namespace: string, spec: Json = {}) => stackOf({ metadata: { name: 'loki', namespace }, spec });
const plan = (stack: LokiStack, options = {}) =>
  planStack(fixture.connection, stack, { retry: FAST_RETRY, ...options });
const apply = (stack: LokiStack, options = {}) =>
  applyStack(fixture.connection, stack, { retry: FAST_RETRY, ...options });
const settle = (stack: LokiStack) =>
  waitForStack(fixture.connection, { name: 'loki', namespace: stack.metadata.namespace }, { timeoutMs: 120_000 });

/** Every write the server received (a dry run is not one). */
const writes = () =>
  fixture.running.server.faults.requests.filter(
    (request) => request.method !== 'GET' && !/[?&]dryRun=All/.test(request.path),
  ).length;

/** The pods of the stack by component, as uids (a StatefulSet's replacement keeps its name). */
function podsByComponent(namespace: string): Map<string, string[]> {
  const pods = fixture.running.server.api.list('Pod', namespace, {
    labelSelector: 'app.kubernetes.io/instance=loki',
  }) as Json[];
  const byComponent = new Map<string, string[]>();
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const component = pod.metadata.labels['app.kubernetes.io/component'];
    byComponent.set(component, [...(byComponent.get(component) ?? []), pod.metadata.uid]);
  }
  return byComponent;
}

/** Pods replaced between two snapshots: gone ones, less those a scale-down removed. */
function replaced(before: Map<string, string[]>, after: Map<string, string[]>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [component, uids] of before) {
    const now = after.get(component) ?? [];
    const gone = uids.filter((uid) => !now.includes(uid)).length;
    const count = gone - Math.max(0, uids.length - now.length);
    if (count > 0) counts[component] = count;
  }
  return counts;
}

test('a new stack: every object is created; nothing is written', async () => {
  const before = writes();
  const planned = await plan(specIn('plan-new'));
  expect(planned).toMatchObject({ apiVersion: 'loki-microservices/v1alpha1', kind: 'StackPlan', hasChanges: true });
  expect(planned.changes.length).toBeGreaterThan(20);
  expect(new Set(planned.changes.map((change) => change.impact))).toEqual(new Set(['create']));
  expect(planned.rolls).toEqual([]);
  expect(writes()).toBe(before);
  expect(fixture.running.server.api.list('Namespace', undefined, {}).map((ns: Json) => ns.metadata.name)).not.toContain(
    'plan-new',
  );
});

test('right after apply, the plan has no change', async () => {
  const stack = specIn('plan-same');
  await apply(stack);
  await settle(stack);
  const planned = await plan(stack);
  expect(planned).toMatchObject({ hasChanges: false, changes: [], rolls: [], blockers: [], warnings: [] });
});

/** Spec changes a user makes, each a function of a seeded random number. */
const MUTATIONS: ((spec: Json, random: () => number) => void)[] = [
  (spec, random) => (spec.components.querier = { replicas: 1 + Math.floor(random() * 3) }),
  (spec, random) => (spec.limits = { ingestionRateMB: 4 + Math.floor(random() * 20) }),
  (spec, random) => (spec.retention = `${24 * (7 + Math.floor(random() * 30))}h`),
  (spec, random) =>
    (spec.components.distributor = { resources: { requests: { memory: `${128 + Math.floor(random() * 8) * 32}Mi` } } }),
  (spec, random) => (spec.components.ingester = { replicas: 1 + Math.floor(random() * 3) }),
  (spec, random) => (spec.components.ruler = { enabled: random() < 0.5 }),
  (spec, random) => (spec.version = random() < 0.5 ? '3.7.0' : '3.6.3'),
  (spec, random) => (spec.components.queryFrontend = { replicas: 1 + Math.floor(random() * 2) }),
];

/** A small seeded generator (mulberry32): the same seed, the same specs. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('for seeded random changes, plan names exactly what apply changes and the pods that are replaced', async () => {
  const random = seeded(20261207);
  const namespace = 'plan-random';
  let stack = specIn(namespace);
  await apply(stack);
  await settle(stack);
  const seen = { rolled: 0, inPlace: 0 };
  const changes: Json = { components: {} };
  for (let round = 0; round < 10; round++) {
    // One or two changes on top of the last round's, as a stack evolves.
    const count = 1 + Math.floor(random() * 2);
    for (let i = 0; i < count; i++) MUTATIONS[Math.floor(random() * MUTATIONS.length)]!(changes, random);
    const spec = structuredClone(changes);
    stack = specIn(namespace, spec);
    const writesBefore = writes();
    const planned = await plan(stack);
    expect(writes()).toBe(writesBefore);
    const podsBefore = podsByComponent(namespace);

    const applied = await apply(stack);
    await settle(stack);
    const changedByApply = [
      ...applied.objects.filter((object) => object.action !== 'unchanged'),
      ...applied.secrets.filter((secret) => secret.action !== 'kept').map((secret) => ({ kind: 'Secret', ...secret })),
    ]
      .map((object) => `${object.kind}/${object.name}`)
      .sort();
    const changedByPlan = planned.changes
      .filter((change) => change.impact !== 'keep')
      .map((change) => `${change.kind}/${change.name}`)
      .sort();
    expect({ round, spec, changed: changedByPlan }).toEqual({ round, spec, changed: changedByApply });

    const predicted = Object.fromEntries(planned.rolls.map((roll) => [roll.component, roll.pods]));
    expect({ round, spec, rolls: predicted }).toEqual({
      round,
      spec,
      rolls: replaced(podsBefore, podsByComponent(namespace)),
    });
    expect(planned.hasChanges).toBe(changedByApply.length > 0);
    if (planned.rolls.length > 0) seen.rolled++;
    if (planned.changes.some((c) => c.impact === 'in-place' && /Deployment|StatefulSet/.test(c.kind))) seen.inPlace++;
  }
  // The seed gives workloads that roll and workloads changed in place, so both predictions were put to the test.
  expect(seen.rolled).toBeGreaterThan(0);
  expect(seen.inPlace).toBeGreaterThan(0);
});

test('a config change rolls every Loki pod and names the Loki keys; only replicas roll nothing', async () => {
  const namespace = 'plan-why';
  await apply(specIn(namespace));
  const limits = await plan(specIn(namespace, { limits: { ingestionRateMB: 17 } }));
  const ingester = limits.rolls.find((roll) => roll.component === 'ingester');
  expect(ingester).toEqual({
    component: 'ingester',
    workload: 'StatefulSet loki-ingester',
    pods: 1,
    reasons: ['config: limits_config.ingestion_rate_mb'],
  });
  expect(limits.changes).toContainEqual({
    kind: 'ConfigMap',
    name: 'loki-config',
    impact: 'in-place',
    fields: ['data.config.yaml'],
  });
  const scaled = await plan(specIn(namespace, { components: { querier: { replicas: 2 } } }));
  expect(scaled.rolls).toEqual([]);
  expect(scaled.changes).toEqual([
    { kind: 'Deployment', name: 'loki-querier', impact: 'in-place', fields: ['spec.replicas'] },
    expect.objectContaining({ kind: 'PodDisruptionBudget', impact: 'create' }),
  ]);
  const image = await plan(specIn(namespace, { version: '3.6.3' }));
  expect(image.rolls.find((roll) => roll.component === 'querier')?.reasons).toEqual([
    expect.stringMatching(/^image: \S+\/grafana\/loki:3\.7\.\d+ → \S+\/grafana\/loki:3\.6\.3$/),
  ]);
});

test('Loki-level warnings: retention shortened, multi-tenancy turned on, ingesters scaled down', async () => {
  const namespace = 'plan-warn';
  await apply(specIn(namespace, { retention: '744h', components: { ingester: { replicas: 3 } } }));
  const planned = await plan(
    specIn(namespace, { retention: '168h', auth: { enabled: true }, components: { ingester: { replicas: 1 } } }),
  );
  expect(planned.warnings.map((warning) => warning.code).sort()).toEqual([
    'AuthToggled',
    'IngestersScaledDown',
    'RetentionShortened',
  ]);
  expect(planned.warnings.find((w) => w.code === 'RetentionShortened')?.message).toMatch(
    /from 744h to 168h: data older than 168h is deleted after the compactor's delete delay \(2h\)/,
  );
});

test('an immutable change is a blocker in plan, and apply refuses it in the same words, changing nothing', async () => {
  const namespace = 'plan-immutable';
  await apply(specIn(namespace));
  const bigger = specIn(namespace, {
    components: { ingester: { storage: { size: '20Gi' } } },
    limits: { ingestionRateMB: 9 },
  });
  const planned = await plan(bigger);
  expect(planned.changes).toContainEqual({
    kind: 'StatefulSet',
    name: 'loki-ingester',
    impact: 'immutable',
    fields: [],
  });
  expect(planned.blockers).toEqual([
    {
      kind: 'StatefulSet',
      name: 'loki-ingester',
      message: expect.stringContaining(
        'StatefulSet loki-ingester cannot be updated in place: Kubernetes refuses changes to spec.volumeClaimTemplates[0].spec.resources.requests.storage',
      ),
    },
  ]);
  expect(planned.blockers[0]!.message).toContain('To make this change, re-run with --recreate-statefulsets');
  // A surface without the option is told how to do it by hand.
  const byHand = await plan(bigger, { optionNames: { adopt: 'adopt', deleteVolumes: 'delete-volumes' } });
  expect(byHand.blockers[0]!.message).toContain(
    `kubectl delete statefulset loki-ingester -n ${namespace} --cascade=orphan`,
  );
  const config = () => fixture.running.server.api.get('ConfigMap', namespace, 'loki-config') as Json;
  const configBefore = config().metadata.resourceVersion;
  const error = await apply(bigger).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImmutableFieldError);
  expect((error as Error).message).toContain(planned.blockers[0]!.message);
  expect(config().metadata.resourceVersion).toBe(configBefore);
});

test('per-tenant overrides change the runtime ConfigMap only: 0 pods roll', async () => {
  const namespace = 'plan-overrides';
  const auth = { enabled: true, tenant: 'team-a' };
  await apply(specIn(namespace, { auth }));
  const planned = await plan(specIn(namespace, { auth, overrides: { 'team-a': { ingestionRateMB: 40 } } }));
  expect(planned).toMatchObject({
    hasChanges: true,
    changes: [{ kind: 'ConfigMap', name: 'loki-runtime', impact: 'in-place', fields: ['data.runtime.yaml'] }],
    rolls: [],
  });
});

test('leaving the bundled store: its volume and credentials are kept, the data is said to stay behind', async () => {
  const namespace = 'plan-store';
  await apply(specIn(namespace));
  const s3 = specIn(namespace, { storage: { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1' } } });
  const planned = await plan(s3);
  expect(planned.changes.filter((change) => change.impact === 'prune' || change.impact === 'keep')).toEqual([
    { kind: 'Deployment', name: 'loki-object-store', impact: 'prune', fields: [] },
    { kind: 'Service', name: 'loki-object-store', impact: 'prune', fields: [] },
    { kind: 'PersistentVolumeClaim', name: 'loki-object-store', impact: 'keep', fields: [] },
    { kind: 'Secret', name: 'loki-object-store', impact: 'keep', fields: [] },
  ]);
  expect(planned.warnings.map((warning) => warning.code)).toContain('StorageChanged');
  const pruning = await plan(s3, { pruneVolumes: true });
  expect(pruning.changes.filter((change) => change.impact === 'keep')).toEqual([]);
  expect(pruning.changes).toContainEqual({
    kind: 'PersistentVolumeClaim',
    name: 'loki-object-store',
    impact: 'prune',
    fields: [],
  });
});

test("a Secret's changes are named by key, never by value", async () => {
  const namespace = 'plan-secret';
  const gateway = (tenants: string[]) => ({
    auth: { enabled: true, tenant: 'team-a' },
    gateway: { enabled: true, tenants },
  });
  await apply(specIn(namespace, gateway(['team-a'])));
  const planned = await plan(specIn(namespace, gateway(['team-a', 'team-b'])));
  const secrets = fixture.running.server.api.list('Secret', namespace, {}) as Json[];
  const values = secrets.flatMap((secret) => Object.values((secret.data ?? {}) as Record<string, string>));
  const decoded = values.map((value) => Buffer.from(value, 'base64').toString());
  const text = JSON.stringify(planned);
  for (const value of [...values, ...decoded].filter((v) => v.length >= 8)) expect(text).not.toContain(value);
  const changedSecrets = planned.changes.filter((change) => change.kind === 'Secret');
  expect(changedSecrets.length).toBeGreaterThan(0);
  for (const change of changedSecrets)
    for (const field of change.fields) expect(field).toMatch(/^(data|metadata\.[a-z]+)(\.[\w.-]+)?$/);
});
