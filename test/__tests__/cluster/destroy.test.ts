// destroyStack against the test API server. Acceptance criterion: "Destroy with foreign objects,
// look-alikes and PVCs present: none touched". Only what apply created for the stack goes (both its labels
// and the created-for mark, and the claims its StatefulSets made), in reverse apply order; volumes and the
// generated store credentials stay unless asked for; the namespace goes only when apply created it for
// this stack and nothing else is left in it. The stack's lock (a Lease) is taken and released around it.
import { jest } from '@jest/globals';
import { applyStack, destroyStack, waitForStack, type DestroyResult } from 'loki-microservices';
import { CREATED_FOR_ANNOTATION } from 'loki-microservices/testing';
import type { KubeObject } from '../../src/apiserver/store.js';
import { eventually, FAST_RETRY, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(60_000);

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

type Json = Record<string, any>;

const INSTANCE = 'app.kubernetes.io/instance';
const MANAGED_BY = 'app.kubernetes.io/managed-by';
const MANAGER = 'loki-microservices';

/** Every kind the double stores in a namespace (Events aside, which destroying of course adds to). */
const NAMESPACED = [
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Service',
  'Endpoints',
  'PersistentVolumeClaim',
  'Pod',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'ControllerRevision',
  'PodDisruptionBudget',
];

/** Phases of apply (0 = Namespace), by the plural resource in a DELETE path. */
const PHASE_OF: Record<string, number> = {
  namespaces: 0,
  serviceaccounts: 1,
  configmaps: 1,
  secrets: 1,
  services: 2,
  persistentvolumeclaims: 2,
  deployments: 3,
  statefulsets: 3,
  poddisruptionbudgets: 3,
};

const store = () => fixture.running.server.store;
const api = () => fixture.running.server.api;

async function applyReady(namespace: string, name = 'loki'): Promise<void> {
  await applyStack(fixture.connection, stackOf({ metadata: { name, namespace } }), { retry: FAST_RETRY });
  await waitForStack(fixture.connection, { name, namespace }, { timeoutMs: 20_000, retry: FAST_RETRY });
}

function create(kind: string, namespace: string | undefined, body: Json): void {
  const apiVersion = ['Deployment', 'StatefulSet'].includes(kind)
    ? 'apps/v1'
    : kind === 'PodDisruptionBudget'
      ? 'policy/v1'
      : 'v1';
  api().create(
    kind,
    namespace,
    { apiVersion, kind, ...body, metadata: { ...body.metadata, ...(namespace ? { namespace } : {}) } } as KubeObject,
    { manager: 'kubectl-client-side-apply' },
  );
}

/** Everything in the namespace, as stored (resourceVersion, uid, every field), by `Kind/name`. */
function contents(
  namespace: string,
  keep: (object: KubeObject, kind: string) => boolean = () => true,
): Map<string, string> {
  const entries = NAMESPACED.flatMap((kind) =>
    store()
      .list(kind, namespace)
      .filter((object) => keep(object, kind))
      .map((object) => [`${kind}/${object.metadata.name}`, JSON.stringify(object)] as const),
  );
  return new Map(entries);
}

/** Kinds the cluster makes from the stack's objects, with their labels (and not apply's mark). */
const MADE_BY_THE_CLUSTER = ['Endpoints', 'Pod', 'ReplicaSet', 'ControllerRevision'];

const isOurs = (name: string) => (object: KubeObject, kind?: string) =>
  object.metadata.labels?.[INSTANCE] === name &&
  object.metadata.labels?.[MANAGED_BY] === MANAGER &&
  (object.metadata.annotations?.[CREATED_FOR_ANNOTATION] === name ||
    MADE_BY_THE_CLUSTER.includes(kind ?? object.kind ?? ''));

/** Ours, or a claim one of our StatefulSets made (those carry the pod's name, instance and component labels, no managed-by). */
const isOursOrClaim = (name: string) => (object: KubeObject, kind: string) =>
  isOurs(name)(object, kind) ||
  (kind === 'PersistentVolumeClaim' &&
    object.metadata.labels?.[INSTANCE] === name &&
    new RegExp(`^data-${name}-(ingester|compactor|index-gateway|ruler)-\\d+$`).test(object.metadata.name));

/** Objects in the namespace with both labels and the mark of stack `name`: ours, and what the cluster made from them (pods…). */
function left(namespace: string, name = 'loki'): string[] {
  return [...contents(namespace, (object, kind) => isOurs(name)(object, kind)).keys()].sort();
}

/** DELETE requests, but the release of the stack's lock. */
const deletes = () =>
  fixture.running.server.faults.requests.filter((r) => r.method === 'DELETE' && !r.path.includes('/leases/'));

const keys = (objects: { kind: string; name: string }[]) => objects.map((o) => `${o.kind}/${o.name}`).sort();

/** The claims and the Secret a default stack keeps, with why. */
function expectVolumesKept(result: DestroyResult, name = 'loki'): void {
  const claims = result.kept.filter((k) => k.kind === 'PersistentVolumeClaim');
  expect(keys(claims)).toEqual(
    [
      `data-${name}-compactor-0`,
      `data-${name}-index-gateway-0`,
      `data-${name}-ingester-0`,
      `data-${name}-ruler-0`,
      `${name}-object-store`,
    ]
      .map((n) => `PersistentVolumeClaim/${n}`)
      .sort(),
  );
  for (const claim of claims) expect(claim.why).toMatch(/volumes are kept unless --delete-volumes/);
  const secrets = result.kept.filter((k) => k.kind === 'Secret');
  expect(secrets).toEqual([
    {
      kind: 'Secret',
      name: `${name}-object-store`,
      why: expect.stringMatching(/credentials of the kept object-store volume/),
    },
  ]);
}

describe('a stack among foreign objects, look-alikes and another stack', () => {
  const namespace = 'd-shared';
  let foreign: Map<string, string>;
  let elsewhere: Map<string, string>;
  let namespaceBefore: string;

  beforeAll(async () => {
    await applyReady(namespace, 'loki'); // creates the namespace, for loki
    await applyReady(namespace, 'other'); // a second stack in the same namespace
    await applyReady('d-shared-2', 'loki'); // a stack of the same name in another namespace

    const ours = { [INSTANCE]: 'loki', [MANAGED_BY]: MANAGER };
    // Without our labels.
    create('ConfigMap', namespace, { metadata: { name: 'foreign' }, data: { a: '1' } });
    create('Secret', namespace, { metadata: { name: 'foreign-credentials' }, stringData: { password: 'hunter2' } });
    // Look-alikes sharing only some labels, and named like ours.
    create('ConfigMap', namespace, {
      metadata: { name: 'loki-config-backup', labels: { [INSTANCE]: 'loki' } },
      data: { 'config.yaml': 'x' },
    });
    create('Secret', namespace, {
      metadata: {
        name: 'loki-object-store-copy',
        labels: { [MANAGED_BY]: MANAGER, 'app.kubernetes.io/component': 'object-store' },
      },
      stringData: { k: 'v' },
    });
    create('ServiceAccount', namespace, {
      metadata: { name: 'loki-reader', labels: { [INSTANCE]: 'loki', [MANAGED_BY]: 'helm' } },
    });
    create('Service', namespace, {
      metadata: {
        name: 'loki2-distributor',
        labels: { [INSTANCE]: 'loki2', [MANAGED_BY]: MANAGER, 'app.kubernetes.io/name': 'loki' },
      },
      spec: { ports: [{ name: 'http', port: 3100 }], selector: { app: 'nothing' } },
    });
    create('PodDisruptionBudget', namespace, {
      metadata: { name: 'loki-ingester-extra', labels: { [MANAGED_BY]: MANAGER } },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'nothing' } } },
    });
    // Claims named like the ones our StatefulSets make: unlabelled, and labelled as a stack's but without the component.
    const claimSpec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };
    create('PersistentVolumeClaim', namespace, { metadata: { name: 'data-loki-ingester-7' }, spec: claimSpec });
    create('PersistentVolumeClaim', namespace, {
      metadata: { name: 'data-loki-ingester-8', labels: { 'app.kubernetes.io/name': 'loki', [INSTANCE]: 'loki' } },
      spec: claimSpec,
    });
    // And one with both our labels, which apply did not make (no created-for mark): a look-alike all the same.
    create('PersistentVolumeClaim', namespace, {
      metadata: { name: 'loki-ingester-0', labels: ours },
      spec: claimSpec,
    });
    // A workload of someone else's whose pods carry our instance label (but not managed-by).
    create('Deployment', namespace, {
      metadata: { name: 'loki-canary', labels: { [INSTANCE]: 'loki' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'canary' } },
        template: {
          metadata: { labels: { app: 'canary', [INSTANCE]: 'loki' } },
          spec: { containers: [{ name: 'canary', image: 'grafana/loki-canary:3.5.0' }] },
        },
      },
    });
    // And a bare pod that looks like one of ours.
    create('Pod', namespace, {
      metadata: {
        name: 'loki-ingester-debug',
        labels: { [INSTANCE]: 'loki', 'app.kubernetes.io/component': 'ingester' },
      },
      spec: { containers: [{ name: 'debug', image: 'busybox' }] },
    });
    await eventually(
      () =>
        store()
          .list('Pod', namespace)
          .filter((p) => p.metadata.labels?.app === 'canary' || p.metadata.name === 'loki-ingester-debug')
          .every((p) => (p.status as Json)?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True')),
      'the foreign pods to be ready',
    );
    await fixture.running.server.cluster.idle(500);

    foreign = contents(namespace, (object, kind) => !isOursOrClaim('loki')(object, kind));
    elsewhere = contents('d-shared-2');
    namespaceBefore = JSON.stringify(store().get('Namespace', undefined, namespace));
    expect(foreign.size).toBeGreaterThan(50);
  });

  test('destroy deletes only the stack, keeps its volumes and credentials, and touches nothing else', async () => {
    fixture.running.server.faults.clearLog();
    const reported: string[] = [];
    const result = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace },
      { retry: FAST_RETRY, onObject: (o) => reported.push(`${o.kind}/${o.name}`) },
    );

    // What went: the stack's workloads, budgets, Services, config and identity; told of each.
    expect(keys(result.deleted)).toEqual(
      expect.arrayContaining([
        'StatefulSet/loki-ingester',
        'Deployment/loki-distributor',
        'Service/loki-distributor',
        'ConfigMap/loki-config',
        'ServiceAccount/loki',
      ]),
    );
    expect(reported.sort()).toEqual(keys(result.deleted));
    expect(result.deleted.every((o) => o.name.startsWith('loki-') || o.name === 'loki')).toBe(true);
    expect(keys(result.deleted)).not.toContain('PersistentVolumeClaim/loki-ingester-0');
    // Waited for: nothing of it is left, its pods included, but the kept claims and Secret (the Endpoints
    // controller removes the Endpoints of the deleted Services on its own time).
    const kept = ['PersistentVolumeClaim/loki-object-store', 'Secret/loki-object-store'].sort();
    expect(left(namespace).filter((key) => !key.startsWith('Endpoints/'))).toEqual(kept);
    await eventually(() => left(namespace).length === kept.length, 'the Endpoints to go');
    expect(
      store()
        .list('Pod', namespace)
        .filter((p) => p.metadata.labels?.[INSTANCE] === 'loki' && p.metadata.labels?.[MANAGED_BY] === MANAGER),
    ).toEqual([]);
    for (const claim of [
      'data-loki-ingester-0',
      'data-loki-compactor-0',
      'data-loki-index-gateway-0',
      'data-loki-ruler-0',
      'loki-object-store',
    ]) {
      expect(store().get('PersistentVolumeClaim', namespace, claim)?.metadata.deletionTimestamp).toBeUndefined();
    }
    expect(store().get('Secret', namespace, 'loki-object-store')).toBeDefined();

    // Kept, and said why.
    expectVolumesKept(result);
    expect(result.kept.find((k) => k.kind === 'Namespace')).toEqual({
      kind: 'Namespace',
      name: namespace,
      why: expect.stringMatching(/^it is not empty: /),
    });
    expect(result.namespaceDeleted).toBe(false);

    // None touched: every other object is byte for byte as it was (same uid, resourceVersion, fields).
    expect(contents(namespace, (object, kind) => foreign.has(`${kind}/${object.metadata.name}`))).toEqual(foreign);
    expect(contents('d-shared-2')).toEqual(elsewhere);
    expect(JSON.stringify(store().get('Namespace', undefined, namespace))).toBe(namespaceBefore);
    // Nor was any of them even sent a request that changes something (the stack's lock aside).
    const written = fixture.running.server.faults.requests.filter(
      (r) => r.method !== 'GET' && !r.path.includes('/leases'),
    );
    expect(written.every((r) => r.method === 'DELETE')).toBe(true);
    const deleted = new Set(result.deleted.map((o) => o.name));
    for (const request of written)
      expect(deleted.has(decodeURIComponent(request.path.split('?')[0]!.split('/').at(-1)!))).toBe(true);
    expect(written).toHaveLength(result.deleted.length);
    expect(
      written.every(
        (r) =>
          r.path.startsWith(`/api/v1/namespaces/${namespace}/`) ||
          r.path.startsWith(`/apis/apps/v1/namespaces/${namespace}/`) ||
          r.path.startsWith(`/apis/policy/v1/namespaces/${namespace}/`),
      ),
    ).toBe(true);
  });

  test('with deleteVolumes, the claims and the credentials go too, and still nothing else', async () => {
    fixture.running.server.faults.clearLog();
    const result = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace },
      { retry: FAST_RETRY, deleteVolumes: true },
    );

    expect(keys(result.deleted)).toEqual(
      [
        'data-loki-compactor-0',
        'data-loki-index-gateway-0',
        'data-loki-ingester-0',
        'data-loki-ruler-0',
        'loki-object-store',
      ]
        .map((n) => `PersistentVolumeClaim/${n}`)
        .concat('Secret/loki-object-store')
        .sort(),
    );
    expect(left(namespace)).toEqual([]);
    for (const claim of ['data-loki-ingester-0', 'data-loki-compactor-0', 'loki-object-store'])
      expect(store().get('PersistentVolumeClaim', namespace, claim)).toBeUndefined();
    expect(result.kept).toEqual([
      { kind: 'Namespace', name: namespace, why: expect.stringMatching(/^it is not empty: /) },
    ]);
    expect(result.namespaceDeleted).toBe(false);

    expect(contents(namespace, (object, kind) => foreign.has(`${kind}/${object.metadata.name}`))).toEqual(foreign);
    expect(contents('d-shared-2')).toEqual(elsewhere);
    expect(JSON.stringify(store().get('Namespace', undefined, namespace))).toBe(namespaceBefore);
    // The look-alike claims are still there, unchanged.
    expect(store().get('PersistentVolumeClaim', namespace, 'data-loki-ingester-7')).toBeDefined();
    expect(store().get('PersistentVolumeClaim', namespace, 'data-loki-ingester-8')).toBeDefined();
    expect(store().get('PersistentVolumeClaim', namespace, 'loki-ingester-0')).toBeDefined();
  });

  test('the other stack in the namespace is still whole and ready', async () => {
    const { status } = await waitForStack(
      fixture.connection,
      { name: 'other', namespace },
      { timeoutMs: 5_000, retry: FAST_RETRY },
    );
    expect(status.condition.type).toBe('Ready');
    expect(Object.keys(status.components)).toHaveLength(9);
  });
});

