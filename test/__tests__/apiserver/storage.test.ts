// StorageClasses (storage.k8s.io/v1, kind's default `standard`), claim expansion as the
// PersistentVolumeClaimResize admission plugin and the claim validation allow it, and a StatefulSet deleted
// with propagationPolicy Orphan and created again taking its pods over (ClaimPods, adoptOrphanRevisions).
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { send } from './http.js';

type Json = Record<string, any>;

let running: RunningApiServer;

beforeEach(async () => {
  running = await startTestApiServer({ readyAfterMs: 10 });
});
afterEach(async () => {
  await running.close();
});

const NS = 'default';
const CLAIMS = `/api/v1/namespaces/${NS}/persistentvolumeclaims`;
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const claim = (name: string) => running.server.api.get('PersistentVolumeClaim', NS, name) as Json;
const resize = (name: string, storage: string) =>
  send(running, 'PATCH', `${CLAIMS}/${name}`, {
    headers: MERGE,
    body: { spec: { resources: { requests: { storage } } } },
  });

async function boundClaim(name: string): Promise<void> {
  const created = await send(running, 'POST', CLAIMS, {
    headers: { 'Content-Type': 'application/json' },
    body: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } },
    },
  });
  expect(created.status).toBe(201);
  await until(() => claim(name).status?.phase === 'Bound', `${name} bound`);
}

test("kind's default StorageClass is served (cluster-scoped, in discovery) and cannot expand volumes", async () => {
  const resources = (await send(running, 'GET', '/apis/storage.k8s.io/v1')).json as Json;
  expect(resources.resources).toEqual([
    expect.objectContaining({ name: 'storageclasses', namespaced: false, kind: 'StorageClass', shortNames: ['sc'] }),
  ]);
  const groups = ((await send(running, 'GET', '/apis')).json as Json).groups.map((group: Json) => group.name);
  expect(groups).toContain('storage.k8s.io');
  const standard = (await send(running, 'GET', '/apis/storage.k8s.io/v1/storageclasses/standard')).json as Json;
  expect(standard).toMatchObject({
    metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'rancher.io/local-path',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  expect(standard.allowVolumeExpansion).toBeUndefined();
});

test('a bound claim grows only when its StorageClass allows expansion, and never shrinks', async () => {
  await boundClaim('data');
  const refused = await resize('data', '4Gi');
  expect(refused.status).toBe(403);
  expect(refused.json).toMatchObject({
    kind: 'Status',
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    message:
      'persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    details: { name: 'data', kind: 'persistentvolumeclaims' },
  });
  expect(claim('data').spec.resources.requests.storage).toBe('2Gi');

  running.server.allowVolumeExpansion('standard');
  expect((await resize('data', '4Gi')).status).toBe(200);
  await until(() => claim('data').status.capacity.storage === '4Gi', 'the capacity to follow');

  const shrunk = await resize('data', '3Gi');
  expect(shrunk.status).toBe(422);
  expect((shrunk.json as Json).message).toBe(
    'PersistentVolumeClaim "data" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than previous value',
  );
  expect(claim('data').spec.resources.requests.storage).toBe('4Gi');
});

/** A two-replica StatefulSet with one claim template, as a client applies it. */
const statefulSet = (annotation: string) => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'web', namespace: NS },
  spec: {
    replicas: 2,
    serviceName: 'web',
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' }, annotations: { version: annotation } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ],
  },
});
const SETS = `/apis/apps/v1/namespaces/${NS}/statefulsets`;
const applySet = (body: Json) =>
  send(running, 'PATCH', `${SETS}/web?fieldManager=test&force=true`, {
    headers: { 'Content-Type': 'application/apply-patch+yaml' },
    body,
  });
const webPods = () =>
  new Map(
    (running.server.api.list('Pod', NS, {}) as Json[])
      .filter((pod) => pod.metadata.name.startsWith('web-') && !pod.metadata.deletionTimestamp)
      .map((pod) => [pod.metadata.name as string, pod] as const),
  );
const ready = (pod: Json) => pod.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True');

async function orphanAndRecreate(next: Json): Promise<string> {
  const uid = (running.server.api.get('StatefulSet', NS, 'web') as Json).metadata.uid as string;
  const deleted = await send(running, 'DELETE', `${SETS}/web`, {
    headers: { 'Content-Type': 'application/json' },
    body: { propagationPolicy: 'Orphan' },
  });
  expect(deleted.status).toBe(200);
  await until(() => !running.server.store.get('StatefulSet', NS, 'web'), 'the StatefulSet gone');
  for (const pod of webPods().values()) expect(pod.metadata.ownerReferences).toBeUndefined();
  expect((await applySet(next)).status).toBe(201);
  const created = running.server.api.get('StatefulSet', NS, 'web') as Json;
  expect(created.metadata.uid).not.toBe(uid);
  return created.metadata.uid as string;
}

test('a StatefulSet created again over its orphaned pods adopts them, and replaces none of the same revision', async () => {
  expect((await applySet(statefulSet('1'))).status).toBe(201);
  await until(() => webPods().size === 2 && [...webPods().values()].every(ready), 'two ready pods');
  const before = new Map([...webPods()].map(([name, pod]) => [name, pod.metadata.uid]));
  const uid = await orphanAndRecreate(statefulSet('1'));
  await until(
    () => [...webPods().values()].every((pod) => pod.metadata.ownerReferences?.[0]?.uid === uid),
    'the pods adopted',
  );
  await running.server.cluster.idle();
  expect(new Map([...webPods()].map(([name, pod]) => [name, pod.metadata.uid]))).toEqual(before);
  const status = (running.server.api.get('StatefulSet', NS, 'web') as Json).status;
  expect(status).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
  expect(status.currentRevision).toBe(status.updateRevision);
  expect(webPods().get('web-0')!.metadata.labels['controller-revision-hash']).toBe(status.updateRevision);
});

test('a StatefulSet created again with another template adopts its pods, then rolls them', async () => {
  expect((await applySet(statefulSet('1'))).status).toBe(201);
  await until(() => webPods().size === 2 && [...webPods().values()].every(ready), 'two ready pods');
  const before = new Map([...webPods()].map(([name, pod]) => [name, pod.metadata.uid]));
  await orphanAndRecreate(statefulSet('2'));
  await until(
    () =>
      webPods().size === 2 &&
      [...webPods().values()].every((pod) => ready(pod) && pod.metadata.uid !== before.get(pod.metadata.name)),
    'both pods replaced',
    20_000,
  );
  for (const pod of webPods().values()) expect(pod.metadata.annotations.version).toBe('2');
});
