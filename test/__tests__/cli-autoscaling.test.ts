// Autoscaling through the installed CLI against the test API server: switching it on hands spec.replicas over
// to the autoscaler without resetting the live count (Kubernetes' documented ownership transfer), the plan shows
// no replica change, switching it off takes the replicas back at the spec's value and prunes the autoscaler, and
// KEDA mode on a cluster without KEDA's CRD is refused before anything is sent, a change of mode deletes the
// old autoscaler before the new one is sent, and an ingester's autoscaling is invalid input.
import { jest } from '@jest/globals';
import { PatchStrategy } from '@kubernetes/client-node';
import { runCli, startFixture, type Fixture } from './cluster/fixture.js';

jest.setTimeout(120_000);

type Json = Record<string, any>;

const MANAGER = 'loki-microservices';
const HANDOVER_MANAGER = 'loki-microservices-handover';

let fixture: Fixture;
let keda: Fixture;
beforeAll(async () => {
  [fixture, keda] = await Promise.all([startFixture(), startFixture({ crds: ['keda.sh'] })]);
});
afterAll(async () => {
  await Promise.all([fixture.close(), keda.close()]);
});

const querier = (on: Fixture, namespace: string) =>
  on.running.server.store.get('Deployment', namespace, 'loki-querier') as Json;

/** The managers whose entries own `spec.replicas` of the live querier Deployment. */
const replicaOwners = (on: Fixture, namespace: string) =>
  ((querier(on, namespace).metadata.managedFields ?? []) as Json[])
    .filter((entry) => entry.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined)
    .map((entry) => `${entry.manager} ${entry.operation}`)
    .sort();

const autoscaled = (namespace: string) => [
  '--set',
  `metadata.namespace=${namespace}`,
  '--set',
  'spec.components.querier.autoscaling={enabled: true, min: 2, max: 8}',
];

describe('switching autoscaling on and off', () => {
  const ns = 'a-switch';

  test('switched on: the live count stays (5, not the default 1), the replicas pass to the handover manager, the HPA targets the Deployment', async () => {
    const first = await runCli(fixture, [
      'apply',
      '--set',
      `metadata.namespace=${ns}`,
      '--set',
      'spec.components.querier.replicas=5',
    ]);
    expect(first.code).toBe(0);
    expect(querier(fixture, ns).spec.replicas).toBe(5);
    expect(replicaOwners(fixture, ns)).toEqual([`${MANAGER} Apply`]);

    const plan = await runCli(fixture, ['plan', ...autoscaled(ns)]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('HorizontalPodAutoscaler loki-querier');
    expect(plan.stdout).not.toMatch(/querier.*replicas/);

    const on = await runCli(fixture, ['apply', '--wait', ...autoscaled(ns)]);
    expect(on.stderr).not.toMatch(/^error/m);
    expect(on.code).toBe(0);
    expect(on.stderr).toContain('  HorizontalPodAutoscaler loki-querier created\n');
    expect(on.stderr).toContain('  querier 5/5 ready\n');
    expect(querier(fixture, ns).spec.replicas).toBe(5);
    expect(replicaOwners(fixture, ns)).toEqual([`${HANDOVER_MANAGER} Apply`]);
    const hpa = fixture.running.server.store.get('HorizontalPodAutoscaler', ns, 'loki-querier') as Json;
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'loki-querier' },
      minReplicas: 2,
      maxReplicas: 8,
    });
  });

  test('scaled by the autoscaler, then applied again: its count stays, and nothing is reported changed', async () => {
    // What the HPA controller does: an update of spec.replicas under its own manager.
    await fixture.connection.objects.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'loki-querier', namespace: ns },
        spec: { replicas: 7 },
      },
      undefined,
      undefined,
      'kube-controller-manager',
      undefined,
      PatchStrategy.MergePatch,
    );
    const again = await runCli(fixture, ['apply', ...autoscaled(ns)]);
    expect(again.code).toBe(0);
    expect(querier(fixture, ns).spec.replicas).toBe(7);
    expect(again.stderr).not.toContain('Deployment loki-querier configured');
  });

  test('switched off: the replicas come back to the spec value under our manager, and the HPA is pruned', async () => {
    const off = await runCli(fixture, [
      'apply',
      '--set',
      `metadata.namespace=${ns}`,
      '--set',
      'spec.components.querier.replicas=3',
    ]);
    expect(off.stderr).not.toMatch(/^error/m);
    expect(off.code).toBe(0);
    expect(querier(fixture, ns).spec.replicas).toBe(3);
    expect(replicaOwners(fixture, ns)).toEqual([`${MANAGER} Apply`]);
    expect(fixture.running.server.store.get('HorizontalPodAutoscaler', ns, 'loki-querier')).toBeUndefined();
    expect(off.stderr).toContain('  HorizontalPodAutoscaler loki-querier pruned\n');
  });
});

