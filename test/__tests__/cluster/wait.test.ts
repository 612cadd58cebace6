// waitForStack against the test API server: it resolves once every workload is really ready (watching,
// not polling), reports progress once per change, waits for scale-ups, survives interrupted watches, and
// ends with a diagnosis when pods keep failing or time runs out.
import { jest } from '@jest/globals';
import { applyStack, ClusterError, NotReadyError, waitForStack, type StackStatus } from 'loki-microservices';
import type { FailureMode } from '../../src/apiserver/index.js';
import { UNSCHEDULABLE_MESSAGE } from '../../src/apiserver/controllers/scheduler.js';
import type { KubeObject } from '../../src/apiserver/store.js';
import { eventually, FAST_RETRY, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(30_000);

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

afterEach(() => {
  const { server } = fixture.running;
  server.cluster.heal();
  server.cluster.setNodeAvailable(true);
  server.cluster.setReadyAfterMs(20);
  server.faults.allowAll();
  server.faults.setFaultRate(0);
});

type Json = Record<string, any>;

const refOf = (namespace: string, name = 'loki') => ({ name, namespace });

async function apply(namespace: string, spec: Json = {}, name = 'loki') {
  return applyStack(fixture.connection, stackOf({ metadata: { name, namespace }, spec }), { retry: FAST_RETRY });
}

const podsOf = (namespace: string, instance = 'loki') =>
  fixture.running.server.store
    .list('Pod', namespace)
    .filter((pod) => pod.metadata.labels?.['app.kubernetes.io/instance'] === instance) as Json[];

const isReady = (pod: Json) =>
  (pod.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');

/** The watch requests the wait has open on each kind, from the request log. */
const watchesIn = (namespace: string) =>
  fixture.running.server.faults.requests.filter(
    (r) => r.method === 'GET' && r.path.includes(`/namespaces/${namespace}/`) && /[?&]watch=true/.test(r.path),
  );

const byComponent = (lines: string[]) => {
  const grouped: Record<string, string[]> = {};
  for (const line of lines) (grouped[line.split(' ')[0]!] ??= []).push(line);
  return grouped;
};

describe('a stack that becomes ready', () => {
  test('resolves Ready, reporting each component once per change of its ready count', async () => {
    const { server } = fixture.running;
    // Pods wait Pending until the node is back, so that every component is seen at 0 first.
    server.cluster.setNodeAvailable(false);
    await apply('w-ready');
    const lines: string[] = [];
    const statuses: StackStatus[] = [];
    const waiting = waitForStack(fixture.connection, refOf('w-ready'), {
      timeoutMs: 20_000,
      retry: FAST_RETRY,
      onProgress: (line, status) => {
        lines.push(line);
        statuses.push(status);
      },
    });
    await eventually(() => lines.length >= 9, 'the first progress lines');
    server.cluster.setNodeAvailable(true);
    const { status, elapsedMs } = await waiting;

    expect(status.condition.type).toBe('Ready');
    expect(status.name).toBe('loki');
    expect(status.namespace).toBe('w-ready');
    expect(Object.keys(status.components).sort()).toEqual(
      [
        'compactor',
        'distributor',
        'index-gateway',
        'ingester',
        'object-store',
        'querier',
        'query-frontend',
        'query-scheduler',
        'ruler',
      ].sort(),
    );
    for (const component of Object.values(status.components))
      expect(component).toMatchObject({ ready: component.desired, current: true, notReady: [] });
    expect(elapsedMs).toBeGreaterThanOrEqual(0);
    // Every pod of the stack is Ready in the API server when the wait ends.
    expect(podsOf('w-ready').length).toBeGreaterThanOrEqual(9);
    expect(podsOf('w-ready').every(isReady)).toBe(true);

    const grouped = byComponent(lines);
    expect(Object.keys(grouped).sort()).toEqual(Object.keys(status.components).sort());
    expect(grouped.ingester![0]).toBe('ingester 0/1 ready');
    expect(grouped.ingester!.at(-1)).toBe('ingester 1/1 ready');
    for (const [component, sequence] of Object.entries(grouped)) {
      expect(sequence[0]).toBe(`${component} 0/1 ready`);
      expect(sequence.at(-1)).toBe(`${component} 1/1 ready`);
      // Once per change: the many pod and workload events in between repeat no line.
      expect(new Set(sequence).size).toBe(sequence.length);
    }
    // The status handed over with a line is the one the line was made from.
    lines.forEach((line, index) => {
      const [component, counts] = line.split(' ') as [string, string];
      const reported = statuses[index]!.components[component]!;
      expect(`${reported.ready}/${reported.desired}`).toBe(counts);
    });
  });

  test('sees readiness through its watches: a few requests, however long it waits', async () => {
    const { server } = fixture.running;
    server.cluster.setNodeAvailable(false);
    await apply('w-watch');
    server.faults.clearLog();
    let resolvedAt = 0;
    let lastReadyAt = 0;
    const unsubscribe = server.store.subscribe((change) => {
      if (change.kind === 'Pod' && change.object.metadata.namespace === 'w-watch' && isReady(change.object as Json))
        lastReadyAt = Date.now();
    });
    const waiting = waitForStack(fixture.connection, refOf('w-watch'), { timeoutMs: 20_000, retry: FAST_RETRY }).then(
      (result) => {
        resolvedAt = Date.now();
        return result;
      },
    );
    await eventually(() => watchesIn('w-watch').length >= 3, 'the three watches');
    // Pending for a while: a poller would list again and again meanwhile, a watcher sends nothing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const whilePending = server.faults.requests.length;
    server.cluster.setNodeAvailable(true);
    const { status } = await waiting;
    unsubscribe();

    expect(status.condition.type).toBe('Ready');
    expect(podsOf('w-watch').every(isReady)).toBe(true);
    // The last pod became ready before the wait ended (the gap itself is not asserted: no wall clock).
    expect(lastReadyAt).toBeGreaterThan(0);
    expect(resolvedAt).toBeGreaterThanOrEqual(lastReadyAt);
    const paths = server.faults.requests.map((r) => r.path.replace(/\?.*/, ''));
    // One list and one watch per kind: nothing more while pods were pending…
    expect(whilePending).toBeLessThanOrEqual(6);
    expect(
      watchesIn('w-watch')
        .map((r) => r.path.replace(/\?.*/, ''))
        .sort(),
    ).toEqual([
      '/api/v1/namespaces/w-watch/pods',
      '/apis/apps/v1/namespaces/w-watch/deployments',
      '/apis/apps/v1/namespaces/w-watch/statefulsets',
    ]);
    // …and nothing more while they became ready.
    expect(server.faults.requests.length).toBe(whilePending);
    expect(paths.filter((p) => p === '/api/v1/namespaces/w-watch/pods')).toHaveLength(2);
    // The watches carry the stack's selector and start from their list's resourceVersion.
    for (const watch of watchesIn('w-watch')) {
      const query = new URL(watch.path, 'https://x').searchParams;
      expect(query.get('labelSelector')).toBe(
        'app.kubernetes.io/instance=loki,app.kubernetes.io/managed-by=loki-microservices',
      );
      expect(Number(query.get('resourceVersion'))).toBeGreaterThan(0);
    }
  });

  test('after a scale-up, waits for the new pods', async () => {
    const { server } = fixture.running;
    await apply('w-scale');
    await waitForStack(fixture.connection, refOf('w-scale'), { timeoutMs: 20_000, retry: FAST_RETRY });
    server.cluster.setReadyAfterMs(300);
    const before = server.store.get('StatefulSet', 'w-scale', 'loki-ingester')!.metadata.generation!;
    await apply('w-scale', { components: { ingester: { replicas: 3 }, distributor: { replicas: 2 } } });
    const lines: string[] = [];
    const { status } = await waitForStack(fixture.connection, refOf('w-scale'), {
      timeoutMs: 20_000,
      retry: FAST_RETRY,
      onProgress: (line) => lines.push(line),
    });

    expect(status.condition.type).toBe('Ready');
    expect(status.components.ingester).toMatchObject({ desired: 3, ready: 3, updated: 3, current: true });
    expect(status.components.distributor).toMatchObject({ desired: 2, ready: 2, updated: 2, current: true });
    const ingester = server.store.get('StatefulSet', 'w-scale', 'loki-ingester')! as Json;
    expect(ingester.metadata.generation).toBeGreaterThan(before);
    expect(ingester.status.observedGeneration).toBe(ingester.metadata.generation);
    const ingesterPods = podsOf('w-scale').filter(
      (pod) => pod.metadata.labels['app.kubernetes.io/component'] === 'ingester',
    );
    expect(ingesterPods.map((pod) => pod.metadata.name).sort()).toEqual([
      'loki-ingester-0',
      'loki-ingester-1',
      'loki-ingester-2',
    ]);
    expect(ingesterPods.every(isReady)).toBe(true);
    expect(
      podsOf('w-scale')
        .filter(
          (pod) =>
            pod.metadata.labels['app.kubernetes.io/component'] === 'distributor' && !pod.metadata.deletionTimestamp,
        )
        .every(isReady),
    ).toBe(true);
    const ingesterLines = byComponent(lines).ingester!;
    expect(ingesterLines[0]).toMatch(/^ingester [01]\/3 ready$/);
    expect(ingesterLines.at(-1)).toBe('ingester 3/3 ready');
  });

  test('a template change (rollout) is waited for until every pod runs it', async () => {
    const { server } = fixture.running;
    await apply('w-roll');
    await waitForStack(fixture.connection, refOf('w-roll'), { timeoutMs: 20_000, retry: FAST_RETRY });
    server.cluster.setReadyAfterMs(300);
    await apply('w-roll', { components: { querier: { resources: { limits: { memory: '600Mi' } } } } });
    const { status } = await waitForStack(fixture.connection, refOf('w-roll'), {
      timeoutMs: 20_000,
      retry: FAST_RETRY,
    });

    expect(status.condition.type).toBe('Ready');
    const deployment = server.store.get('Deployment', 'w-roll', 'loki-querier')! as Json;
    expect(deployment.status.observedGeneration).toBe(deployment.metadata.generation);
    const queriers = podsOf('w-roll').filter(
      (pod) => pod.metadata.labels['app.kubernetes.io/component'] === 'querier' && !pod.metadata.deletionTimestamp,
    );
    expect(queriers).toHaveLength(1);
    expect(queriers[0]!.spec.containers[0].resources.limits.memory).toBe('600Mi');
    expect(isReady(queriers[0]!)).toBe(true);
  });
});

describe('a stack whose pods keep failing', () => {
  const cases: { mode: FailureMode; reasons: string[]; event: RegExp; logs: boolean }[] = [
    {
      mode: 'crashLoop',
      reasons: ['CrashLoopBackOff'],
      event: /BackOff.*Back-off restarting failed container/,
      logs: true,
    },
    {
      mode: 'imagePull',
      reasons: ['ImagePullBackOff', 'ErrImagePull'],
      event: /Failed.*(Failed to pull image|ErrImagePull|ImagePullBackOff)/,
      logs: false,
    },
    { mode: 'oomKilled', reasons: ['OOMKilled'], event: /BackOff.*Back-off restarting failed container/, logs: false },
    {
      mode: 'unschedulable',
      reasons: ['Unschedulable'],
      event: /FailedScheduling.*0\/1 nodes are available/,
      logs: false,
    },
  ];

  test.each(cases)(
    '$mode: ends early with a diagnosis naming the component, the pod and the reason',
    async ({ mode, reasons, event, logs }) => {
      const namespace = `w-${mode.toLowerCase()}`;
      // The Loki container of the ingester (its init container, which has another image, is fine).
      fixture.running.server.cluster.fail({ namespace, workload: 'loki-ingester', image: 'grafana/loki' }, mode);
      await apply(namespace);
      const error = await waitForStack(fixture.connection, refOf(namespace), {
        timeoutMs: 20_000,
        failingForMs: 300,
        retry: FAST_RETRY,
      }).then(
        () => undefined,
        (caught: unknown) => caught,
      );

      expect(error).toBeInstanceOf(NotReadyError);
      const notReady = error as NotReadyError;
      expect(notReady.why).toBe('failing');
      expect(notReady.status.condition.type).toBe('Failed');
      expect(notReady.status.components.ingester!.ready).toBe(0);
      // The ingester is named; any other component named is merely still starting, not failing.
      const component = notReady.diagnosis.components.find((c) => c.name === 'ingester');
      for (const other of notReady.diagnosis.components.filter((c) => c !== component))
        expect(other.pods.filter((p) => p.failing)).toEqual([]);
      expect(component).toMatchObject({ name: 'ingester', desired: 1, ready: 0 });
      expect(component!.pods).toHaveLength(1);
      const pod = component!.pods[0]!;
      expect(pod.name).toBe('loki-ingester-0');
      expect(reasons).toContain(pod.reason);
      expect(pod.failing).toBe(true);
      if (mode === 'unschedulable') {
        expect(pod.message).toBe(UNSCHEDULABLE_MESSAGE);
        expect(pod.state).toBe('Pending');
      } else {
        expect(pod.container).toBe('loki');
      }
      if (mode === 'crashLoop' || mode === 'oomKilled') expect(pod.restarts).toBeGreaterThan(0);

      const events = notReady.diagnosis.events.map((e) => `${e.object} ${e.reason} ${e.message}`);
      expect(events.some((line) => line.startsWith('Pod/loki-ingester-0 ') && event.test(line))).toBe(true);
      // Only warnings, only about this stack.
      const warnings = fixture.running.server.store
        .list('Event', namespace)
        .filter((e) => (e as Json).type === 'Warning');
      expect(notReady.diagnosis.events.length).toBeLessThanOrEqual(warnings.length);

      if (logs) {
        expect(notReady.diagnosis.logs).toHaveLength(1);
        const [log] = notReady.diagnosis.logs;
        expect(log).toMatchObject({ pod: 'loki-ingester-0', container: 'loki', previous: true });
        expect(log!.lines.at(-1)).toMatch(/level=error .*msg="error running loki"/);
        expect(log!.lines.some((line) => line.includes('msg="Starting Loki"'))).toBe(true);
      } else {
        // Nothing started (or an OOM kill, which leaves no last words): no log lines to show.
        expect(notReady.diagnosis.logs.every((l) => l.lines.every((line) => !line.includes('level=error')))).toBe(true);
      }

      // The message is the diagnosis, readable on a terminal.
      expect(notReady.message).toContain(`stack ${namespace}/loki is failing`);
      expect(notReady.message).toContain('ingester: 0/1 ready');
      expect(notReady.message).toMatch(new RegExp(`loki-ingester-0: \\w+, (${reasons.join('|')})`));
      expect(notReady.message).toContain('recent warning events:');
      if (mode === 'unschedulable') expect(notReady.message).toContain(UNSCHEDULABLE_MESSAGE);
      if (logs) expect(notReady.message).toContain('last log lines of loki-ingester-0/loki (before its last restart):');
    },
  );

  test("the diagnosis leaves out the warnings of neighbours whose names start like the stack's", async () => {
    const { server } = fixture.running;
    const namespace = 'w-neighbours';
    // loki-canary (Grafana's, often next to Loki) and another stack named loki-dev, both failing too.
    server.cluster.fail({ namespace, workload: 'loki-canary' }, 'imagePull');
    server.cluster.fail({ namespace, workload: 'loki-dev-ingester', image: 'grafana/loki' }, 'crashLoop');
    server.cluster.fail({ namespace, workload: 'loki-ingester', image: 'grafana/loki' }, 'crashLoop');
    await apply(namespace);
    await apply(namespace, {}, 'loki-dev');
    server.api.create(
      'Deployment',
      namespace,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'loki-canary', namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'canary' } },
          template: {
            metadata: { labels: { app: 'canary' } },
            spec: { containers: [{ name: 'canary', image: 'grafana/loki-canary:3.5.0' }] },
          },
        },
      } as KubeObject,
      { manager: 'kubectl' },
    );
    await eventually(
      () =>
        server.store
          .list('Event', namespace)
          .some(
            (e) =>
              /^Pod\/loki-canary-/.test(`Pod/${(e as Json).involvedObject.name}`) && (e as Json).type === 'Warning',
          ) &&
        server.store
          .list('Event', namespace)
          .some((e) => (e as Json).involvedObject.name === 'loki-dev-ingester-0' && (e as Json).type === 'Warning'),
      'the neighbours to fail',
    );
    const error = (await waitForStack(fixture.connection, refOf(namespace), {
      timeoutMs: 20_000,
      failingForMs: 300,
      retry: FAST_RETRY,
    }).catch((caught: unknown) => caught)) as NotReadyError;
    expect(error).toBeInstanceOf(NotReadyError);
    const objects = error.diagnosis.events.map((e) => e.object);
    expect(objects).toContain('Pod/loki-ingester-0');
    expect(objects.filter((o) => /loki-(canary|dev)/.test(o))).toEqual([]);
  });

  test('a crash loop counts as one failure across its restarts, not a new one each time the container runs again', async () => {
    // The double's back-off is the kubelet's (restart at once, then 10 s, 20 s…), and between back-offs the
    // container runs and crashes again. Measured from each restart, no 12 s stretch of failure would fit
    // before the 20 s timeout; measured from the first failure, it does.
    const namespace = 'w-crash-clock';
    fixture.running.server.cluster.fail({ namespace, workload: 'loki-ingester', image: 'grafana/loki' }, 'crashLoop');
    await apply(namespace);
    const error = (await waitForStack(fixture.connection, refOf(namespace), {
      timeoutMs: 20_000,
      failingForMs: 12_000,
      retry: FAST_RETRY,
    }).catch((caught: unknown) => caught)) as NotReadyError;
    expect(error).toBeInstanceOf(NotReadyError);
    expect(error.why).toBe('failing');
    expect(error.status.components.ingester!.notReady[0]!.restarts).toBeGreaterThan(0);
  });

  test('a failure that heals in time is waited out', async () => {
    const { server } = fixture.running;
    server.cluster.fail({ namespace: 'w-heal', workload: 'loki-ingester', image: 'grafana/loki' }, 'imagePull');
    await apply('w-heal');
    const lines: string[] = [];
    const waiting = waitForStack(fixture.connection, refOf('w-heal'), {
      timeoutMs: 20_000,
      failingForMs: 5_000,
      retry: FAST_RETRY,
      onProgress: (line) => lines.push(line),
    });
    await eventually(
      () => podsOf('w-heal').some((pod) => /ImagePull|ErrImagePull/.test(JSON.stringify(pod.status ?? {}))),
      'the image pull to fail',
    );
    server.cluster.heal();
    const { status } = await waiting;
    expect(status.condition.type).toBe('Ready');
    expect(lines.at(-1)).toMatch(/ 1\/1 ready$/);
  });
});

