// A Kubernetes stack's status from its workloads and pods. Pure, so that `status` (one read) and `wait` (a
// watch) agree.
import type { V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { LokiStack } from '../../spec/schema.js';
import { CLUSTER_DOMAIN_ANNOTATION, GATEWAY, SCHEMA_ANNOTATION } from '../render/common.js';
import { EXTERNAL_URL_ANNOTATION, externalBaseUrl } from '../render/components/gateway-expose.js';
import { periodsOfAnnotation, schemaStatusOf } from '../../stack/schema-periods.js';
import { upgradeInWaves } from '../../stack/waves.js';
import {
  conditionOf,
  STATUS_API_VERSION,
  type ComponentStatus,
  type PodProblem,
  type PodState,
  type StackEndpoints,
  type StackStatus,
  type StackUpgrade,
} from '../../stack/status-model.js';

export interface StackObjects {
  name: string;
  namespace: string;
  /** With `kind` set (list items do not carry it). */
  workloads: (V1Deployment | V1StatefulSet)[];
  pods: V1Pod[];
  /** The time the schema period in effect is judged at. @default the current time */
  now?: Date;
}

const COMPONENT_LABEL = 'app.kubernetes.io/component';
const FAILING_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export function stackStatusOf(objects: StackObjects): StackStatus {
  const components: Record<string, ComponentStatus> = {};
  // A zone-aware ingester is a StatefulSet per zone: one component `ingester` over all of them.
  const names = [...new Set(objects.workloads.map(componentOf))].sort((a, b) => a.localeCompare(b));
  for (const component of names) {
    const pods = objects.pods.filter(
      (pod) => pod.metadata?.labels?.[COMPONENT_LABEL] === component && !pod.metadata?.deletionTimestamp,
    );
    const workloads = objects.workloads.filter((workload) => componentOf(workload) === component);
    components[component] = componentStatus(workloads, pods);
  }
  const created = objects.workloads.map((w) => w.metadata?.creationTimestamp).filter((t): t is Date => !!t);
  return {
    apiVersion: STATUS_API_VERSION,
    kind: 'StackStatus',
    name: objects.name,
    namespace: objects.namespace,
    condition: conditionOf(components),
    components,
    endpoints: endpointsOf({
      ...objects,
      clusterDomain:
        objects.workloads.map((w) => w.metadata?.annotations?.[CLUSTER_DOMAIN_ANNOTATION]).find(Boolean) ??
        'cluster.local',
      gateway: objects.workloads.some((workload) => componentOf(workload) === GATEWAY),
      externalUrl: externalUrlOf(objects.workloads),
    }),
    version:
      objects.workloads.find((w) => w.metadata?.labels?.['app.kubernetes.io/name'] === 'loki')?.metadata?.labels?.[
        'app.kubernetes.io/version'
      ] ?? null,
    createdAt:
      created.length > 0 ? new Date(Math.min(...created.map((t) => new Date(t).getTime()))).toISOString() : null,
    ...schemaStatusOf(
      periodsOfAnnotation(objects.workloads.map((w) => w.metadata?.annotations?.[SCHEMA_ANNOTATION]).find(Boolean)),
      objects.now,
    ),
    ...upgradeOf(objects, components),
  };
}

const VERSION_LABEL = 'app.kubernetes.io/version';
const isLoki = (object: { metadata?: { labels?: Record<string, string> } }) =>
  object.metadata?.labels?.['app.kubernetes.io/name'] === 'loki';
/** The tag of a pod's Loki container image: the version it runs. */
const podVersion = (pod: V1Pod) =>
  pod.spec?.containers
    .find((container) => container.name === 'loki')
    ?.image?.split(':')
    .pop();

/**
 * A rollout to another version under way, read off the workloads and pods alone: waves go servers first, so the
 * first wave's version is the one rolled to, and the wave rolling is the first whose workload does not run it yet,
 * or whose pods do not all run it.
 */
function upgradeOf(objects: StackObjects, components: Record<string, ComponentStatus>): { upgrade?: StackUpgrade } {
  const loki = objects.workloads.filter(isLoki);
  const pods = objects.pods.filter((pod) => isLoki(pod) && !pod.metadata?.deletionTimestamp);
  const versions = new Set([
    ...loki.map((workload) => workload.metadata?.labels?.[VERSION_LABEL]),
    ...pods.map(podVersion),
  ]);
  if (versions.size < 2) return {};
  const upgrade = upgradeInWaves(
    objects.workloads.map(componentOf),
    loki.map((workload) => {
      const component = componentOf(workload);
      const status = components[component];
      const version = workload.metadata?.labels?.[VERSION_LABEL];
      const podsAt = pods
        .filter((pod) => pod.metadata?.labels?.[COMPONENT_LABEL] === component)
        .every((pod) => podVersion(pod) === version);
      return {
        component,
        version,
        settled: !!status?.current && podsAt,
        updated: status?.updated ?? 0,
        desired: status?.desired ?? 0,
      };
    }),
  );
  return upgrade ? { upgrade } : {};
}

/** The stack's in-cluster URLs: through its gateway (port 80), or the distributor and the query-frontend. */
export function endpointsOf(stack: {
  name: string;
  namespace: string;
  clusterDomain: string;
  gateway: boolean;
  /** The exposed gateway's base URL (`https://loki.example.com`). */
  externalUrl?: string;
}): StackEndpoints {
  const host = (component: string) => `${stack.name}-${component}.${stack.namespace}.svc.${stack.clusterDomain}`;
  if (stack.gateway)
    return {
      push: `http://${host(GATEWAY)}/loki/api/v1/push`,
      query: `http://${host(GATEWAY)}`,
      basicAuth: true,
      ...(stack.externalUrl
        ? { external: { push: `${stack.externalUrl}/loki/api/v1/push`, query: stack.externalUrl } }
        : {}),
    };
  return {
    push: `http://${host('distributor')}:3100/loki/api/v1/push`,
    query: `http://${host('query-frontend')}:3100`,
    basicAuth: false,
  };
}

/** The gateway Deployment's external URL annotation, if it holds a plain http(s) origin (it is printed as a link). */
function externalUrlOf(workloads: (V1Deployment | V1StatefulSet)[]): string | undefined {
  const gateway = workloads.find((workload) => componentOf(workload) === GATEWAY);
  const url = gateway?.metadata?.annotations?.[EXTERNAL_URL_ANNOTATION];
  return url && /^https?:\/\/[a-z0-9.-]{1,253}$/.test(url) ? url : undefined;
}

/** The URLs of a stack as its spec renders it. */
export function stackEndpoints(stack: LokiStack): StackEndpoints {
  return endpointsOf({
    name: stack.metadata.name,
    namespace: stack.metadata.namespace,
    clusterDomain: stack.spec.clusterDomain,
    gateway: stack.spec.gateway.enabled,
    externalUrl: externalBaseUrl(stack),
  });
}

const componentOf = (workload: V1Deployment | V1StatefulSet) =>
  workload.metadata?.labels?.[COMPONENT_LABEL] ?? workload.metadata?.name ?? '';

/** The pods a workload wants, has ready, updated and available, and whether it runs its latest spec. */
function workloadCounts(workload: V1Deployment | V1StatefulSet) {
  const desired = workload.spec?.replicas ?? 1;
  const status = workload.status ?? {};
  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const available = 'availableReplicas' in status ? (status.availableReplicas ?? 0) : ready;
  const observed = (status.observedGeneration ?? 0) >= (workload.metadata?.generation ?? 0);
  const current =
    observed && updated === desired && ready === desired && available === desired && (status.replicas ?? 0) === desired;
  return { desired, ready, updated, current };
}

function componentStatus(workloads: (V1Deployment | V1StatefulSet)[], pods: V1Pod[]): ComponentStatus {
  const kind = workloads[0]?.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment';
  const counts = workloads.map(workloadCounts);
  const sum = (key: 'desired' | 'ready' | 'updated') => counts.reduce((total, count) => total + count[key], 0);
  const byState: Record<PodState, number> = { Ready: 0, Running: 0, Pending: 0, Failed: 0, Unknown: 0 };
  const notReady: PodProblem[] = [];
  for (const pod of pods) {
    const problem = podProblem(pod);
    byState[problem?.state ?? 'Ready']++;
    if (problem) notReady.push(problem);
  }
  notReady.sort((a, b) => a.name.localeCompare(b.name));
  return {
    kind,
    desired: sum('desired'),
    ready: sum('ready'),
    updated: sum('updated'),
    current: counts.every((count) => count.current),
    pods: byState,
    notReady,
  };
}

/** Why a pod is not ready, or undefined when it is. */
export function podProblem(pod: V1Pod): PodProblem | undefined {
  const conditions = pod.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
  const name = pod.metadata?.name ?? '';
  const containers = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const restarts = containers.reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
  const phase = pod.status?.phase;
  const state: PodState =
    phase === 'Failed' ? 'Failed' : phase === 'Running' ? 'Running' : phase === 'Pending' ? 'Pending' : 'Unknown';
  const unscheduled = conditions.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled)
    return {
      name,
      state,
      reason: unscheduled.reason ?? 'Unschedulable',
      message: unscheduled.message,
      restarts,
      failing: unscheduled.reason === 'Unschedulable',
    };
  for (const container of containers) {
    const waiting = container.state?.waiting;
    const oom =
      container.lastState?.terminated?.reason === 'OOMKilled' || container.state?.terminated?.reason === 'OOMKilled';
    // A container that keeps failing makes its pod Failed for us, whatever its phase says (Running, Pending).
    if (oom)
      return {
        name,
        state: 'Failed',
        reason: 'OOMKilled',
        message: container.state?.waiting?.message ?? 'the container ran out of memory (raise its memory limit)',
        container: container.name,
        restarts,
        failing: true,
      };
    if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      const failing = FAILING_REASONS.has(waiting.reason);
      return {
        name,
        state: failing ? 'Failed' : state,
        reason: waiting.reason,
        message: waiting.message,
        container: container.name,
        restarts,
        failing,
      };
    }
    const terminated = container.state?.terminated;
    if (terminated && terminated.reason !== 'Completed')
      return {
        name,
        state: 'Failed',
        reason: terminated.reason ?? 'Error',
        message: terminated.message,
        container: container.name,
        restarts,
        failing: true,
      };
  }
  const why = conditions.find((c) => c.type === 'Ready' && c.status !== 'True');
  return {
    name,
    state: phase === 'Failed' ? 'Failed' : state,
    reason: why?.reason ?? phase ?? 'Unknown',
    message: why?.message,
    restarts,
    failing: phase === 'Failed',
  };
}
