// Autoscaling of the stateless path (distributor, querier, query-frontend, gateway): a HorizontalPodAutoscaler
// on CPU, or a KEDA ScaledObject. Queriers under KEDA follow the query-scheduler's inflight requests, the
// metric Loki's "Autoscaling Loki queriers" guide scales them on; KEDA scales the others on CPU, as Loki
// documents no load metric for them. The autoscaled Deployments leave `spec.replicas` to the autoscaler.
import type { KubernetesObject, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName } from '../../spec/components.js';
import type { Autoscaling, LokiStack } from '../../spec/schema.js';
import { GATEWAY, metadata, objectName } from './common.js';
import { stackMetricSelector } from './monitoring.js';

type AutoscaledPart = Extract<ComponentName, 'distributor' | 'querier' | 'queryFrontend'> | typeof GATEWAY;
const AUTOSCALED_PARTS: readonly AutoscaledPart[] = ['distributor', 'querier', 'queryFrontend', GATEWAY];

const KEDA_API_VERSION = 'keda.sh/v1alpha1';

/**
 * Scale down only after load has stayed low this long: Loki's guide uses 30 minutes for queriers, as a
 * query burst often comes back (dashboards refreshing) and new pods cost a start-up each time.
 */
const SCALE_DOWN_STABILIZATION_SECONDS = 1800;

/** Loki's guide: a quantile of 0.75 over 2 minutes follows load without reacting to every spike. */
const INFLIGHT_QUANTILE = '0.75';
const INFLIGHT_RANGE = '2m';
/** Loki's guide: scale up once 75% of the querier workers are busy, keeping headroom while new pods start. */
const BUSY_WORKER_SHARE = 0.75;

/** The part's autoscaling settings when they are on (never for the components the spec refuses it). */
export function autoscalingOf(stack: LokiStack, part: ComponentName | typeof GATEWAY): Autoscaling | undefined {
  const settings = part === GATEWAY ? stack.spec.gateway.autoscaling : stack.spec.components[part].autoscaling;
  return settings?.enabled && (part !== GATEWAY || stack.spec.gateway.enabled) ? settings : undefined;
}

/** Whether `part` has an autoscaler: its Deployment then omits `spec.replicas`. */
export const isAutoscaled = (stack: LokiStack, part: ComponentName | typeof GATEWAY) =>
  autoscalingOf(stack, part) !== undefined;

/** The HorizontalPodAutoscalers and ScaledObjects of the stack. */
export function autoscalers(stack: LokiStack): KubernetesObject[] {
  return AUTOSCALED_PARTS.flatMap((part) => {
    const settings = autoscalingOf(stack, part);
    if (!settings) return [];
    return [
      settings.mode === 'keda' ? scaledObject(stack, part, settings) : horizontalPodAutoscaler(stack, part, settings),
    ];
  });
}

const componentLabel = (part: AutoscaledPart) => (part === GATEWAY ? GATEWAY : COMPONENTS[part].target);

/** Scale down only after the stabilization window, in the HPA's terms (KEDA passes it on to the HPA it makes). */
const SCALE_DOWN_BEHAVIOR = { scaleDown: { stabilizationWindowSeconds: SCALE_DOWN_STABILIZATION_SECONDS } };

/** The metadata of `part`'s autoscaler, and the Deployment it scales (both named as the part). */
function autoscaled(stack: LokiStack, part: AutoscaledPart) {
  const name = objectName(stack, part);
  return {
    metadata: metadata(stack, name, componentLabel(part)),
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
  };
}

function horizontalPodAutoscaler(
  stack: LokiStack,
  part: AutoscaledPart,
  settings: Autoscaling,
): V2HorizontalPodAutoscaler {
  const { metadata, scaleTargetRef } = autoscaled(stack, part);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: {
      scaleTargetRef,
      minReplicas: settings.min,
      maxReplicas: settings.max,
      metrics: [cpuMetric(settings)],
      behavior: SCALE_DOWN_BEHAVIOR,
    },
  };
}

const cpuMetric = (settings: Autoscaling) => ({
  type: 'Resource',
  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: settings.targetCPU } },
});

function scaledObject(stack: LokiStack, part: AutoscaledPart, settings: Autoscaling): KubernetesObject {
  const { metadata, scaleTargetRef } = autoscaled(stack, part);
  return {
    apiVersion: KEDA_API_VERSION,
    kind: 'ScaledObject',
    metadata,
    spec: {
      scaleTargetRef,
      minReplicaCount: settings.min,
      maxReplicaCount: settings.max,
      advanced: { horizontalPodAutoscalerConfig: { behavior: SCALE_DOWN_BEHAVIOR } },
      triggers: [part === 'querier' ? inflightTrigger(stack, settings) : cpuTrigger(settings)],
    },
  } as KubernetesObject;
}

/** KEDA's cpu scaler: the same utilization target as the HPA's. */
const cpuTrigger = (settings: Autoscaling) => ({
  type: 'cpu',
  metricType: 'Utilization',
  metadata: { value: String(settings.targetCPU) },
});

/** The query Loki's guide scales queriers on, restricted to this stack by the labels our scrape config adds. */
function inflightQuery(stack: LokiStack): string {
  return `sum(max_over_time(loki_query_scheduler_inflight_requests{${stackMetricSelector(stack)}, quantile="${INFLIGHT_QUANTILE}"}[${INFLIGHT_RANGE}]))`;
}

/**
 * Inflight requests per querier before KEDA adds one, unless set: Loki's guide takes `floor(0.75 × workers)`,
 * at least 1 so that a single worker still scales.
 */
const inflightThreshold = (stack: LokiStack, settings: Autoscaling) =>
  settings.keda?.threshold ?? Math.max(1, Math.floor(stack.spec.components.querier.maxConcurrent * BUSY_WORKER_SHARE));

function inflightTrigger(stack: LokiStack, settings: Autoscaling) {
  return {
    type: 'prometheus',
    metadata: {
      serverAddress: settings.keda!.prometheusAddress,
      query: inflightQuery(stack),
      threshold: String(inflightThreshold(stack, settings)),
    },
  };
}
