// The simulated StatefulSet controller and volume binder, compared with what a real cluster recorded
// (fixtures/k8s-api-transcripts 36, 37, 40, 46, 47, 48).
import { parse } from 'yaml';
import { Api } from '../../src/apiserver/api.js';
import { Cluster } from '../../src/apiserver/controllers/index.js';
import type { KubeObject } from '../../src/apiserver/store.js';
import { startCluster } from './cluster-fixture.js';
import { shapeDifferences, transcript } from './transcripts.js';

type Json = Record<string, any>;

let api: Api;
let cluster: Cluster;

beforeEach(() => {
  ({ api, cluster } = startCluster({ nodeName: 'fake-node' }));
});

afterEach(() => cluster.stop());

/** The StatefulSet the recordings were made with (transcript 16), changed by `edit`. */
function applyIngester(edit: (spec: Json) => void = () => {}): KubeObject {
  const body = parse(transcript(16).request.body as string) as Json;
  edit(body.spec);
  return api.apply('StatefulSet', 'demo', 'loki-ingester', body as KubeObject, {
    manager: 'loki-microservices',
    force: true,
  }).object;
}

/** Change the live StatefulSet with an update, as `kubectl edit` would. */
function updateIngester(edit: (spec: Json) => void): void {
  const live = statefulSet();
  edit(live.spec);
  api.replace('StatefulSet', 'demo', 'loki-ingester', live as KubeObject, { manager: 'loki-microservices' });
}