describe('the namespace', () => {
  test('created by apply for this stack: kept while the volumes are, deleted with them once empty', async () => {
    await applyReady('d-own');
    const namespace = store().get('Namespace', undefined, 'd-own')!;
    expect(namespace.metadata.annotations?.[CREATED_FOR_ANNOTATION]).toBe('loki');

    const first = await destroyStack(fixture.connection, { name: 'loki', namespace: 'd-own' }, { retry: FAST_RETRY });
    expect(first.namespaceDeleted).toBe(false);
    expectVolumesKept(first);
    expect(first.kept.find((k) => k.kind === 'Namespace')!.why).toMatch(
      /^it is not empty: (Secret|PersistentVolumeClaim)\/.* and \d+ more$/,
    );
    expect(store().get('Namespace', undefined, 'd-own')!.metadata.deletionTimestamp).toBeUndefined();

    const second = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace: 'd-own' },
      { retry: FAST_RETRY, deleteVolumes: true },
    );
    expect(second.namespaceDeleted).toBe(true);
    expect(second.kept).toEqual([]);
    expect(keys(second.deleted)).toContain('Secret/loki-object-store');
    // Waited for: not merely Terminating.
    expect(store().get('Namespace', undefined, 'd-own')).toBeUndefined();
  });

  test('in one go with deleteVolumes', async () => {
    await applyReady('d-once');
    const result = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace: 'd-once' },
      { retry: FAST_RETRY, deleteVolumes: true },
    );
    expect(result.namespaceDeleted).toBe(true);
    expect(result.kept).toEqual([]);
    expect(store().get('Namespace', undefined, 'd-once')).toBeUndefined();
  });

  test("with deleteVolumes, a zone-aware stack's zone claims go too, and the namespace with them", async () => {
    const namespace = 'd-zones';
    const zoned = stackOf({
      metadata: { namespace },
      spec: { replicationFactor: 3, zoneAwareness: { enabled: true, zones: ['a', 'b', 'c'] } },
    });
    await applyStack(fixture.connection, zoned, { retry: FAST_RETRY });
    await waitForStack(fixture.connection, { name: 'loki', namespace }, { timeoutMs: 20_000, retry: FAST_RETRY });
    const zoneClaims = ['a', 'b', 'c'].map((zone) => `PersistentVolumeClaim/data-loki-ingester-zone-${zone}-0`);
    expect(
      keys(
        store()
          .list('PersistentVolumeClaim', namespace)
          .map((claim) => ({ kind: 'PersistentVolumeClaim', name: claim.metadata.name })),
      ),
    ).toEqual(expect.arrayContaining(zoneClaims));
    const result = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace },
      { retry: FAST_RETRY, deleteVolumes: true },
    );
    expect(keys(result.deleted)).toEqual(expect.arrayContaining(zoneClaims));
    expect(result.kept).toEqual([]);
    expect(result.namespaceDeleted).toBe(true);
  });

  test('that existed before apply is never deleted, even empty', async () => {
    create('Namespace', undefined, { metadata: { name: 'd-pre', labels: { team: 'logs' } } });
    await applyReady('d-pre');
    expect(
      store().get('Namespace', undefined, 'd-pre')!.metadata.annotations?.[CREATED_FOR_ANNOTATION],
    ).toBeUndefined();

    const result = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace: 'd-pre' },
      { retry: FAST_RETRY, deleteVolumes: true },
    );
    expect(result.namespaceDeleted).toBe(false);
    expect(result.kept).toEqual([
      { kind: 'Namespace', name: 'd-pre', why: 'not created by loki-microservices for this stack' },
    ]);
    expect(left('d-pre')).toEqual([]);
    await fixture.running.server.cluster.idle(500);
    const namespace = store().get('Namespace', undefined, 'd-pre')!;
    expect(namespace.metadata.deletionTimestamp).toBeUndefined();
    expect((namespace.status as Json).phase).toBe('Active');
    expect(namespace.metadata.labels?.team).toBe('logs');
  });

  test('created by apply for another stack is not deleted by this one', async () => {
    await applyReady('d-two', 'first');
    await applyReady('d-two', 'second');
    const first = await destroyStack(
      fixture.connection,
      { name: 'first', namespace: 'd-two' },
      { retry: FAST_RETRY, deleteVolumes: true },
    );
    expect(first.namespaceDeleted).toBe(false);
    expect(first.kept).toEqual([
      { kind: 'Namespace', name: 'd-two', why: expect.stringMatching(/^it is not empty: /) },
    ]);
    const second = await destroyStack(
      fixture.connection,
      { name: 'second', namespace: 'd-two' },
      { retry: FAST_RETRY, deleteVolumes: true },
    );
    expect(second.namespaceDeleted).toBe(false);
    expect(second.kept).toEqual([
      { kind: 'Namespace', name: 'd-two', why: 'not created by loki-microservices for this stack' },
    ]);
    expect(store().get('Namespace', undefined, 'd-two')!.metadata.deletionTimestamp).toBeUndefined();
  });
});

