// --recreate-statefulsets against the test API server: a StatefulSet change Kubernetes refuses in place (a
// volume size) is made by deleting the StatefulSet with its pods left running and creating it again; the
// pods whose template did not change are kept, the claims grow when their StorageClass allows it, and
// anything that cannot be done is refused before anything is written.
import { jest } from '@jest/globals';
import { applyStack, ImmutableFieldError, planStack, waitForStack, type LokiStack } from 'loki-microservices';
import { FAST_RETRY, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(300_000);

type Json = Record<string, any>;
let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
  // kind's `standard` class cannot expand; this one can.
  fixture.running.server.allowVolumeExpansion('expandable');
});
afterAll(async () => {
  await fixture.close();
});

const ingester = (size: string, storageClassName?: string, extra: Json = {}) => ({
  components: { ingester: { replicas: 3, storage: { size, ...(storageClassName ? { storageClassName } : {}) } } },
  ...extra,
});
const specIn = (namespace: string, spec: Json) => stackOf({ metadata: { name: 'loki', namespace }, spec });
const apply = (stack: LokiStack, options = {}) =>
  applyStack(fixture.connection, stack, { retry: FAST_RETRY, ...options });
const plan = (stack: LokiStack, options = {}) =>
  planStack(fixture.connection, stack, { retry: FAST_RETRY, ...options });
const settle = (stack: LokiStack) =>
  waitForStack(fixture.connection, { name: 'loki', namespace: stack.metadata.namespace }, { timeoutMs: 120_000 });

const api = () => fixture.running.server.api;
const statefulSet = (namespace: string) => api().get('StatefulSet', namespace, 'loki-ingester') as Json;
const ingesterPods = (namespace: string) =>
  new Map(
    (api().list('Pod', namespace, { labelSelector: 'app.kubernetes.io/component=ingester' }) as Json[])
      .filter((pod) => !pod.metadata.deletionTimestamp)
      .map((pod) => [pod.metadata.name as string, pod.metadata.uid as string]),
  );
const claims = (namespace: string) =>
  (api().list('PersistentVolumeClaim', namespace, {}) as Json[])
    .filter((claim) => claim.metadata.name.startsWith('data-loki-ingester-'))
    .map((claim) => ({
      name: claim.metadata.name,
      requested: claim.spec.resources.requests.storage,
      capacity: claim.status?.capacity?.storage,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));

/** Writes other than dry runs and the stack's lock (a Lease apply takes before it reads the stack). */
const writes = () =>
  fixture.running.server.faults.requests.filter(
    (request) => request.method !== 'GET' && !/[?&]dryRun=All/.test(request.path) && !request.path.includes('/leases'),
  ).length;

test('a larger volume of an expandable class: the StatefulSet is new, no pod is replaced, every claim grows', async () => {
  const namespace = 'recreate-grow';
  await apply(specIn(namespace, ingester('2Gi', 'expandable')));
  await settle(specIn(namespace, ingester('2Gi', 'expandable')));
  const before = { uid: statefulSet(namespace).metadata.uid, pods: ingesterPods(namespace) };
  expect(before.pods.size).toBe(3);
  const bigger = specIn(namespace, ingester('4Gi', 'expandable'));

  const planned = await plan(bigger, { recreateStatefulSets: true });
  expect(planned.blockers).toEqual([]);
  expect(planned.rolls).toEqual([]);
  expect(planned.changes).toEqual([
    {
      kind: 'StatefulSet',
      name: 'loki-ingester',
      impact: 'recreate',
      fields: ['spec.volumeClaimTemplates[0].spec.resources.requests.storage'],
    },
    ...[0, 1, 2].map((ordinal) => ({
      kind: 'PersistentVolumeClaim',
      name: `data-loki-ingester-${ordinal}`,
      impact: 'in-place',
      fields: ['spec.resources.requests.storage'],
    })),
  ]);

  const result = await apply(bigger, { recreateStatefulSets: true });
  expect(result.recreated).toEqual([
    {
      name: 'loki-ingester',
      fields: ['spec.volumeClaimTemplates[0].spec.resources.requests.storage'],
      claims: [0, 1, 2].map((ordinal) => ({
        name: `data-loki-ingester-${ordinal}`,
        storageClass: 'expandable',
        from: '2Gi',
        to: '4Gi',
      })),
    },
  ]);
  await settle(bigger);
  const after = statefulSet(namespace);
  expect(after.metadata.uid).not.toBe(before.uid);
  expect(after.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('4Gi');
  // Every pod kept, adopted by the new StatefulSet.
  expect(ingesterPods(namespace)).toEqual(before.pods);
  for (const pod of api().list('Pod', namespace, { labelSelector: 'app.kubernetes.io/component=ingester' }) as Json[])
    expect(pod.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'StatefulSet', uid: after.metadata.uid }),
    ]);
  expect(claims(namespace)).toEqual(
    [0, 1, 2].map((ordinal) => ({ name: `data-loki-ingester-${ordinal}`, requested: '4Gi', capacity: '4Gi' })),
  );
  // Nothing left to do.
  expect((await plan(bigger, { recreateStatefulSets: true })).hasChanges).toBe(false);
});