const statefulSet = () => api.get('StatefulSet', 'demo', 'loki-ingester') as Json;
const pod = (name: string) => api.store.get('Pod', 'demo', name) as Json | undefined;
const pods = () => api.list('Pod', 'demo') as Json[];
const claims = () => api.list('PersistentVolumeClaim', 'demo') as Json[];
const isReady = (p: Json | undefined) =>
  Boolean(p?.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True'));
const withoutTypeMeta = ({ kind: _k, apiVersion: _a, ...rest }: Json) => rest;

/** A recorded body with the recorded revision hash replaced by ours. */
function recorded(n: number): Json {
  const revision = statefulSet().status.updateRevision as string;
  return JSON.parse(
    JSON.stringify(transcript(n).response.body).replaceAll('loki-ingester-849d49c494', revision),
  ) as Json;
}

/** The store's changes from now on, as `ADDED loki-ingester-0`, `READY loki-ingester-0`, `DELETED …`. */
function podTimeline(): string[] {
  const timeline: string[] = [];
  api.store.subscribe((change) => {
    if (change.kind !== 'Pod') return;
    const name = change.object.metadata.name;
    if (change.type === 'ADDED' || change.type === 'DELETED') timeline.push(`${change.type} ${name}`);
    else if (isReady(change.object) && !isReady(change.previous)) timeline.push(`READY ${name}`);
    else if (change.object.metadata.deletionTimestamp && !change.previous?.metadata.deletionTimestamp)
      timeline.push(`DELETING ${name}`);
  });
  return timeline;
}

describe('the recorded StatefulSet (Parallel, one volumeClaimTemplate)', () => {
  test('becomes ready with the recorded status, revision and pods', async () => {
    applyIngester();
    await cluster.idle();
    const set = statefulSet();
    expect(set.status.updateRevision).toMatch(/^loki-ingester-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    expect(shapeDifferences(recorded(46).status, set.status)).toEqual([]);

    const revisions = api.list('ControllerRevision', 'demo') as Json[];
    expect(revisions).toHaveLength(1);
    expect(revisions[0]).toMatchObject({
      metadata: {
        name: set.status.updateRevision,
        ownerReferences: [{ kind: 'StatefulSet', uid: set.metadata.uid, controller: true }],
      },
      revision: 1,
    });
    expect(revisions[0]!.data.spec.template.$patch).toBe('replace');

    const running = pod('loki-ingester-0')!;
    const expected = recorded(47);
    // Two managers, as recorded: the StatefulSet controller's create and the kubelet's status (the recording's
    // status writer was a stand-in, manager "unknown"); binding adds none. The double's defaulting gives the
    // fields admission plugins add (priority, tolerations, the token volume) to the creator; Kubernetes to no one.
    const spec = '.managedFields[*].fieldsV1.f:spec';
    const admission = [
      `${spec}.f:preemptionPolicy`,
      `${spec}.f:priority`,
      `${spec}.f:tolerations`,
      `${spec}.f:volumes.k:{"name":"kube-api-access-*`,
      `${spec}.f:containers.k:{"name":"ingester"}.f:volumeMounts.k:{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}`,
    ];
    expect(shapeDifferences(expected.metadata, running.metadata, ['.managedFields[*].manager', ...admission])).toEqual(
      [],
    );
    expect(running.metadata.managedFields.map((entry: Json) => [entry.manager, entry.subresource])).toEqual([
      ['kube-controller-manager', undefined],
      ['kubelet', 'status'],
    ]);
    expect(running.spec).toMatchObject({
      hostname: 'loki-ingester-0',
      subdomain: 'loki-ingester-headless',
      nodeName: 'fake-node',
    });
    // The claim's volume comes first, as recorded.
    expect(shapeDifferences(expected.spec.volumes, running.spec.volumes)).toEqual([]);
  });

  test('creates both pods at once, each after its claim, which is Bound soon after; reports like transcripts 36, 40 and 48', async () => {
    const timeline = podTimeline();
    const claimPhases: string[] = [];
    const pendingClaims: Json[] = [];
    const statuses: Json[] = [];
    const claimWhenBound: string[] = [];
    api.store.subscribe((change) => {
      if (change.kind === 'StatefulSet') statuses.push(change.object.status as Json);
      const spec = change.object.spec as Json;
      if (change.kind === 'Pod' && spec.nodeName && !(change.previous?.spec as Json | undefined)?.nodeName) {
        claimWhenBound.push(
          (api.store.get('PersistentVolumeClaim', 'demo', `data-${change.object.metadata.name}`)!.status as Json).phase,
        );
      }
      if (change.kind !== 'PersistentVolumeClaim') return;
      claimPhases.push(`${change.object.metadata.name} ${(change.object.status as Json).phase}`);
      if (change.type === 'ADDED') pendingClaims.push(withoutTypeMeta(change.object));
    });
    applyIngester();
    await cluster.idle();
    const beforeReady = recorded(36).items[0].status;
    expect(statuses.some((status) => shapeDifferences(beforeReady, status).length === 0)).toBe(true);
    // The recorded claims carry the pvc-protection finalizer an admission plugin adds (not simulated), and
    // the recorded cluster had no default StorageClass (the double defaults kind's `standard`).
    const notSimulated = [
      '[*].metadata.finalizers',
      '[*].spec.storageClassName',
      '[*].metadata.managedFields[*].fieldsV1.f:spec.f:storageClassName',
    ];
    expect(shapeDifferences(recorded(40).items, pendingClaims, notSimulated)).toEqual([]);
    expect(timeline.indexOf('ADDED loki-ingester-1')).toBeLessThan(timeline.indexOf('READY loki-ingester-0'));
    expect(claimPhases.slice(0, 2)).toEqual(['data-loki-ingester-0 Pending', 'data-loki-ingester-1 Pending']);
    expect(claimPhases).toContain('data-loki-ingester-1 Bound');
    // The scheduler binds a pod only once its claims are bound.
    expect(claimWhenBound).toEqual(['Bound', 'Bound']);

    const bound = claims().map(withoutTypeMeta);
    // The recorded cluster had a fake binder (volume `fake-pv-…`), no default StorageClass, and the
    // pvc-protection finalizer an admission plugin adds (not simulated); ours binds like a dynamic provisioner.
    const ignore = [
      '[*].metadata.finalizers',
      '[*].spec.volumeName',
      '[*].spec.storageClassName',
      '[*].metadata.managedFields[*].fieldsV1.f:spec.f:storageClassName',
    ];
    expect(shapeDifferences(recorded(48).items, bound, ignore)).toEqual([]);
    for (const claim of bound) expect(claim.spec.volumeName).toBe(`pvc-${claim.metadata.uid}`);
    const events = api
      .list('Event', 'demo', { fieldSelector: 'involvedObject.kind=StatefulSet' })
      .map((e) => e.message);
    expect(events).toEqual([
      'create Claim data-loki-ingester-0 Pod loki-ingester-0 in StatefulSet loki-ingester success',
      'create Pod loki-ingester-0 in StatefulSet loki-ingester successful',
      'create Claim data-loki-ingester-1 Pod loki-ingester-1 in StatefulSet loki-ingester success',
      'create Pod loki-ingester-1 in StatefulSet loki-ingester successful',
    ]);
  });

  test('keeps its claims (Retain) when it is deleted, and its pods go', async () => {
    applyIngester();
    await cluster.idle();
    api.delete('StatefulSet', 'demo', 'loki-ingester');
    await cluster.idle();
    expect(pods()).toEqual([]);
    expect(claims().map((c) => [c.metadata.name, c.status.phase, c.metadata.ownerReferences])).toEqual([
      ['data-loki-ingester-0', 'Bound', undefined],
      ['data-loki-ingester-1', 'Bound', undefined],
    ]);
  });
});

test('a claim takes the place of a template volume of the same name', async () => {
  applyIngester((spec) => spec.template.spec.volumes.push({ name: 'data', emptyDir: {} }));
  await cluster.idle();
  const volumes = (pod('loki-ingester-0')!.spec.volumes as Json[]).filter((volume) => volume.name === 'data');
  expect(volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-loki-ingester-0' } }]);
});

test('with whenDeleted: Delete, the claims belong to the StatefulSet and go with it', async () => {
  applyIngester(
    (spec) => (spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Retain' }),
  );
  await cluster.idle();
  expect(claims()[0]!.metadata.ownerReferences).toEqual([
    { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'loki-ingester', uid: statefulSet().metadata.uid },
  ]);
  api.delete('StatefulSet', 'demo', 'loki-ingester');
  await cluster.idle();
  expect(claims()).toEqual([]);
});

test('with whenScaled: Delete, scaling down deletes the claims of the removed ordinals', async () => {
  applyIngester(
    (spec) => (spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Retain', whenScaled: 'Delete' }),
  );
  await cluster.idle();
  updateIngester((spec) => (spec.replicas = 1));
  await cluster.idle();
  expect(claims().map((c) => c.metadata.name)).toEqual(['data-loki-ingester-0']);
});

describe('OrderedReady', () => {
  const ordered = (spec: Json) => {
    spec.podManagementPolicy = 'OrderedReady';
    spec.replicas = 3;
  };

  test('creates each pod once the one before it is Running and Ready, and scales down from the highest ordinal', async () => {
    const timeline = podTimeline();
    applyIngester(ordered);
    await cluster.idle();
    const added = timeline.filter((entry) => !entry.startsWith('DELET'));
    expect(added).toEqual([
      'ADDED loki-ingester-0',
      'READY loki-ingester-0',
      'ADDED loki-ingester-1',
      'READY loki-ingester-1',
      'ADDED loki-ingester-2',
      'READY loki-ingester-2',
    ]);

    timeline.length = 0;
    updateIngester((spec) => (spec.replicas = 1));
    await cluster.idle();
    expect(timeline).toEqual([
      'DELETING loki-ingester-2',
      'DELETED loki-ingester-2',
      'DELETING loki-ingester-1',
      'DELETED loki-ingester-1',
    ]);
    expect(statefulSet().status).toMatchObject({ replicas: 1, readyReplicas: 1, availableReplicas: 1 });
  });

  test('does not create the next pod while a pod is not ready', async () => {
    cluster.fail({ workload: 'loki-ingester' }, 'crashLoop');
    applyIngester(ordered);
    await cluster.idle();
    expect(pods().map((p) => p.metadata.name)).toEqual(['loki-ingester-0']);
    cluster.heal();
    await cluster.idle();
    expect(pods().map((p) => p.metadata.name)).toEqual(['loki-ingester-0', 'loki-ingester-1', 'loki-ingester-2']);
  });
});

describe('a template change', () => {
  const three = (spec: Json) => (spec.replicas = 3);
  const newImage = (spec: Json) => (spec.template.spec.containers[0].image = 'grafana/loki:3.5.0');

  test('replaces the pods from the highest ordinal down, one ready pod at a time, and records a new revision', async () => {
    applyIngester(three);
    await cluster.idle();
    const oldRevision = statefulSet().status.currentRevision;
    const timeline = podTimeline();
    updateIngester(newImage);
    await cluster.idle();

    expect(timeline).toEqual([
      'DELETING loki-ingester-2',
      'DELETED loki-ingester-2',
      'ADDED loki-ingester-2',
      'READY loki-ingester-2',
      'DELETING loki-ingester-1',
      'DELETED loki-ingester-1',
      'ADDED loki-ingester-1',
      'READY loki-ingester-1',
      'DELETING loki-ingester-0',
      'DELETED loki-ingester-0',
      'ADDED loki-ingester-0',
      'READY loki-ingester-0',
    ]);
    const status = statefulSet().status;
    expect(status.updateRevision).not.toBe(oldRevision);
    expect(status).toMatchObject({
      observedGeneration: 2,
      replicas: 3,
      readyReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      currentRevision: status.updateRevision,
    });
    expect(pods().map((p) => p.metadata.labels['controller-revision-hash'])).toEqual([
      status.updateRevision,
      status.updateRevision,
      status.updateRevision,
    ]);
    expect(pods().map((p) => p.spec.containers[0].image)).toEqual([
      'grafana/loki:3.5.0',
      'grafana/loki:3.5.0',
      'grafana/loki:3.5.0',
    ]);
    const revisions = (api.list('ControllerRevision', 'demo') as Json[])
      .map((r) => [r.metadata.name, r.revision])
      .sort((a, b) => a[1] - b[1]);
    expect(revisions).toEqual([
      [oldRevision, 1],
      [status.updateRevision, 2],
    ]);
  });

  test('stops at the partition: pods below it keep the current revision', async () => {
    applyIngester(three);
    await cluster.idle();
    const oldRevision = statefulSet().status.currentRevision;
    updateIngester((spec) => {
      newImage(spec);
      spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 2 } };
    });
    await cluster.idle();
    expect(pods().map((p) => p.spec.containers[0].image)).toEqual([
      'grafana/loki:3.4.2',
      'grafana/loki:3.4.2',
      'grafana/loki:3.5.0',
    ]);
    expect(statefulSet().status).toMatchObject({
      currentRevision: oldRevision,
      currentReplicas: 2,
      updatedReplicas: 1,
      readyReplicas: 3,
    });

    // A pod below the partition that is deleted comes back with the current revision.
    api.delete('Pod', 'demo', 'loki-ingester-0');
    await cluster.idle();
    expect(pod('loki-ingester-0')!.metadata.labels['controller-revision-hash']).toBe(oldRevision);
    expect(pod('loki-ingester-0')!.spec.containers[0].image).toBe('grafana/loki:3.4.2');
  });

  test('with OnDelete leaves pods alone until they are deleted', async () => {
    applyIngester(three);
    await cluster.idle();
    updateIngester((spec) => {
      newImage(spec);
      spec.updateStrategy = { type: 'OnDelete' };
    });
    await cluster.idle();
    expect(pods().map((p) => p.spec.containers[0].image)).toEqual([
      'grafana/loki:3.4.2',
      'grafana/loki:3.4.2',
      'grafana/loki:3.4.2',
    ]);
    api.delete('Pod', 'demo', 'loki-ingester-1');
    await cluster.idle();
    expect(pod('loki-ingester-1')!.spec.containers[0].image).toBe('grafana/loki:3.5.0');
  });

  test('back to an earlier template reuses its revision, renumbered as the newest', async () => {
    applyIngester();
    await cluster.idle();
    const first = statefulSet().status.updateRevision;
    updateIngester(newImage);
    await cluster.idle();
    updateIngester((spec) => (spec.template.spec.containers[0].image = 'grafana/loki:3.4.2'));
    await cluster.idle();
    const revisions = Object.fromEntries(
      (api.list('ControllerRevision', 'demo') as Json[]).map((r) => [r.metadata.name, r.revision]),
    );
    expect(statefulSet().status.updateRevision).toBe(first);
    expect(revisions[first]).toBe(3);
  });
});
