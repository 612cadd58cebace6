// The simulated cluster's machinery: the work queue and idle(), the event recorder, content hashes, the
// kubelet's timing, init containers, pod IPs, container logs, and starting and stopping the cluster.
import { Api } from '../../src/apiserver/api.js';
import { Cluster } from '../../src/apiserver/controllers/index.js';
import { EventRecorder } from '../../src/apiserver/controllers/events.js';
import { contentHash } from '../../src/apiserver/controllers/hash.js';
import { WorkQueue } from '../../src/apiserver/controllers/queue.js';
import { goDuration, fullReference } from '../../src/apiserver/controllers/containers.js';
import { ApiError } from '../../src/apiserver/status.js';
import { Store, type KubeObject } from '../../src/apiserver/store.js';

type Json = Record<string, any>;

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkQueue', () => {
  test('runs a key once per tick however often it was added', async () => {
    const queue = new WorkQueue();
    let runs = 0;
    for (let i = 0; i < 3; i++) queue.add('pod', () => void runs++);
    await queue.idle(0);
    expect(runs).toBe(1);
  });

  test('runs work again when it asks to: 0 on the next tick, later by timer; idle waits only within its horizon', async () => {
    const queue = new WorkQueue();
    const runs: string[] = [];
    queue.add('soon', () => (runs.push('soon'), runs.length < 3 ? 0 : runs.length === 3 ? 30 : undefined));
    await queue.idle(10);
    expect(runs).toEqual(['soon', 'soon', 'soon']);
    await queue.idle(100);
    expect(runs).toEqual(['soon', 'soon', 'soon', 'soon']);
  });

  test('a later answer replaces an earlier wake-up', async () => {
    const queue = new WorkQueue();
    let answer: number | undefined = 20;
    let runs = 0;
    const work = () => (runs++, answer);
    queue.add('key', work);
    await queue.idle(0);
    answer = undefined;
    queue.add('key', work);
    await queue.idle(1000);
    expect(runs).toBe(2);
  });

  test('idle rejects with the error a reconcile threw, once', async () => {
    const queue = new WorkQueue();
    queue.add('broken', () => {
      throw new Error('bug');
    });
    await expect(queue.idle(0)).rejects.toThrow('bug');
    await expect(queue.idle(0)).resolves.toBeUndefined();
  });

  test('idle waits for tracked asynchronous work, which then reconciles its key again; a rejection fails idle', async () => {
    const queue = new WorkQueue();
    const runs: string[] = [];
    let finish: () => void = () => undefined;
    queue.track('certificate', () => void runs.push('again'), new Promise<void>((resolve) => (finish = resolve)));
    let idle = false;
    const waiting = queue.idle(0).then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    finish();
    await waiting;
    expect(runs).toEqual(['again']);
    queue.track('broken', () => undefined, Promise.reject(new Error('signing failed')));
    await expect(queue.idle(0)).rejects.toThrow('signing failed');
  });

  test('stop drops queued work and timers', async () => {
    const queue = new WorkQueue();
    let runs = 0;
    queue.add('timer', () => (runs++, 10));
    await tick();
    queue.add('queued', () => void runs++);
    queue.stop();
    await queue.idle(1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toBe(1);
  });
});

describe('EventRecorder', () => {
  const setup = () => {
    const api = new Api(new Store());
    api.create(
      'Namespace',
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } },
      { manager: 'test' },
    );
    const pod = api.create(
      'Pod',
      'demo',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web' },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
      { manager: 'test' },
    ).object;
    return { api, pod, events: new EventRecorder(api) };
  };
  const kubelet = { manager: 'kubelet', component: 'kubelet', host: 'node-1' };

  test('writes a repeated identical event once, bumping count and lastTimestamp', () => {
    const { api, pod, events } = setup();
    events.record(kubelet, pod, {
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      fieldPath: 'spec.containers{c}',
    });
    events.record(kubelet, pod, {
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      fieldPath: 'spec.containers{c}',
    });
    events.record(kubelet, pod, {
      type: 'Warning',
      reason: 'BackOff',
      message: 'another message',
      fieldPath: 'spec.containers{c}',
    });
    const written = api.list('Event', 'demo') as Json[];
    expect(written.map((e) => [e.message, e.count])).toEqual([
      ['Back-off restarting failed container', 2],
      ['another message', 1],
    ]);
    expect(written[0]).toMatchObject({
      metadata: { namespace: 'demo', managedFields: [{ manager: 'kubelet' }] },
      involvedObject: {
        kind: 'Pod',
        namespace: 'demo',
        name: 'web',
        uid: pod.metadata.uid,
        apiVersion: 'v1',
        resourceVersion: pod.metadata.resourceVersion,
        fieldPath: 'spec.containers{c}',
      },
      source: { component: 'kubelet', host: 'node-1' },
      type: 'Warning',
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    });
    expect(written[0]!.metadata.name).toMatch(/^web\.[0-9a-f]{16}$/);
  });

  test('counts repeats of events.k8s.io events in series', () => {
    const { api, pod, events } = setup();
    const scheduler = {
      manager: 'kube-scheduler',
      component: 'default-scheduler',
      reportingInstance: 'default-scheduler-node-1',
    };
    for (let i = 0; i < 3; i++)
      events.record(scheduler, pod, {
        type: 'Warning',
        reason: 'FailedScheduling',
        message: 'no',
        action: 'Scheduling',
      });
    const [event] = api.list('Event', 'demo') as Json[];
    expect(event!.series).toEqual({ count: 3, lastObservedTime: expect.stringMatching(/\.\d{6}Z$/) });
    expect(event!.count).toBeUndefined();
  });

  test('drops events into a namespace being deleted, and writes a new one after the old was deleted', () => {
    const { api, pod, events } = setup();
    const details = { type: 'Normal' as const, reason: 'Pulled', message: 'pulled' };
    events.record(kubelet, pod, details);
    api.deleteCollection('Event', 'demo', {});
    events.record(kubelet, pod, details);
    expect((api.list('Event', 'demo') as Json[]).map((e) => e.count)).toEqual([1]);
    api.delete('Namespace', undefined, 'demo');
    api.deleteCollection('Event', 'demo', {});
    events.record(kubelet, pod, details);
    expect(api.list('Event', 'demo')).toEqual([]);
  });
});