test('a class that cannot expand: refused before anything is written, naming the class; plan says the same', async () => {
  const namespace = 'recreate-refused';
  await apply(specIn(namespace, ingester('2Gi')));
  await settle(specIn(namespace, ingester('2Gi')));
  const uid = statefulSet(namespace).metadata.uid;
  const bigger = specIn(namespace, ingester('4Gi'));
  const planned = await plan(bigger, { recreateStatefulSets: true });
  expect(planned.blockers).toEqual([
    {
      kind: 'StatefulSet',
      name: 'loki-ingester',
      message: expect.stringContaining(
        'claim data-loki-ingester-0 cannot grow to 4Gi: its StorageClass standard does not allow volume expansion',
      ),
    },
  ]);
  const writesBefore = writes();
  const error = await apply(bigger, { recreateStatefulSets: true }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImmutableFieldError);
  expect((error as Error).message).toContain('its StorageClass standard does not allow volume expansion');
  expect((error as Error).message).toContain('Nothing was applied');
  expect(writes()).toBe(writesBefore);
  expect(statefulSet(namespace).metadata.uid).toBe(uid);
  expect(claims(namespace).map((claim) => claim.requested)).toEqual(['2Gi', '2Gi', '2Gi']);
  // Without the option, the refusal advises it.
  const plain = await apply(bigger).catch((e: unknown) => e);
  expect((plain as Error).message).toContain('re-run with --recreate-statefulsets');
});

test('a smaller volume: refused, Kubernetes cannot shrink one', async () => {
  const namespace = 'recreate-shrink';
  await apply(specIn(namespace, ingester('4Gi', 'expandable')));
  const writesBefore = writes();
  const error = await apply(specIn(namespace, ingester('2Gi', 'expandable')), { recreateStatefulSets: true }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImmutableFieldError);
  expect((error as Error).message).toContain(
    'the volumes of claim template data cannot shrink from 4Gi to 2Gi (Kubernetes only expands volumes)',
  );
  expect(writes()).toBe(writesBefore);
  const plain = await apply(specIn(namespace, ingester('2Gi', 'expandable'))).catch((e: unknown) => e);
  expect((plain as Error).message).not.toContain('--recreate-statefulsets');
});

test('a larger volume with a Loki config change: the pods roll one at a time and the claims grow', async () => {
  const namespace = 'recreate-roll';
  const stack = specIn(namespace, ingester('2Gi', 'expandable'));
  await apply(stack);
  await settle(stack);
  const before = ingesterPods(namespace);
  // The most ingester pods missing or terminating at once while the roll goes on.
  let worst = 0;
  const unsubscribe = fixture.running.server.store.subscribe((change) => {
    if (change.kind !== 'Pod' || change.object.metadata.namespace !== namespace) return;
    const running = (
      api().list('Pod', namespace, { labelSelector: 'app.kubernetes.io/component=ingester' }) as Json[]
    ).filter((pod) => !pod.metadata.deletionTimestamp).length;
    worst = Math.max(worst, 3 - running);
  });
  try {
    const changed = specIn(namespace, ingester('4Gi', 'expandable', { limits: { ingestionRateMB: 9 } }));
    const planned = await plan(changed, { recreateStatefulSets: true });
    expect(planned.rolls).toContainEqual(expect.objectContaining({ workload: 'StatefulSet loki-ingester', pods: 3 }));
    expect(planned.changes).toContainEqual(expect.objectContaining({ name: 'loki-ingester', impact: 'recreate' }));
    await apply(changed, { recreateStatefulSets: true });
    await settle(changed);
  } finally {
    unsubscribe();
  }
  const after = ingesterPods(namespace);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [name, uid] of after) expect(uid).not.toBe(before.get(name));
  expect(worst).toBe(1);
  expect(claims(namespace).map((claim) => [claim.requested, claim.capacity])).toEqual([
    ['4Gi', '4Gi'],
    ['4Gi', '4Gi'],
    ['4Gi', '4Gi'],
  ]);
});
