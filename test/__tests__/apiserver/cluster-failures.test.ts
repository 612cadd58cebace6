// Failures injected into the simulated cluster: what pods, events and logs look like when images cannot
// be pulled, containers crash or are OOM-killed, or no node can take a pod, and how they recover.
import { parse } from 'yaml';
import { jest } from '@jest/globals';
import { Api } from '../../src/apiserver/api.js';
import { Cluster } from '../../src/apiserver/controllers/index.js';
import { UNSCHEDULABLE_MESSAGE } from '../../src/apiserver/controllers/scheduler.js';
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

afterEach(() => {
  cluster.stop();
  jest.useRealTimers();
});

/** The recorded Deployment (transcript 15) with one replica, changed by `edit`. */
function applyDistributor(edit: (spec: Json) => void = () => {}): void {
  const body = parse(transcript(15).request.body as string) as Json;
  body.spec.replicas = 1;
  edit(body.spec);
  api.apply('Deployment', 'demo', 'loki-distributor', body as KubeObject, {
    manager: 'loki-microservices',
    force: true,
  });
}

const thePod = () => api.list('Pod', 'demo')[0] as Json;
const containerStatus = () => thePod().status.containerStatuses[0] as Json;
const condition = (type: string) => thePod().status.conditions.find((c: Json) => c.type === type) as Json;
const podEvents = () =>
  api.list('Event', 'demo', { fieldSelector: `involvedObject.name=${thePod().metadata.name}` }) as Json[];
const eventLines = () => podEvents().map((e) => `${e.type} ${e.reason}: ${e.message}`);
const deploymentAvailable = () =>
  (api.get('Deployment', 'demo', 'loki-distributor').status as Json).conditions.find(
    (c: Json) => c.type === 'Available',
  ).status;

/** The container's state after each change from now on, as `<state>[/<reason>] <restartCount>`. */
function stateTimeline(): string[] {
  const seen: string[] = [];
  api.store.subscribe((change) => {
    const status = (change.object.status as Json | undefined)?.containerStatuses?.[0];
    if (change.kind !== 'Pod' || !status) return;
    const [state, details] = Object.entries(status.state as Json)[0]!;
    const entry = `${state}${details.reason ? `/${details.reason}` : ''} ${status.restartCount}`;
    if (seen.at(-1) !== entry) seen.push(entry);
  });
  return seen;
}

function apiError(action: () => unknown): ApiError {
  try {
    action();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an API error');
}

/** Let fake time pass in steps, letting the cluster settle after each. */
async function pass(ms: number, step = 100): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += step) {
    jest.advanceTimersByTime(step);
    await cluster.idle(0);
  }
}

describe('imagePull', () => {
  test('leaves the container waiting in ErrImagePull, then ImagePullBackOff, with the kubelet warnings, until healed', async () => {
    cluster.fail({ workload: 'loki-distributor' }, 'imagePull');
    const states = stateTimeline();
    const logErrors = new Set<string>();
    api.store.subscribe((change) => {
      const waiting = (change.object.status as Json | undefined)?.containerStatuses?.[0]?.state.waiting;
      if (change.kind === 'Pod' && waiting?.reason === 'ErrImagePull')
        logErrors.add(apiError(() => cluster.logs('demo', change.object.metadata.name)).status.message!);
    });
    applyDistributor();
    await cluster.idle();
    expect([...logErrors]).toEqual([
      `container "distributor" in pod "${thePod().metadata.name}" is waiting to start: image can't be pulled`,
    ]);

    expect(states).toEqual(['waiting/ContainerCreating 0', 'waiting/ErrImagePull 0', 'waiting/ImagePullBackOff 0']);
    expect(thePod().status.phase).toBe('Pending');
    expect(containerStatus()).toEqual({
      name: 'distributor',
      state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "grafana/loki:3.4.2"' } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: 'grafana/loki:3.4.2',
      imageID: '',
      started: false,
    });
    expect(condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [distributor]',
    });
    const reference = 'docker.io/grafana/loki:3.4.2';
    expect(eventLines()).toEqual(
      expect.arrayContaining([
        `Warning Failed: Failed to pull image "grafana/loki:3.4.2": rpc error: code = NotFound desc = failed to pull and unpack image "${reference}": failed to resolve reference "${reference}": ${reference}: not found`,
        'Warning Failed: Error: ErrImagePull',
        'Normal BackOff: Back-off pulling image "grafana/loki:3.4.2"',
        'Warning Failed: Error: ImagePullBackOff',
      ]),
    );
    const failed = podEvents().find((e) => e.message === 'Error: ErrImagePull')!;
    expect(failed).toMatchObject({
      source: { component: 'kubelet', host: 'test-node' },
      involvedObject: { kind: 'Pod', fieldPath: 'spec.containers{distributor}' },
      count: 1,
    });
    expect(apiError(() => cluster.logs('demo', thePod().metadata.name)).status).toMatchObject({
      code: 400,
      message: `container "distributor" in pod "${thePod().metadata.name}" is waiting to start: trying and failing to pull image`,
    });
    expect(deploymentAvailable()).toBe('False');

    cluster.heal();
    await cluster.idle();
    expect(thePod().status.phase).toBe('Running');
    expect(containerStatus()).toMatchObject({ ready: true, restartCount: 0, image: 'docker.io/grafana/loki:3.4.2' });
    expect(cluster.logs('demo', thePod().metadata.name)).toContain('msg="Loki started"');
    expect(deploymentAvailable()).toBe('True');
  });

  test('retries the pull with a doubling back-off, counting the repeated events', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'] });
    cluster.fail({ image: 'grafana/loki' }, 'imagePull');
    applyDistributor();
    await pass(1000);
    const pullFailures = () => podEvents().find((e) => e.message === 'Error: ErrImagePull')!.count;
    expect(pullFailures()).toBe(1);
    await pass(10_000);
    expect(pullFailures()).toBe(2);
    await pass(10_000); // the second back-off is 20 s
    expect(pullFailures()).toBe(2);
    await pass(10_000);
    expect(pullFailures()).toBe(3);
  });
});

