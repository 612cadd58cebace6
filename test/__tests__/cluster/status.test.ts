// getStackStatus against the test API server's simulated cluster: a ready stack, the cost of a status
// (three reads whatever the stack's size), failing, rolling and unscheduled pods, and a stack that is not there.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import {
  applyStack,
  getStackStatus,
  StackNotFoundError,
  STATUS_API_VERSION,
  type ConditionType,
  type StackStatus,
} from 'loki-microservices';
import { eventually, FAST_RETRY, stackOf, startFixture, type Fixture } from './fixture.js';

let fixture: Fixture;

beforeEach(async () => {
  fixture = await startFixture();
});
afterEach(async () => {
  await fixture.close();
});

const COMPONENTS = [
  'compactor',
  'distributor',
  'index-gateway',
  'ingester',
  'object-store',
  'querier',
  'query-frontend',
  'query-scheduler',
  'ruler',
];
const STATEFUL = new Set(['compactor', 'index-gateway', 'ingester', 'ruler']);

const apply = (document: Record<string, unknown> = {}) =>
  applyStack(fixture.connection, stackOf(document), { retry: FAST_RETRY });
const status = (name = 'loki', namespace = 'loki') =>
  getStackStatus(fixture.connection, { name, namespace }, FAST_RETRY);
/** The status once its condition is `type` (and `also` holds), polled. */
const statusWhen = (
  type: ConditionType,
  also: (s: StackStatus) => boolean = () => true,
  name = 'loki',
  namespace = 'loki',
) =>
  eventually(async () => {
    const current = await status(name, namespace);
    return current.condition.type === type && also(current) ? current : undefined;
  }, `the stack to be ${type}`);

describe('a ready stack', () => {
  test('is Ready, with every component, its pods, endpoints, version and age, in the contract’s shape', async () => {
    await apply();
    const ready = await statusWhen('Ready');

    expect(Object.keys(ready).sort()).toEqual([
      'apiVersion',
      'components',
      'condition',
      'createdAt',
      'endpoints',
      'kind',
      'name',
      'namespace',
      'schema',
      'version',
    ]);
    expect(ready.schema).toEqual({ active: { from: '2024-04-01', store: 'tsdb', version: 'v13' } });
    expect(ready).toMatchObject({
      apiVersion: STATUS_API_VERSION,
      kind: 'StackStatus',
      name: 'loki',
      namespace: 'loki',
    });
    expect(STATUS_API_VERSION).toBe('loki-microservices/v1alpha1');
    expect(ready.condition).toEqual({ type: 'Ready', reason: 'AllComponentsReady', message: '9 components ready' });
    expect(Object.keys(ready.components)).toEqual(COMPONENTS);
    for (const [name, component] of Object.entries(ready.components)) {
      expect(Object.keys(component).sort()).toEqual([
        'current',
        'desired',
        'kind',
        'notReady',
        'pods',
        'ready',
        'updated',
      ]);
      expect({ name, ...component }).toEqual({
        name,
        kind: STATEFUL.has(name) ? 'StatefulSet' : 'Deployment',
        desired: 1,
        ready: 1,
        updated: 1,
        current: true,
        pods: { Ready: 1, Running: 0, Pending: 0, Failed: 0, Unknown: 0 },
        notReady: [],
      });
    }
    expect(ready.endpoints).toEqual({
      push: 'http://loki-distributor.loki.svc.cluster.local:3100/loki/api/v1/push',
      query: 'http://loki-query-frontend.loki.svc.cluster.local:3100',
      basicAuth: false,
    });
    expect(ready.version).toBe('3.7.8');
    // The oldest workload's creation time.
    const created = [
      ...fixture.running.server.store.list('Deployment', 'loki'),
      ...fixture.running.server.store.list('StatefulSet', 'loki'),
    ].map((w) => Date.parse(w.metadata.creationTimestamp!));
    expect(ready.createdAt).toBe(new Date(Math.min(...created)).toISOString());
    // Plain JSON: what the CLI prints and the Action reads back is the same object.
    expect(JSON.parse(JSON.stringify(ready))).toEqual(ready);
  });

  test('the pattern ingester is a component while it runs, and is gone from the status once switched off', async () => {
    const patterns = (enabled: boolean) => ({ spec: { components: { patternIngester: { enabled } } } });
    await apply(patterns(true));
    const running = await statusWhen('Ready', (s) => 'pattern-ingester' in s.components);
    expect(running.components['pattern-ingester']).toMatchObject({ kind: 'StatefulSet', desired: 1, ready: 1 });
    expect(Object.keys(running.components).sort()).toEqual([...COMPONENTS, 'pattern-ingester'].sort());
    await apply(patterns(false));
    const off = await statusWhen('Ready', (s) => !('pattern-ingester' in s.components));
    expect(Object.keys(off.components)).toEqual(COMPONENTS);
  });

  test('another name, namespace, cluster domain and version show in the endpoints and the version', async () => {
    await apply({
      metadata: { name: 'logs', namespace: 'observability' },
      spec: { clusterDomain: 'cluster.example', version: '3.6.4' },
    });
    const ready = await statusWhen('Ready', undefined, 'logs', 'observability');
    expect(ready).toMatchObject({ name: 'logs', namespace: 'observability', version: '3.6.4' });
    expect(ready.endpoints).toEqual({
      push: 'http://logs-distributor.observability.svc.cluster.example:3100/loki/api/v1/push',
      query: 'http://logs-query-frontend.observability.svc.cluster.example:3100',
      basicAuth: false,
    });
  });

  test('costs three lists, in one round, whatever the number of replicas', async () => {
    await apply();
    await statusWhen('Ready');
    fixture.running.server.faults.clearLog();
    await status();
    const small = fixture.running.server.faults.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`).sort();
    expect(small).toEqual([
      'GET /api/v1/namespaces/loki/pods',
      'GET /apis/apps/v1/namespaces/loki/deployments',
      'GET /apis/apps/v1/namespaces/loki/statefulsets',
    ]);

    await apply({ spec: { components: { ingester: { replicas: 3 }, querier: { replicas: 3 } } } });
    const scaled = await statusWhen(
      'Ready',
      (s) => s.components.ingester!.ready === 3 && s.components.querier!.ready === 3,
    );
    expect(scaled.components.ingester).toMatchObject({ desired: 3, ready: 3, pods: { Ready: 3 } });
    expect(scaled.components.querier).toMatchObject({ desired: 3, ready: 3, pods: { Ready: 3 } });
    fixture.running.server.faults.clearLog();
    await status();
    expect(fixture.running.server.faults.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`).sort()).toEqual(
      small,
    );
  });
});