describe('KEDA mode', () => {
  const kedaArgs = (namespace: string) => [
    '--set',
    `metadata.namespace=${namespace}`,
    '--set',
    'spec.monitoring.enabled=true',
    '--set',
    'spec.components.querier.autoscaling={enabled: true, min: 1, max: 6, mode: keda, keda: {prometheusAddress: "http://prometheus.monitoring:9090"}}',
  ];

  test('on a cluster without the CRD scaledobjects.keda.sh: refused up front naming it, nothing applied', async () => {
    const result = await runCli(fixture, ['apply', ...kedaArgs('a-nokeda')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'the cluster does not serve keda.sh/v1alpha1 ScaledObject, which autoscaling.mode: keda (the CRD scaledobjects.keda.sh) needs: install KEDA (its CRDs)',
    );
    expect(fixture.running.server.store.get('Namespace', undefined, 'a-nokeda')).toBeUndefined();
  });

  test("mode hpa → keda: the HPA is deleted before the ScaledObject is sent (KEDA's webhook refuses a second autoscaler)", async () => {
    const ns = 'a-mode';
    const hpa = await runCli(keda, ['apply', ...autoscaled(ns)]);
    expect(hpa.code).toBe(0);
    const sent = keda.running.server.faults.requests.length;
    const switched = await runCli(keda, ['apply', ...kedaArgs(ns)]);
    expect(switched.stderr).not.toMatch(/^error/m);
    expect(switched.code).toBe(0);
    const requests = keda.running.server.faults.requests.slice(sent).map((r) => `${r.method} ${r.path.split('?')[0]}`);
    const deleted = requests.indexOf(
      `DELETE /apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/loki-querier`,
    );
    const applied = requests.indexOf(`PATCH /apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects/loki-querier`);
    expect(deleted).toBeGreaterThanOrEqual(0);
    expect(applied).toBeGreaterThan(deleted);
    expect(keda.running.server.store.get('HorizontalPodAutoscaler', ns, 'loki-querier')).toBeUndefined();
    expect(keda.running.server.store.get('ScaledObject', ns, 'loki-querier')).toBeDefined();
    expect(switched.stderr).toContain('  HorizontalPodAutoscaler loki-querier pruned\n');
  });

  test('with KEDA: a ScaledObject on the scheduler inflight requests of this stack, the Deployment without replicas', async () => {
    const result = await runCli(keda, ['apply', ...kedaArgs('a-keda')]);
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
    const scaled = keda.running.server.store.get('ScaledObject', 'a-keda', 'loki-querier') as Json;
    expect(scaled.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'loki-querier' });
    expect(scaled.spec.triggers[0].metadata.query).toContain('loki_stack="loki", namespace="a-keda"');
    // A new Deployment without replicas starts at the API's default, 1; KEDA takes it from there.
    expect(querier(keda, 'a-keda').spec.replicas).toBe(1);
    expect(replicaOwners(keda, 'a-keda')).toEqual([]);
  });
});

test('autoscaling an ingester: exit 2 naming the field and the reason, before any request', async () => {
  const before = fixture.running.server.faults.requests.length;
  const result = await runCli(fixture, ['apply', '--set', 'spec.components.ingester.autoscaling={enabled: true}']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(
    'spec.components.ingester.autoscaling: not available: this component holds ring tokens',
  );
  expect(fixture.running.server.faults.requests.length).toBe(before);
});