describe('crashLoop', () => {
  test('restarts the container at once after its first crash, then backs off in CrashLoopBackOff; logs show the error', async () => {
    cluster.fail({ image: 'loki' }, 'crashLoop');
    const states = stateTimeline();
    applyDistributor();
    await cluster.idle();

    expect(states).toEqual([
      'waiting/ContainerCreating 0',
      'running 0',
      'terminated/Error 0',
      'running 1',
      'terminated/Error 1',
      'waiting/CrashLoopBackOff 1',
    ]);
    const pod = thePod();
    expect(pod.status.phase).toBe('Running');
    expect(containerStatus()).toMatchObject({
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off 10s restarting failed container=distributor pod=${pod.metadata.name}_demo(${pod.metadata.uid})`,
        },
      },
      lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: containerStatus().containerID } },
      ready: false,
      restartCount: 1,
      started: false,
    });
    expect(Object.keys(containerStatus().lastState.terminated)).toEqual([
      'exitCode',
      'reason',
      'startedAt',
      'finishedAt',
      'containerID',
    ]);
    expect(condition('ContainersReady')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    expect(eventLines()).toContain('Warning BackOff: Back-off restarting failed container');
    expect(eventLines().filter((line) => line === 'Normal Started: Started container distributor')).toHaveLength(1);
    expect(podEvents().find((e) => e.reason === 'Started')!.count).toBe(2);
    const log = cluster.logs('demo', pod.metadata.name);
    expect(log).toContain('msg="Loki started"');
    expect(log.trimEnd().split('\n').at(-1)).toMatch(
      /^level=error ts=\S+ caller=\S+ msg="error running loki" err="error initialising module: distributor: /,
    );
    expect(deploymentAvailable()).toBe('False');

    cluster.heal({ image: 'loki' });
    await cluster.idle();
    expect(containerStatus()).toMatchObject({
      state: { running: {} },
      ready: true,
      restartCount: 2,
      lastState: { terminated: { reason: 'Error' } },
    });
    expect(cluster.logs('demo', pod.metadata.name)).not.toContain('level=error');
    expect(deploymentAvailable()).toBe('True');
  });

  test('waits 10 s, 20 s, 40 s between restarts, so restartCount and the BackOff event count grow', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'] });
    cluster.fail({ workload: 'loki-distributor' }, 'crashLoop');
    applyDistributor();
    await pass(1000);
    const backOffs = () => podEvents().find((e) => e.reason === 'BackOff')!;
    expect(containerStatus().restartCount).toBe(1);
    expect(containerStatus().state.waiting.message).toMatch(/^back-off 10s /);

    await pass(10_000);
    expect(containerStatus().restartCount).toBe(2);
    expect(containerStatus().state.waiting.message).toMatch(/^back-off 20s /);
    expect(backOffs().count).toBe(2);
    expect(backOffs().lastTimestamp > backOffs().firstTimestamp).toBe(true);

    await pass(20_000);
    expect(containerStatus().restartCount).toBe(3);
    expect(containerStatus().state.waiting.message).toMatch(/^back-off 40s /);
    expect(backOffs().count).toBe(3);
  });

  test('also hits pods that are already running', async () => {
    applyDistributor();
    await cluster.idle();
    expect(containerStatus().ready).toBe(true);
    cluster.fail({ namespace: 'demo' }, 'crashLoop');
    await cluster.idle();
    expect(containerStatus()).toMatchObject({
      ready: false,
      restartCount: 1,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
    });
  });
});

test('oomKilled: the container is killed with exit code 137 and reason OOMKilled, and its log just stops', async () => {
  cluster.fail({ workload: 'loki-distributor' }, 'oomKilled');
  applyDistributor();
  await cluster.idle();
  expect(containerStatus()).toMatchObject({
    state: { waiting: { reason: 'CrashLoopBackOff' } },
    lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
    restartCount: 1,
    ready: false,
  });
  const log = cluster.logs('demo', thePod().metadata.name);
  expect(log.trimEnd().split('\n').at(-1)).toContain('msg="Loki started"');
});

describe('unschedulable', () => {
  test('leaves the pod Pending with PodScheduled False and a FailedScheduling warning, until healed', async () => {
    cluster.fail({ namespace: 'demo' }, 'unschedulable');
    applyDistributor();
    await cluster.idle();
    const pod = thePod();
    expect(pod.spec.nodeName).toBeUndefined();
    expect(pod.status).toEqual({
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          lastProbeTime: null,
          lastTransitionTime: expect.any(String),
          reason: 'Unschedulable',
          message: UNSCHEDULABLE_MESSAGE,
        },
      ],
      qosClass: 'BestEffort',
    });
    expect(UNSCHEDULABLE_MESSAGE).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
    // The scheduler writes events through events.k8s.io: no source or legacy timestamps, a series when repeated.
    const [warning] = podEvents();
    expect(warning).toMatchObject({
      type: 'Warning',
      reason: 'FailedScheduling',
      message: UNSCHEDULABLE_MESSAGE,
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      action: 'Scheduling',
      reportingComponent: 'default-scheduler',
      reportingInstance: 'default-scheduler-test-node',
    });
    expect(warning!.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(warning!.count).toBeUndefined();
    expect(pod.metadata.managedFields.at(-1)).toMatchObject({ manager: 'kube-scheduler', subresource: 'status' });
    expect(cluster.logs('demo', pod.metadata.name)).toBe('');

    cluster.heal({ namespace: 'demo' });
    await cluster.idle();
    expect(thePod().spec.nodeName).toBe('test-node');
    expect(condition('PodScheduled')).toEqual({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: expect.any(String),
    });
    expect(condition('Ready').status).toBe('True');
    expect(eventLines()).toContain(
      `Normal Scheduled: Successfully assigned demo/${thePod().metadata.name} to test-node`,
    );
  });
});

describe('targets', () => {
  /** A pod with a Loki container and an nginx sidecar. */
  function applyWithSidecar(): void {
    applyDistributor((spec) => spec.template.spec.containers.push({ name: 'proxy', image: 'nginx:1.27' }));
  }

  test('an image target fails only the containers whose image contains it', async () => {
    cluster.fail({ image: 'nginx' }, 'crashLoop');
    applyWithSidecar();
    await cluster.idle();
    const [loki, proxy] = thePod().status.containerStatuses as Json[];
    expect(loki).toMatchObject({ name: 'distributor', ready: true, restartCount: 0 });
    expect(proxy).toMatchObject({
      name: 'proxy',
      ready: false,
      restartCount: 1,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
    });
    expect(condition('Ready').message).toBe('containers with unready status: [proxy]');
    expect(cluster.logs('demo', thePod().metadata.name, 'proxy')).toMatch(
      /ERROR proxy: fatal error, exiting with status 1\n$/,
    );
  });

  test('failures elsewhere leave the pods alone, and heal only forgets the failures within its target', async () => {
    cluster.fail({ namespace: 'other' }, 'crashLoop');
    cluster.fail({ workload: 'loki-querier' }, 'imagePull');
    cluster.fail({ namespace: 'demo', workload: 'loki-distributor' }, 'oomKilled');
    cluster.heal({ namespace: 'other' });
    applyDistributor();
    await cluster.idle();
    expect(containerStatus().lastState.terminated.reason).toBe('OOMKilled');
    cluster.heal({ namespace: 'demo' });
    await cluster.idle();
    expect(containerStatus().ready).toBe(true);
  });
});
