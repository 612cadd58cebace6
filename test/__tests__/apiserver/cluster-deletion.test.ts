// Deletion in the simulated cluster: the garbage collector's background, foreground and orphan
// propagation (transcripts 55, 56), graceful pod deletion by the kubelet, and namespace deletion
// (transcripts 59-61).
import { parse } from 'yaml';
import { Api } from '../../src/apiserver/api.js';
import { Cluster } from '../../src/apiserver/controllers/index.js';
import { ApiError } from '../../src/apiserver/status.js';
import type { KubeObject } from '../../src/apiserver/store.js';
import { startCluster } from './cluster-fixture.js';
import { transcript } from './transcripts.js';

type Json = Record<string, any>;

let api: Api;
let cluster: Cluster;

beforeEach(() => {
  ({ api, cluster } = startCluster());
});

afterEach(() => cluster.stop());

async function readyDistributor(): Promise<void> {
  const body = parse(transcript(15).request.body as string) as KubeObject;
  api.apply('Deployment', 'demo', 'loki-distributor', body, { manager: 'loki-microservices', force: true });
  await cluster.idle();
}

const names = (kind: string) => api.list(kind, 'demo').map((object) => object.metadata.name);

/** `DELETED <Kind>` for each object removed from now on, in order. */
function removals(): string[] {
  const removed: string[] = [];
  api.store.subscribe((change) => change.type === 'DELETED' && removed.push(`DELETED ${change.kind}`));
  return removed;
}

test('Background: the Deployment goes at once, then its ReplicaSet and pods', async () => {
  await readyDistributor();
  const result = api.delete('Deployment', 'demo', 'loki-distributor', { propagationPolicy: 'Background' });
  expect('status' in result).toBe(true);
  await cluster.idle();
  expect([names('Deployment'), names('ReplicaSet'), names('Pod')]).toEqual([[], [], []]);
});

test('Foreground: pods go first, then the ReplicaSet, then the Deployment with its finalizer (transcript 55)', async () => {
  await readyDistributor();
  const removed = removals();
  const marked = api.delete('Deployment', 'demo', 'loki-distributor', { propagationPolicy: 'Foreground' }) as {
    object: Json;
  };
  expect(marked.object.metadata.finalizers).toEqual(['foregroundDeletion']);
  await cluster.idle();
  expect(removed).toEqual(['DELETED Pod', 'DELETED Pod', 'DELETED ReplicaSet', 'DELETED Deployment']);
});

test('Orphan: the Deployment goes, its ReplicaSet and pods stay, no longer owned by it', async () => {
  await readyDistributor();
  api.delete('Deployment', 'demo', 'loki-distributor', { propagationPolicy: 'Orphan' });
  await cluster.idle();
  expect(names('Deployment')).toEqual([]);
  const [rs] = api.list('ReplicaSet', 'demo');
  expect(rs!.metadata.ownerReferences).toBeUndefined();
  expect(rs!.metadata.finalizers).toBeUndefined();
  expect(api.list('Pod', 'demo').map((pod) => pod.metadata.ownerReferences?.[0]?.name)).toEqual([
    rs!.metadata.name,
    rs!.metadata.name,
  ]);
});

test('a dependent with another owner left only loses the reference to the one that went', async () => {
  const owner = (name: string) =>
    api.create('ConfigMap', 'demo', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }, { manager: 'test' })
      .object;
  const [a, b] = [owner('a'), owner('b')];
  const ref = (o: KubeObject) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name, uid: o.metadata.uid! });
  api.create(
    'Secret',
    'demo',
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shared', ownerReferences: [ref(a), ref(b)] } },
    { manager: 'test' },
  );
  api.create(
    'Secret',
    'demo',
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'only-a', ownerReferences: [ref(a)] } },
    { manager: 'test' },
  );
  api.delete('ConfigMap', 'demo', 'a');
  await cluster.idle();
  expect(names('Secret')).toEqual(['shared']);
  expect(api.get('Secret', 'demo', 'shared').metadata.ownerReferences).toEqual([ref(b)]);
});

test('an object whose owner never existed (or has another uid) is collected', async () => {
  api.create(
    'ConfigMap',
    'demo',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } },
    { manager: 'test' },
  );
  const ghost = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '00000000-0000-0000-0000-000000000000' };
  api.create(
    'Secret',
    'demo',
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'orphan', ownerReferences: [ghost] } },
    { manager: 'test' },
  );
  await cluster.idle();
  expect(names('Secret')).toEqual([]);
});

test('a pod is stopped by the kubelet (Killing events) before it goes; an unscheduled one goes at once', async () => {
  await readyDistributor();
  const [pod] = api.list('Pod', 'demo');
  api.delete('Pod', 'demo', pod!.metadata.name);
  expect(api.get('Pod', 'demo', pod!.metadata.name).metadata.deletionTimestamp).toBeDefined();
  await cluster.idle();
  expect(names('Pod')).not.toContain(pod!.metadata.name);
  const killing = api.list('Event', 'demo', {
    fieldSelector: `involvedObject.name=${pod!.metadata.name},reason=Killing`,
  });
  expect(killing.map((e) => [e.message, (e.involvedObject as Json).fieldPath])).toEqual([
    ['Stopping container distributor', 'spec.containers{distributor}'],
  ]);

  cluster.fail({ namespace: 'demo' }, 'unschedulable');
  api.create(
    'Pod',
    'demo',
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stuck' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    },
    { manager: 'test' },
  );
  await cluster.idle();
  api.delete('Pod', 'demo', 'stuck');
  await cluster.idle();
  expect(names('Pod')).not.toContain('stuck');
});

test('a deleted Namespace is Terminating while its content is deleted, then goes (transcripts 59-61)', async () => {
  await readyDistributor();
  api.apply('Service', 'demo', 'loki-gateway', parse(transcript(13).request.body as string) as KubeObject, {
    manager: 'loki-microservices',
    force: true,
  });
  await cluster.idle();
  const deleted = api.delete('Namespace', undefined, 'demo') as { object: Json };
  expect(deleted.object.status.phase).toBe('Terminating');

  const phases: string[] = [];
  api.store.subscribe(
    (change) => change.kind === 'Namespace' && phases.push(`${change.type} ${(change.object.status as Json).phase}`),
  );
  let refused: ApiError | undefined;
  try {
    api.create(
      'ConfigMap',
      'demo',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } },
      { manager: 'test' },
    );
  } catch (error) {
    refused = error as ApiError;
  }
  expect(refused?.status.code).toBe(403);
  // The content goes later (namespaceDeletionDelayMs), not with the DELETE: it is all still there.
  expect([names('Deployment'), names('Service')]).toEqual([['loki-distributor'], ['loki-gateway']]);
  expect(names('Pod')).toHaveLength(2);

  // idle() waits for the namespace controller's delay and work, then for the pods to stop.
  await cluster.idle();
  expect(api.store.get('Namespace', undefined, 'demo')).toBeUndefined();
  expect(phases.at(-1)).toBe('DELETED Terminating');
  for (const kind of ['Deployment', 'ReplicaSet', 'Pod', 'Service', 'Endpoints', 'Event'])
    expect(names(kind)).toEqual([]);
});