test('content hashes are 10 characters of the vowel-free alphabet and ignore key order', () => {
  const a = contentHash({ spec: { b: 1, a: [1, 2] } });
  expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
  expect(contentHash({ spec: { a: [1, 2], b: 1 } })).toBe(a);
  expect(contentHash({ spec: { a: [2, 1], b: 1 } })).not.toBe(a);
});

test('messages spell durations and image references as Kubernetes and containerd do', () => {
  expect([10, 80, 300].map(goDuration)).toEqual(['10s', '1m20s', '5m0s']);
  expect(['nginx', 'grafana/loki:3.4.2', 'quay.io/org/app@sha256:ab', 'localhost:5000/app'].map(fullReference)).toEqual(
    [
      'docker.io/library/nginx:latest',
      'docker.io/grafana/loki:3.4.2',
      'quay.io/org/app@sha256:ab',
      'localhost:5000/app:latest',
    ],
  );
});

describe('the kubelet', () => {
  let api: Api;
  let cluster: Cluster;

  beforeEach(() => {
    api = new Api(new Store());
    cluster = new Cluster(api, { readyAfterMs: 20, nodeName: 'worker-1' });
    api.create(
      'Namespace',
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } },
      { manager: 'test' },
    );
  });

  afterEach(() => cluster.stop());

  const createPod = (name: string, spec: Json) =>
    api.create('Pod', 'demo', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec } as KubeObject, {
      manager: 'test',
    });
  const pod = (name: string) => api.get('Pod', 'demo', name) as Json;
  const ready = (name: string) => pod(name).status.conditions?.find((c: Json) => c.type === 'Ready')?.status;

  test('reconciles what exists when the cluster starts, and nothing after it stops', async () => {
    createPod('before', { containers: [{ name: 'c', image: 'nginx' }] });
    cluster.start();
    await cluster.idle();
    expect(ready('before')).toBe('True');
    expect(pod('before').spec.nodeName).toBe('worker-1');
    cluster.stop();
    createPod('after', { containers: [{ name: 'c', image: 'nginx' }] });
    await cluster.idle();
    expect(pod('after').spec.nodeName).toBeUndefined();
  });

  test('runs init containers one after the other, then the containers; logs and their errors follow GET pods/log', async () => {
    cluster.start();
    const started: string[] = [];
    api.store.subscribe(
      (change) =>
        change.kind === 'Event' &&
        change.type === 'ADDED' &&
        (change.object as Json).reason === 'Started' &&
        started.push((change.object as Json).message),
    );
    createPod('web', {
      initContainers: [
        { name: 'migrate', image: 'busybox' },
        { name: 'warm', image: 'busybox' },
      ],
      containers: [
        { name: 'app', image: 'nginx', ports: [{ containerPort: 80 }] },
        { name: 'loki', image: 'grafana/loki:3.4.2', args: ['-target=querier'] },
      ],
    });
    await cluster.idle();
    expect(started).toEqual([
      'Started container migrate',
      'Started container warm',
      'Started container app',
      'Started container loki',
    ]);
    const status = pod('web').status;
    expect(
      status.initContainerStatuses.map((s: Json) => [
        s.name,
        s.state.terminated.reason,
        s.state.terminated.exitCode,
        s.ready,
        s.started,
      ]),
    ).toEqual([
      ['migrate', 'Completed', 0, true, false],
      ['warm', 'Completed', 0, true, false],
    ]);
    expect(status.conditions.map((c: Json) => `${c.type}=${c.status}`)).toEqual([
      'Initialized=True',
      'Ready=True',
      'ContainersReady=True',
      'PodScheduled=True',
    ]);
    expect(status.podIPs).toEqual([{ ip: status.podIP }]);
    expect(status.hostIP).toBe('172.18.0.2');

    const appLog = cluster.logs('demo', 'web', 'app');
    expect(appLog).toMatch(/^\S+ INFO starting app \(image nginx\)\n\S+ INFO listening on :80\n\S+ INFO ready\n$/);
    expect(cluster.logs('demo', 'web', 'loki', 2)).toMatch(
      /^level=info ts=\S+ caller=module_service.go:82 msg=starting module=querier\nlevel=info .*msg="Loki started"/,
    );
    expect(cluster.logs('demo', 'web', 'loki')).toContain('msg="Starting Loki" version="(version=3.4.2,');
    expect(cluster.logs('demo', 'web', 'migrate')).toContain('INFO starting migrate');
    expect(cluster.logs('demo', 'web', 'app', 0)).toBe('');

    const error = (action: () => unknown) => {
      try {
        action();
      } catch (caught) {
        return (caught as ApiError).status;
      }
      return undefined;
    };
    expect(error(() => cluster.logs('demo', 'web'))).toMatchObject({
      code: 400,
      message:
        'a container name must be specified for pod web, choose one of: [app loki] or one of the init containers: [migrate warm]',
    });
    expect(error(() => cluster.logs('demo', 'web', 'nope'))).toMatchObject({
      code: 400,
      message: 'container nope is not valid for pod web',
    });
    expect(error(() => cluster.logs('demo', 'missing'))).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'pods "missing" not found',
    });
  });

  test('keeps a started pod Running but not Ready until readyAfterMs has passed', async () => {
    cluster.setReadyAfterMs(60_000);
    cluster.start();
    createPod('slow', { containers: [{ name: 'c', image: 'nginx' }] });
    await cluster.idle();
    expect(pod('slow').status.phase).toBe('Running');
    expect(pod('slow').status.containerStatuses[0]).toMatchObject({
      started: true,
      ready: false,
      state: { running: {} },
    });
    expect(ready('slow')).toBe('False');
    expect(() => cluster.logs('demo', 'slow')).not.toThrow();
  });

  test('with readyAfterMs 0 makes pods ready on the next tick', async () => {
    cluster.setReadyAfterMs(0);
    cluster.start();
    createPod('fast', { containers: [{ name: 'c', image: 'nginx' }] });
    await cluster.idle(0);
    expect(ready('fast')).toBe('True');
  });

  test('gives pods distinct IPs from the prefix and reuses those of pods that went', async () => {
    cluster = new Cluster(api, { readyAfterMs: 0, podIpPrefix: '192.168.7.' });
    cluster.start();
    for (const name of ['a', 'b', 'c']) createPod(name, { containers: [{ name: 'c', image: 'nginx' }] });
    await cluster.idle();
    const ips = ['a', 'b', 'c'].map((name) => pod(name).status.podIP);
    expect(new Set(ips).size).toBe(3);
    for (const ip of ips) expect(ip).toMatch(/^192\.168\.7\.\d+$/);
    api.delete('Pod', 'demo', 'a', { gracePeriodSeconds: 0 });
    createPod('d', { containers: [{ name: 'c', image: 'nginx' }] });
    await cluster.idle();
    expect(pod('d').status.podIP).toBe(ips[0]);
  });

  test('pulls an image the first time and finds it present afterwards, unless imagePullPolicy is Always', async () => {
    cluster.start();
    createPod('first', { containers: [{ name: 'c', image: 'nginx:1.27' }] });
    await cluster.idle();
    createPod('second', {
      containers: [
        { name: 'c', image: 'nginx:1.27' },
        { name: 'd', image: 'nginx:1.27', imagePullPolicy: 'Always' },
      ],
    });
    await cluster.idle();
    const pulls = (name: string) =>
      api
        .list('Event', 'demo', { fieldSelector: `involvedObject.name=${name}` })
        .filter((e) => e.reason === 'Pulled' || e.reason === 'Pulling')
        .map((e) => e.message);
    expect(pulls('first')).toEqual([
      'Pulling image "nginx:1.27"',
      expect.stringMatching(/^Successfully pulled image "nginx:1.27" in \d+\.\d{6}s$/),
    ]);
    expect(pulls('second')).toEqual([
      'Container image "nginx:1.27" already present on machine',
      'Pulling image "nginx:1.27"',
      expect.stringMatching(/^Successfully pulled/),
    ]);
    expect(pod('first').status.containerStatuses[0]).toMatchObject({
      image: 'docker.io/library/nginx:1.27',
      imageID: expect.stringMatching(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/),
      containerID: expect.stringMatching(/^containerd:\/\/[0-9a-f]{64}$/),
    });
  });
});