test('the schema periods come from the workloads, without the right to read ConfigMaps (the status backend has none)', async () => {
  await apply();
  await statusWhen('Ready');
  fixture.running.server.faults.forbid({ verb: 'get', resource: 'configmaps' });
  const ready = await status();
  expect(ready.condition.type).toBe('Ready');
  expect(ready.schema).toEqual({ active: { from: '2024-04-01', store: 'tsdb', version: 'v13' } });
});

describe('a stack with problems', () => {
  test('a crash-looping single ingester fails the stack, naming the pod and the reason', async () => {
    await apply();
    await statusWhen('Ready');
    fixture.running.server.cluster.fail({ workload: 'loki-ingester' }, 'crashLoop');

    const failed = await statusWhen('Failed', (s) => s.components.ingester!.notReady[0]?.reason === 'CrashLoopBackOff');

    expect(failed.condition).toEqual({
      type: 'Failed',
      reason: 'ComponentsFailing',
      message: 'ingester 0/1 ready (CrashLoopBackOff)',
    });
    expect(failed.components.ingester).toMatchObject({
      desired: 1,
      ready: 0,
      current: false,
      pods: { Ready: 0, Running: 0, Failed: 1 },
    });
    expect(failed.components.ingester!.notReady).toEqual([
      {
        name: 'loki-ingester-0',
        state: 'Failed',
        reason: 'CrashLoopBackOff',
        message: expect.stringContaining('back-off'),
        container: 'loki',
        restarts: expect.any(Number),
        failing: true,
      },
    ]);
    expect(failed.components.ingester!.notReady[0]!.restarts).toBeGreaterThanOrEqual(1);
    // The other components are unaffected.
    for (const name of COMPONENTS.filter((c) => c !== 'ingester'))
      expect(failed.components[name]).toMatchObject({ ready: 1, notReady: [] });

    fixture.running.server.cluster.heal();
    await statusWhen('Ready');
  });

  test('a rollout whose new pods cannot pull their image degrades the stack while the old pods serve', async () => {
    await apply();
    await statusWhen('Ready');
    fixture.running.server.cluster.fail({ workload: 'loki-distributor' }, 'imagePull');
    // A configuration change: every Loki pod template changes, so the distributor rolls (surge, the old pod stays).
    await apply({ spec: { limits: { maxQuerySeries: 1000 } } });

    const degraded = await statusWhen('Degraded', (s) =>
      s.components.distributor!.notReady.some((p) => p.reason === 'ImagePullBackOff'),
    );

    expect(degraded.condition).toEqual({
      type: 'Degraded',
      reason: 'ComponentsDegraded',
      message: 'distributor 1/1 ready (ImagePullBackOff)',
    });
    expect(degraded.components.distributor).toMatchObject({
      desired: 1,
      ready: 1,
      current: false,
      pods: { Ready: 1, Pending: 0, Failed: 1 },
    });
    expect(degraded.components.distributor!.notReady).toEqual([
      expect.objectContaining({
        name: expect.stringMatching(/^loki-distributor-/),
        state: 'Failed',
        reason: 'ImagePullBackOff',
        message: expect.stringContaining('pulling image'),
        container: 'loki',
        failing: true,
      }),
    ]);
  });

  test('memcached caches are components; a cache that is down degrades the stack (Loki answers without it)', async () => {
    await apply({ spec: { caches: { type: 'memcached' } } });
    const ready = await statusWhen('Ready');
    expect(Object.keys(ready.components)).toEqual([...COMPONENTS, 'chunks-cache', 'results-cache'].sort());
    expect(ready.components['chunks-cache']).toMatchObject({ desired: 1, ready: 1, notReady: [] });

    fixture.running.server.cluster.fail({ workload: 'loki-results-cache' }, 'crashLoop');
    const degraded = await statusWhen('Degraded', (s) =>
      s.components['results-cache']!.notReady.some((p) => p.reason === 'CrashLoopBackOff'),
    );
    expect(degraded.condition).toEqual({
      type: 'Degraded',
      reason: 'ComponentsDegraded',
      message: 'results-cache 0/1 ready (CrashLoopBackOff)',
    });
    expect(degraded.components['results-cache']!.notReady[0]).toMatchObject({
      name: 'loki-results-cache-0',
      container: 'memcached',
      failing: true,
    });
    fixture.running.server.cluster.heal();
    await statusWhen('Ready');
  });

  test('pods nothing can schedule fail the stack as Unschedulable', async () => {
    fixture.running.server.cluster.fail({ workload: 'loki-querier' }, 'unschedulable');
    await apply();

    const failed = await statusWhen('Failed', (s) => s.components.querier!.notReady[0]?.reason === 'Unschedulable');

    expect(failed.condition).toMatchObject({
      reason: 'ComponentsFailing',
      message: 'querier 0/1 ready (Unschedulable)',
    });
    expect(failed.components.querier).toMatchObject({ ready: 0, pods: { Pending: 1 } });
    expect(failed.components.querier!.notReady[0]).toMatchObject({
      state: 'Pending',
      reason: 'Unschedulable',
      failing: true,
    });
  });

  test('without a node, the stack is Pending: its pods wait, none of them failing', async () => {
    fixture.running.server.cluster.setNodeAvailable(false);
    await apply();
    await fixture.running.server.cluster.idle();

    const pending = await statusWhen('Pending', (s) =>
      Object.values(s.components).every((c) => c.pods.Pending === c.desired),
    );

    expect(pending.condition.reason).toBe('ComponentsNotReady');
    expect(pending.condition.message.split('; ')).toEqual(COMPONENTS.map((name) => `${name} 0/1 ready (Pending)`));
    for (const component of Object.values(pending.components)) {
      expect(component).toMatchObject({
        desired: 1,
        ready: 0,
        current: false,
        pods: { Ready: 0, Running: 0, Pending: 1, Failed: 0, Unknown: 0 },
      });
      expect(component.notReady).toEqual([
        expect.objectContaining({ state: 'Pending', reason: 'Pending', failing: false }),
      ]);
    }

    fixture.running.server.cluster.setNodeAvailable(true);
    await statusWhen('Ready');
  });
});

describe('no stack', () => {
  test('a name or namespace without workloads of ours answers StackNotFoundError', async () => {
    await expect(status('loki', 'nowhere')).rejects.toThrow(StackNotFoundError);
    await apply();
    const error = await status('other', 'loki').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackNotFoundError);
    expect(error).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'no Loki stack "other" in namespace "loki"',
    });
    // Workloads that only look like ours do not make a stack.
    fixture.running.server.api.create(
      'Deployment',
      'loki',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'other-distributor', namespace: 'loki', labels: { 'app.kubernetes.io/instance': 'other' } },
        spec: {
          selector: { matchLabels: { app: 'x' } },
          template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'x:1' }] } },
        },
      },
      { manager: 'kubectl' },
    );
    await expect(status('other', 'loki')).rejects.toThrow(StackNotFoundError);
  });
});
