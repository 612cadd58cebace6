// The simulated Deployment and ReplicaSet controllers, compared with what a real cluster recorded
// (fixtures/k8s-api-transcripts 35, 37, 42, 45, 51).
import { parse } from 'yaml';
import { jest } from '@jest/globals';
import { Api } from '../../src/apiserver/api.js';
import { Cluster } from '../../src/apiserver/controllers/index.js';
import { deletionOrder } from '../../src/apiserver/controllers/replicaset.js';
import type { Pod } from '../../src/apiserver/controllers/objects.js';
import type { KubeObject } from '../../src/apiserver/store.js';
import { startCluster } from './cluster-fixture.js';
import { shapeDifferences, transcript } from './transcripts.js';

type Json = Record<string, any>;

let api: Api;
let cluster: Cluster;

beforeEach(() => {
  ({ api, cluster } = startCluster());
});

afterEach(() => {
  cluster.stop();
  jest.useRealTimers();
});

/** The Deployment the recordings were made with (transcript 15), changed by `edit`. */
function applyDistributor(edit: (spec: Json) => void = () => {}): KubeObject {
  const body = parse(transcript(15).request.body as string) as Json;
  edit(body.spec);
  return api.apply('Deployment', 'demo', 'loki-distributor', body as KubeObject, {
    manager: 'loki-microservices',
    force: true,
  }).object;
}

const deployment = () => api.get('Deployment', 'demo', 'loki-distributor') as Json;
const replicaSets = () => api.list('ReplicaSet', 'demo') as Json[];
const pods = () => api.list('Pod', 'demo') as Json[];
const hashOf = (rs: Json) => rs.metadata.labels['pod-template-hash'] as string;
const eventMessages = (reason: string) =>
  api
    .list('Event', 'demo')
    .filter((e) => e.reason === reason)
    .map((e) => e.message);
/** A recorded body with the recorded pod-template-hash replaced by ours (ours is not Kubernetes' hash value). */
const recorded = (n: number, hash: string) =>
  JSON.parse(JSON.stringify(transcript(n).response.body).replaceAll('77844cbfb6', hash)) as Json;
const withoutTypeMeta = ({ kind: _k, apiVersion: _a, ...rest }: Json) => rest;

/** Every value `read` returns after each change in the store, from now on. */
function record<T>(read: () => T): T[] {
  const seen: T[] = [read()];
  api.store.subscribe(() => seen.push(read()));
  return seen;
}