describe('order and edge cases', () => {
  test('deletes in reverse apply order: workloads and budgets, then Services and claims, then config and identity', async () => {
    await applyReady('d-order');
    fixture.running.server.faults.clearLog();
    await destroyStack(
      fixture.connection,
      { name: 'loki', namespace: 'd-order' },
      { retry: FAST_RETRY, deleteVolumes: true },
    );
    const phases = deletes().map((r) => PHASE_OF[r.path.split('?')[0]!.split('/').at(-2)!]);
    expect(phases.every((phase) => phase !== undefined)).toBe(true);
    expect(new Set(phases)).toEqual(new Set([3, 2, 1, 0]));
    // The namespace (apply created it; nothing is left) goes last, once.
    expect(phases.filter((phase) => phase === 0)).toHaveLength(1);
    // Never a later phase after an earlier one.
    expect([...phases].sort((a, b) => b! - a!)).toEqual(phases);
    // The whole of a phase is answered before the next one starts.
    const requests = fixture.running.server.faults.requests;
    const lastWorkload = Math.max(
      ...requests.map((r, i) =>
        r.method === 'DELETE' && PHASE_OF[r.path.split('?')[0]!.split('/').at(-2)!] === 3 ? i : -1,
      ),
    );
    const firstService = requests.findIndex(
      (r) => r.method === 'DELETE' && PHASE_OF[r.path.split('?')[0]!.split('/').at(-2)!] === 2,
    );
    expect(firstService).toBeGreaterThan(lastWorkload);
    expect(
      requests
        .slice(0, lastWorkload + 1)
        .filter((r) => r.method === 'DELETE')
        .every((r) => r.status === 200),
    ).toBe(true);
  });

  test('a stack that does not exist: succeeds, deletes nothing', async () => {
    fixture.running.server.faults.clearLog();
    const result = await destroyStack(
      fixture.connection,
      { name: 'ghost', namespace: 'd-nowhere' },
      { retry: FAST_RETRY },
    );
    expect(result).toEqual({ deleted: [], kept: [], namespaceDeleted: false });
    expect(deletes()).toEqual([]);
  });

  test('a stack that does not exist in a namespace that does: deletes nothing there', async () => {
    await applyReady('d-neighbour', 'neighbour');
    const before = contents('d-neighbour');
    fixture.running.server.faults.clearLog();
    const result = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace: 'd-neighbour' },
      { retry: FAST_RETRY, deleteVolumes: true },
    );
    expect(result.deleted).toEqual([]);
    expect(result.namespaceDeleted).toBe(false);
    expect(deletes()).toEqual([]);
    expect(contents('d-neighbour')).toEqual(before);
  });

  test('without waiting, returns once the deletions are accepted; the stack then goes', async () => {
    await applyReady('d-nowait');
    const result = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace: 'd-nowait' },
      { retry: FAST_RETRY, wait: false },
    );
    expect(result.deleted.length).toBeGreaterThan(20);
    await eventually(
      () =>
        left('d-nowait').every((key) => key.startsWith('PersistentVolumeClaim/') || key === 'Secret/loki-object-store'),
      'the stack to go',
    );
  });
});