describe('a stack that is not ready in time', () => {
  test('rejects with why "timeout" and says what is still pending', async () => {
    const { server } = fixture.running;
    server.cluster.setReadyAfterMs(600_000);
    await apply('w-slow');
    const error = await waitForStack(fixture.connection, refOf('w-slow'), { timeoutMs: 500, retry: FAST_RETRY }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(NotReadyError);
    const notReady = error as NotReadyError;
    expect(notReady.why).toBe('timeout');
    expect(notReady.status.condition.type).toBe('Pending');
    expect(notReady.message).toMatch(/^stack w-slow\/loki is not ready after \d+s: /);
    // Every component is named, with its pod, which runs but is not ready yet (nothing is failing).
    expect(notReady.diagnosis.components.map((c) => c.name).sort()).toEqual(
      Object.keys(notReady.status.components).sort(),
    );
    for (const component of notReady.diagnosis.components) {
      expect(component.ready).toBe(0);
      expect(component.pods.length).toBeGreaterThanOrEqual(1);
      for (const pod of component.pods) expect(pod.failing).toBe(false);
    }
    expect(notReady.diagnosis.logs).toEqual([]);
  });

  test('waits for a stack that does not exist yet, until the timeout', async () => {
    const error = await waitForStack(fixture.connection, refOf('w-nothing'), {
      timeoutMs: 300,
      retry: FAST_RETRY,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotReadyError);
    expect((error as NotReadyError).why).toBe('timeout');
    expect((error as NotReadyError).status.components).toEqual({});
  });
});

describe('cancelling and interruptions', () => {
  test('an abort signal rejects the wait and closes its watches', async () => {
    const { server } = fixture.running;
    server.cluster.setNodeAvailable(false);
    await apply('w-abort');
    const controller = new AbortController();
    server.faults.clearLog();
    const waiting = waitForStack(fixture.connection, refOf('w-abort'), {
      timeoutMs: 20_000,
      retry: FAST_RETRY,
      signal: controller.signal,
    });
    await eventually(() => watchesIn('w-abort').length >= 3, 'the watches');
    controller.abort();
    await expect(waiting).rejects.toThrow(ClusterError);
    await expect(waiting).rejects.toThrow('waiting was cancelled');
    // Nothing is started again after the abort (a watch that ends would otherwise be restarted).
    const after = server.faults.requests.length;
    server.cluster.setNodeAvailable(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(server.faults.requests.slice(after)).toEqual([]);
  });

  test('an already aborted signal rejects at once, without a request', async () => {
    const { server } = fixture.running;
    server.faults.clearLog();
    const controller = new AbortController();
    controller.abort();
    await expect(
      waitForStack(fixture.connection, refOf('w-abort'), {
        timeoutMs: 20_000,
        retry: FAST_RETRY,
        signal: controller.signal,
      }),
    ).rejects.toThrow('waiting was cancelled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.faults.requests.filter((r) => /[?&]watch=true/.test(r.path))).toEqual([]);
  });

  test('survives watches cut off, failed re-lists and failed re-watches', async () => {
    const { server } = fixture.running;
    server.cluster.setNodeAvailable(false);
    await apply('w-cut');
    server.faults.clearLog();
    const waiting = waitForStack(fixture.connection, refOf('w-cut'), { timeoutMs: 20_000, retry: FAST_RETRY });
    await eventually(() => watchesIn('w-cut').length >= 3, 'the watches');
    // Every open connection is cut (the watches with them); the next requests fail too.
    server.faults.failNext('reset', 2);
    server.faults.failNext('error', 2);
    (server as unknown as { server: { closeAllConnections(): void } }).server.closeAllConnections();
    await eventually(
      () => watchesIn('w-cut').filter((r) => !r.fault && r.status === 200).length >= 6,
      'the watches to be started again',
    );
    server.cluster.setNodeAvailable(true);
    const { status } = await waiting;
    expect(status.condition.type).toBe('Ready');
    expect(server.faults.requests.filter((r) => r.fault).length).toBe(4);
  });

  test('survives a failed watch request', async () => {
    const { server } = fixture.running;
    server.cluster.setNodeAvailable(false);
    await apply('w-watchfail');
    server.faults.clearLog();
    // Let the three lists through, then fail the first watch requests.
    const waiting = waitForStack(fixture.connection, refOf('w-watchfail'), { timeoutMs: 20_000, retry: FAST_RETRY });
    await eventually(
      () => server.faults.requests.filter((r) => !/[?&]watch=true/.test(r.path)).length >= 3,
      'the lists',
    );
    server.faults.failNext('error', 3);
    await eventually(
      () =>
        server.faults.requests.filter((r) => r.fault === 'error').length >= 3 &&
        watchesIn('w-watchfail').filter((r) => !r.fault).length >= 3,
      'the watches after the failures',
    );
    // It was the watch requests that failed (the lists had all been answered).
    expect(server.faults.requests.filter((r) => r.fault === 'error').every((r) => /[?&]watch=true/.test(r.path))).toBe(
      true,
    );
    server.cluster.setNodeAvailable(true);
    const { status } = await waiting;
    expect(status.condition.type).toBe('Ready');
  });

  test('survives a watch that answers 410 Gone (history compacted)', async () => {
    const { server } = fixture.running;
    server.cluster.setNodeAvailable(false);
    await apply('w-gone');
    server.faults.clearLog();
    const store = server.store as unknown as { changesSince(rv: number): KubeObject[] | 'expired' };
    const original = store.changesSince.bind(store);
    let expired = 0;
    store.changesSince = (rv: number) => {
      if (expired < 3) {
        expired++;
        return 'expired';
      }
      return original(rv);
    };
    try {
      const waiting = waitForStack(fixture.connection, refOf('w-gone'), { timeoutMs: 20_000, retry: FAST_RETRY });
      await eventually(
        () => expired >= 3 && watchesIn('w-gone').length >= 6,
        'the watches to be started again after 410',
      );
      server.cluster.setNodeAvailable(true);
      const { status } = await waiting;
      expect(status.condition.type).toBe('Ready');
    } finally {
      store.changesSince = original;
    }
  });

  test('a watch the API refuses (403) fails the wait with the reason instead of retrying until the timeout', async () => {
    const { server } = fixture.running;
    await apply('w-forbidden');
    server.faults.forbid({ verb: 'watch', resource: 'pods', namespace: 'w-forbidden' });
    server.cluster.setNodeAvailable(false);
    server.faults.clearLog();
    const error = await waitForStack(fixture.connection, refOf('w-forbidden'), {
      timeoutMs: 15_000,
      retry: FAST_RETRY,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClusterError);
    expect(error).not.toBeInstanceOf(NotReadyError);
    expect((error as ClusterError).message).toMatch(/watching Pods in w-forbidden: .*forbidden/i);
    expect(watchesIn('w-forbidden').filter((r) => r.status === 403).length).toBeLessThanOrEqual(1);
  });
});