describe('a new Deployment', () => {
  test('gets one ReplicaSet named after its pod template, whose pods become ready, with the recorded status', async () => {
    applyDistributor();
    await cluster.idle();

    const [rs] = replicaSets();
    const hash = hashOf(rs!);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    expect(rs!.metadata).toMatchObject({
      name: `loki-distributor-${hash}`,
      annotations: {
        'deployment.kubernetes.io/desired-replicas': '2',
        'deployment.kubernetes.io/max-replicas': '3',
        'deployment.kubernetes.io/revision': '1',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'loki-distributor',
          uid: deployment().metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(rs!.spec.selector.matchLabels['pod-template-hash']).toBe(hash);
    expect(rs!.status).toEqual({
      replicas: 2,
      fullyLabeledReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      observedGeneration: 1,
    });

    const ready = recorded(45, hash);
    expect(shapeDifferences(ready.status, deployment().status)).toEqual([]);
    expect(deployment().metadata.annotations).toEqual(ready.metadata.annotations);
    const statusManager = deployment().metadata.managedFields.find((entry: Json) => entry.subresource === 'status');
    expect(statusManager).toMatchObject({ manager: 'kube-controller-manager', operation: 'Update' });
  });

  test('passes through the recorded not-yet-available status (transcript 35) before it is ready', async () => {
    const statuses = record(() => api.store.get('Deployment', 'demo', 'loki-distributor')?.status as Json | undefined);
    applyDistributor();
    await cluster.idle();
    const hash = hashOf(replicaSets()[0]!);
    const notAvailable = (recorded(35, hash).items as Json[])[0]!.status;
    expect(statuses.some((status) => status && shapeDifferences(notAvailable, status).length === 0)).toBe(true);
    const reasons = statuses.flatMap((status) =>
      (status?.conditions ?? []).filter((c: Json) => c.type === 'Progressing').map((c: Json) => c.reason),
    );
    expect([...new Set(reasons)]).toEqual(['NewReplicaSetCreated', 'ReplicaSetUpdated', 'NewReplicaSetAvailable']);
  });

  test('has pods made from the template as the ReplicaSet controller makes them (transcript 37), and the recorded events (42)', async () => {
    applyDistributor();
    await cluster.idle();
    const hash = hashOf(replicaSets()[0]!);
    const recordedPod = (recorded(37, hash).items as Json[])[0]!;
    for (const pod of pods()) {
      expect(shapeDifferences(recordedPod.metadata, pod.metadata, ['.managedFields*'])).toEqual([]);
      expect(pod.metadata.managedFields[0]).toMatchObject({ manager: 'kube-controller-manager', operation: 'Update' });
    }
    const deploymentEvents = api
      .list('Event', 'demo', { fieldSelector: 'involvedObject.kind=Deployment' })
      .map(withoutTypeMeta);
    // Our events also put eventTime/reportingComponent/reportingInstance in the body, so they show in managedFields.
    expect(
      shapeDifferences(recorded(42, hash).items, deploymentEvents, [
        '[*].metadata.managedFields[*].fieldsV1.f:eventTime',
        '[*].metadata.managedFields[*].fieldsV1.f:reporting*',
      ]),
    ).toEqual([]);
    expect(eventMessages('SuccessfulCreate').sort()).toEqual(
      pods()
        .map((pod) => `Created pod: ${pod.metadata.name}`)
        .sort(),
    );
  });
});

describe('a template change', () => {
  test('rolls out a new ReplicaSet within maxSurge and maxUnavailable, scaling the old one to 0', async () => {
    applyDistributor();
    await cluster.idle();
    const oldHash = hashOf(replicaSets()[0]!);
    const live = () => pods().filter((pod) => !pod.metadata.deletionTimestamp);
    const counts = record(() => ({
      total: live().length,
      ready: live().filter((pod) =>
        pod.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True'),
      ).length,
    }));

    applyDistributor((spec) => (spec.template.spec.containers[0].image = 'grafana/loki:3.5.0'));
    await cluster.idle();

    // 2 replicas at 25%: one extra pod at most (rounded up), none unavailable (rounded down).
    expect(Math.max(...counts.map((c) => c.total))).toBe(3);
    expect(Math.min(...counts.map((c) => c.ready))).toBe(2);
    const newRs = replicaSets().find((rs) => hashOf(rs) !== oldHash)!;
    const oldRs = replicaSets().find((rs) => hashOf(rs) === oldHash)!;
    expect(newRs.spec.replicas).toBe(2);
    expect(oldRs.spec.replicas).toBe(0);
    expect(newRs.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    expect(deployment().metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    expect(pods().map(hashOf)).toEqual([hashOf(newRs), hashOf(newRs)]);
    expect(eventMessages('ScalingReplicaSet')).toEqual([
      `Scaled up replica set ${oldRs.metadata.name} to 2`,
      `Scaled up replica set ${newRs.metadata.name} to 1`,
      `Scaled down replica set ${oldRs.metadata.name} to 1`,
      `Scaled up replica set ${newRs.metadata.name} to 2`,
      `Scaled down replica set ${oldRs.metadata.name} to 0`,
    ]);
    expect(deployment().status).toMatchObject({
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    expect(deployment().status.conditions[1]).toMatchObject({
      type: 'Progressing',
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "${newRs.metadata.name}" has successfully progressed.`,
    });
  });

  test('with the Recreate strategy stops every old pod before a new one starts', async () => {
    applyDistributor((spec) => (spec.strategy = { type: 'Recreate' }));
    await cluster.idle();
    const oldHash = hashOf(replicaSets()[0]!);
    const mixed = record(() => new Set(pods().map(hashOf)).size > 1);
    applyDistributor((spec) => {
      spec.strategy = { type: 'Recreate' };
      spec.template.spec.containers[0].image = 'grafana/loki:3.5.0';
    });
    await cluster.idle();
    expect(mixed).not.toContain(true);
    expect(pods()).toHaveLength(2);
    expect(pods().every((pod) => hashOf(pod) !== oldHash)).toBe(true);
  });

  test('keeps only revisionHistoryLimit old ReplicaSets', async () => {
    for (const tag of ['3.4.0', '3.4.1', '3.4.2', '3.5.0']) {
      applyDistributor((spec) => {
        spec.revisionHistoryLimit = 1;
        spec.template.spec.containers[0].image = `grafana/loki:${tag}`;
      });
      await cluster.idle();
    }
    const revisions = replicaSets().map((rs) => [
      rs.spec.template.spec.containers[0].image,
      rs.metadata.annotations['deployment.kubernetes.io/revision'],
    ]);
    expect(revisions.sort()).toEqual([
      ['grafana/loki:3.4.2', '3'],
      ['grafana/loki:3.5.0', '4'],
    ]);
  });
});

describe('scaling', () => {
  test('up while the new pod cannot be scheduled leaves the recorded status (transcript 51)', async () => {
    applyDistributor();
    await cluster.idle();
    const hash = hashOf(replicaSets()[0]!);
    cluster.fail({ workload: 'loki-distributor' }, 'unschedulable');
    applyDistributor((spec) => (spec.replicas = 3));
    await cluster.idle();
    const events = recorded(51, hash) as unknown as Json[];
    expect(shapeDifferences(events.at(-1)!.object.status, deployment().status)).toEqual([]);
    expect(eventMessages('ScalingReplicaSet').at(-1)).toBe(`Scaled up replica set loki-distributor-${hash} to 3`);
  });

  test('down deletes pods and reports the smaller ReplicaSet', async () => {
    applyDistributor((spec) => (spec.replicas = 3));
    await cluster.idle();
    applyDistributor((spec) => (spec.replicas = 1));
    await cluster.idle();
    expect(pods()).toHaveLength(1);
    expect(eventMessages('SuccessfulDelete')).toHaveLength(2);
    expect(replicaSets()[0]!.status).toMatchObject({ replicas: 1, readyReplicas: 1, availableReplicas: 1 });
    expect(deployment().status).toMatchObject({
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
    });
    expect(deployment().status.unavailableReplicas).toBeUndefined();
  });

  test('down removes unscheduled, then pending, then not-ready pods first, newest first among equals', () => {
    const pod = (name: string, created: string, status: Json, nodeName?: string) =>
      ({
        metadata: { name, creationTimestamp: created },
        spec: { containers: [], ...(nodeName ? { nodeName } : {}) },
        status,
      }) as unknown as Pod;
    const ready = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    const candidates = [
      pod('ready-old', '2024-01-01T00:00:00Z', ready, 'node'),
      pod('ready-new', '2024-01-02T00:00:00Z', ready, 'node'),
      pod(
        'running-not-ready',
        '2024-01-01T00:00:00Z',
        { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] },
        'node',
      ),
      pod('pending-scheduled', '2024-01-01T00:00:00Z', { phase: 'Pending' }, 'node'),
      pod('unscheduled', '2024-01-01T00:00:00Z', { phase: 'Pending' }),
    ];
    expect(candidates.sort(deletionOrder).map((p) => p.metadata.name)).toEqual([
      'unscheduled',
      'pending-scheduled',
      'running-not-ready',
      'ready-new',
      'ready-old',
    ]);
  });
});

test('a controller that starts on an existing ReplicaSet reports it as found (FoundNewReplicaSet)', async () => {
  applyDistributor();
  await cluster.idle();
  cluster.stop();
  const live = api.get('Deployment', 'demo', 'loki-distributor');
  api.replace(
    'Deployment',
    'demo',
    'loki-distributor',
    { ...live, status: {} },
    { manager: 'test', subresource: 'status' },
  );
  const reasons = record(
    () =>
      (api.store.get('Deployment', 'demo', 'loki-distributor')?.status as Json).conditions?.find(
        (c: Json) => c.type === 'Progressing',
      )?.reason,
  );
  cluster = new Cluster(api, { readyAfterMs: 20 });
  cluster.start();
  await cluster.idle();
  expect(reasons.filter((reason, i) => reason && reason !== reasons[i - 1])).toEqual([
    'FoundNewReplicaSet',
    'NewReplicaSetAvailable',
  ]);
  expect(replicaSets()).toHaveLength(1);
});

test('pods count as available only minReadySeconds after they became ready', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'] });
  applyDistributor((spec) => (spec.minReadySeconds = 5));
  for (let ms = 0; ms < 1000; ms += 100) {
    jest.advanceTimersByTime(100);
    await cluster.idle(0);
  }
  expect(deployment().status).toMatchObject({ readyReplicas: 2, unavailableReplicas: 2 });
  expect(deployment().status.availableReplicas).toBeUndefined();
  expect(replicaSets()[0]!.spec.minReadySeconds).toBe(5);
  jest.advanceTimersByTime(5000);
  await cluster.idle(0);
  expect(deployment().status).toMatchObject({ readyReplicas: 2, availableReplicas: 2 });
});

test('a rollout that makes no progress within progressDeadlineSeconds is reported as ProgressDeadlineExceeded', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'] });
  cluster.fail({ workload: 'loki-distributor' }, 'imagePull');
  applyDistributor((spec) => (spec.progressDeadlineSeconds = 30));
  for (let second = 0; second < 32; second++) {
    jest.advanceTimersByTime(1000);
    await cluster.idle(0);
  }
  const progressing = deployment().status.conditions.find((c: Json) => c.type === 'Progressing');
  expect(progressing).toMatchObject({
    status: 'False',
    reason: 'ProgressDeadlineExceeded',
    message: `ReplicaSet "${replicaSets()[0]!.metadata.name}" has timed out progressing.`,
  });
  expect(deployment().status.conditions.find((c: Json) => c.type === 'Available')).toMatchObject({
    status: 'False',
    reason: 'MinimumReplicasUnavailable',
  });
});
