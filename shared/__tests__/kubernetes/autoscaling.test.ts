// What autoscaling renders: the autoscaler of each part, and its Deployment without replicas.
import { lokiConfig } from '../../src/kubernetes/render/loki-config.js';
import { renderKubernetes } from '../../src/kubernetes/render/index.js';
import { parseSpec } from '../../src/spec/parse.js';
import type { LokiStackInput } from '../../src/spec/schema.js';

type Json = Record<string, any>;

const objectsOf = (input: LokiStackInput) => renderKubernetes(parseSpec(input)).objects as Json[];
const find = (objects: Json[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);
const keda = { prometheusAddress: 'http://prometheus.monitoring:9090' };

test('HPA mode: autoscaling/v2 on CPU for each part, the Deployment without replicas, a PDB from min 2', () => {
  const objects = objectsOf({
    spec: {
      gateway: { enabled: true, autoscaling: { enabled: true, min: 2, max: 6 } },
      components: { distributor: { replicas: 3, autoscaling: { enabled: true, max: 10, targetCPU: 60 } } },
    },
  });
  expect(find(objects, 'HorizontalPodAutoscaler', 'loki-distributor')).toEqual({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: expect.objectContaining({
      name: 'loki-distributor',
      labels: expect.objectContaining({ 'app.kubernetes.io/component': 'distributor' }),
    }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'loki-distributor' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 1800 } },
    },
  });
  expect(find(objects, 'Deployment', 'loki-distributor')!.spec).not.toHaveProperty('replicas');
  // min 1: a PDB would block every drain of the single pod.
  expect(find(objects, 'PodDisruptionBudget', 'loki-distributor')).toBeUndefined();

  expect(find(objects, 'HorizontalPodAutoscaler', 'loki-gateway')!.spec).toMatchObject({
    scaleTargetRef: { name: 'loki-gateway' },
    minReplicas: 2,
    maxReplicas: 6,
  });
  expect(find(objects, 'Deployment', 'loki-gateway')!.spec).not.toHaveProperty('replicas');
  expect(find(objects, 'PodDisruptionBudget', 'loki-gateway')).toBeDefined();

  // The others keep their replicas and get no autoscaler.
  expect(find(objects, 'Deployment', 'loki-querier')!.spec.replicas).toBe(1);
  expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.metadata.name)).toEqual([
    'loki-distributor',
    'loki-gateway',
  ]);
});

test('off, or the gateway not running: no autoscaler, the replicas stay', () => {
  const objects = objectsOf({ spec: { components: { querier: { replicas: 2, autoscaling: { enabled: false } } } } });
  expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject')).toBe(false);
  expect(find(objects, 'Deployment', 'loki-querier')!.spec.replicas).toBe(2);
});

test("KEDA mode, querier: Loki's inflight-requests query on this stack's series, threshold 75% of its workers", () => {
  const objects = objectsOf({
    metadata: { name: 'logs', namespace: 'team-a' },
    spec: {
      monitoring: { enabled: true },
      components: {
        querier: { maxConcurrent: 6, autoscaling: { enabled: true, min: 2, max: 20, mode: 'keda', keda } },
      },
    },
  });
  expect(find(objects, 'ScaledObject', 'logs-querier')).toEqual({
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: expect.objectContaining({ name: 'logs-querier', namespace: 'team-a' }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'logs-querier' },
      minReplicaCount: 2,
      maxReplicaCount: 20,
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 1800 } } } },
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            serverAddress: 'http://prometheus.monitoring:9090',
            query:
              'sum(max_over_time(loki_query_scheduler_inflight_requests{loki_stack="logs", namespace="team-a", quantile="0.75"}[2m]))',
            // floor(0.75 × 6), as in Loki's guide.
            threshold: '4',
          },
        },
      ],
    },
  });
  expect(find(objects, 'Deployment', 'logs-querier')!.spec).not.toHaveProperty('replicas');
  expect(find(objects, 'PodDisruptionBudget', 'logs-querier')).toBeDefined();
  expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
});

test('KEDA threshold: set explicitly, or at least 1 for a single worker', () => {
  const threshold = (querier: Json) =>
    find(
      objectsOf({ spec: { monitoring: { enabled: true }, components: { querier } } }),
      'ScaledObject',
      'loki-querier',
    )!.spec.triggers[0].metadata.threshold;
  const autoscaling = { enabled: true, mode: 'keda' };
  expect(threshold({ maxConcurrent: 1, autoscaling: { ...autoscaling, keda } })).toBe('1');
  expect(threshold({ autoscaling: { ...autoscaling, keda } })).toBe('3');
  expect(threshold({ autoscaling: { ...autoscaling, keda: { ...keda, threshold: 2.5 } } })).toBe('2.5');
});

test("KEDA mode elsewhere: KEDA's cpu trigger at the target", () => {
  const objects = objectsOf({
    spec: { components: { queryFrontend: { autoscaling: { enabled: true, mode: 'keda', targetCPU: 80 } } } },
  });
  expect(find(objects, 'ScaledObject', 'loki-query-frontend')!.spec.triggers).toEqual([
    { type: 'cpu', metricType: 'Utilization', metadata: { value: '80' } },
  ]);
});

test("querier.maxConcurrent reaches Loki's querier.max_concurrent; Loki's default of 4 is left unwritten", () => {
  const config = (maxConcurrent?: number) =>
    lokiConfig(parseSpec({ spec: { components: { querier: { maxConcurrent } } } })) as Json;
  expect(config().querier).toBeUndefined();
  expect(config(8).querier).toEqual({ max_concurrent: 8 });
});
