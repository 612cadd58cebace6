// The upgrade a status reads off the workloads and pods alone: the version the first waves run, the wave rolling.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { formatStatus } from '../../src/cli/format-status.js';
import { stackStatusOf } from '../../src/kubernetes/ops/stack-status.js';
import { wavesOfComponents } from '../../src/stack/waves.js';

const COMPONENTS = ['compactor', 'index-gateway', 'ingester', 'querier', 'distributor'];

function workload(component: string, version: string, replicas = 1, updated = replicas): V1StatefulSet {
  return {
    kind: 'StatefulSet',
    metadata: {
      name: `loki-${component}`,
      generation: 2,
      labels: {
        'app.kubernetes.io/name': 'loki',
        'app.kubernetes.io/component': component,
        'app.kubernetes.io/version': version,
      },
    },
    spec: { replicas, selector: {}, serviceName: '', template: {} },
    status: {
      observedGeneration: 2,
      replicas,
      readyReplicas: replicas,
      updatedReplicas: updated,
      availableReplicas: replicas,
    },
  };
}

function pod(component: string, index: number, version: string): V1Pod {
  return {
    metadata: {
      name: `loki-${component}-${index}`,
      labels: { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/component': component },
    },
    spec: { containers: [{ name: 'loki', image: `docker.io/grafana/loki:${version}` }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const statusOf = (workloads: V1StatefulSet[], pods: V1Pod[]) =>
  stackStatusOf({ name: 'loki', namespace: 'loki', workloads, pods });

test('the waves of the live components, in server-before-client order whatever order they come in', () => {
  expect(wavesOfComponents(['distributor', 'object-store', 'compactor', 'gateway', 'ingester'])).toEqual([
    { number: 1, components: ['compactor'] },
    { number: 2, components: ['ingester'] },
    { number: 3, components: ['distributor'] },
    { number: 4, components: ['gateway'] },
  ]);
});

test('one version everywhere: no upgrade', () => {
  const status = statusOf(
    COMPONENTS.map((c) => workload(c, '3.6.2')),
    COMPONENTS.map((c) => pod(c, 0, '3.6.2')),
  );
  expect(status.upgrade).toBeUndefined();
  expect(formatStatus(status, Date.now())).not.toContain('upgrading');
});

test('the ingester wave rolling: the first waves at the new version, one ingester of three updated', () => {
  const workloads = [
    workload('compactor', '3.7.8'),
    workload('index-gateway', '3.7.8'),
    workload('ingester', '3.7.8', 3, 1),
    workload('querier', '3.6.2'),
    workload('distributor', '3.6.2'),
  ];
  const pods = [
    pod('compactor', 0, '3.7.8'),
    pod('index-gateway', 0, '3.7.8'),
    pod('ingester', 0, '3.6.2'),
    pod('ingester', 1, '3.6.2'),
    pod('ingester', 2, '3.7.8'),
    pod('querier', 0, '3.6.2'),
    pod('distributor', 0, '3.6.2'),
  ];
  const status = statusOf(workloads, pods);
  expect(status.upgrade).toEqual({ to: '3.7.8', wave: 3, waves: 5, component: 'ingester', updated: 1, desired: 3 });
  expect(formatStatus(status, Date.now())).toContain('\nupgrading to 3.7.8: wave 3/5, ingester 1/3\n');
});

test('the last wave patched but its old pod still running: still upgrading; a wave not patched yet counts 0', () => {
  const last = statusOf(
    COMPONENTS.map((c) => workload(c, '3.7.8')),
    COMPONENTS.map((c) => pod(c, 0, c === 'distributor' ? '3.6.2' : '3.7.8')),
  );
  expect(last.upgrade).toMatchObject({ wave: 5, component: 'distributor' });
  const between = statusOf(
    COMPONENTS.map((c) => workload(c, c === 'compactor' ? '3.7.8' : '3.6.2')),
    COMPONENTS.map((c) => pod(c, 0, c === 'compactor' ? '3.7.8' : '3.6.2')),
  );
  expect(between.upgrade).toEqual({
    to: '3.7.8',
    wave: 2,
    waves: 5,
    component: 'index-gateway',
    updated: 0,
    desired: 1,
  });
});

test('zone-aware ingesters, a StatefulSet per zone, are one component: counts summed, current only when every zone is', () => {
  const zone = (name: string, ready: number): V1StatefulSet => {
    const base = workload('ingester', '3.7.8', 2);
    return {
      ...base,
      metadata: { ...base.metadata, name: `loki-ingester-zone-${name}` },
      status: { ...base.status!, readyReplicas: ready, availableReplicas: ready },
    };
  };
  const pods = [0, 1, 2, 3, 4, 5].map((index) => pod('ingester', index, '3.7.8'));
  const rolling = statusOf([zone('a', 2), zone('b', 2), zone('c', 1)], pods).components.ingester!;
  expect(rolling).toMatchObject({ kind: 'StatefulSet', desired: 6, ready: 5, updated: 6, current: false });
  const ready = statusOf([zone('a', 2), zone('b', 2), zone('c', 2)], pods).components.ingester!;
  expect(ready).toMatchObject({ desired: 6, ready: 6, updated: 6, current: true });
  expect(Object.keys(statusOf([zone('a', 2), zone('b', 2)], pods).components)).toEqual(['ingester']);
});
