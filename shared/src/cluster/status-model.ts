// The status of a stack, from its workloads and pods: a condition (Ready | Pending | Degraded | Failed)
// with a machine-readable reason, and per component the desired and ready replicas, pods by state and
// the reasons of those that are not ready. Pure, so that `status` (one read) and `wait` (a watch) agree.
// The JSON shape is a contract (StackStatus, loki-microservices/v1alpha1): the status card and the Action
// read it. Browser-safe: types only from client-node.
import type { V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { LokiStack } from '../spec/schema.js';

export const STATUS_API_VERSION = 'loki-microservices/v1alpha1';

export type ConditionType = 'Ready' | 'Pending' | 'Degraded' | 'Failed';
export type PodState = 'Ready' | 'Running' | 'Pending' | 'Failed' | 'Unknown';

/** A pod that is not ready, and why. */
export interface PodProblem {
  name: string;
  state: PodState;
  /** Kubernetes' own word: CrashLoopBackOff, ImagePullBackOff, OOMKilled, Unschedulable, ContainerCreating… */
  reason?: string;
  message?: string;
  /** The container the reason is about. */
  container?: string;
  restarts: number;
  /** Will not get better by waiting (a crash loop, an image that cannot be pulled, no node for it). */
  failing: boolean;
}

export interface ComponentStatus {
  /** The workload: a Kubernetes Deployment or StatefulSet, or a Nomad task group (its allocations are the pods). */
  kind: 'Deployment' | 'StatefulSet' | 'TaskGroup';
  desired: number;
  ready: number;
  /** Pods running the current template. */
  updated: number;
  /** The controller has seen the latest spec and every pod runs it. */
  current: boolean;
  pods: Record<PodState, number>;
  notReady: PodProblem[];
}

export interface StackStatus {
  apiVersion: typeof STATUS_API_VERSION;
  kind: 'StackStatus';
  name: string;
  namespace: string;
  condition: { type: ConditionType; reason: string; message: string };
  /** By component: distributor, ingester, querier, query-frontend, query-scheduler, index-gateway, compactor, ruler, object-store, gateway. */
  components: Record<string, ComponentStatus>;
  /** In-cluster URLs: push is Loki's push API, query the query API root (a Grafana data source URL). */
  endpoints: StackEndpoints;
  /** The Loki version the workloads run (their app.kubernetes.io/version label). */
  version: string | null;
  /** When the oldest workload of the stack was created. */
  createdAt: string | null;
}

/** Where clients push and query: the gateway when the stack has one, else the distributor and query-frontend. */
export interface StackEndpoints {
  push: string;
  query: string;
  /** The gateway asks for HTTP basic auth (a tenant's user and password). */
  basicAuth: boolean;
}

export interface StackObjects {
  name: string;
  namespace: string;
  /** With `kind` set (list items do not carry it). */
  workloads: (V1Deployment | V1StatefulSet)[];
  pods: V1Pod[];
}

const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** The gateway's component label (render/kubernetes/common.ts GATEWAY; this file stays free of runtime imports). */
const GATEWAY_COMPONENT = 'gateway';
/** render/kubernetes/common.ts CLUSTER_DOMAIN_ANNOTATION, on every workload. */
const CLUSTER_DOMAIN_ANNOTATION = 'loki-microservices/cluster-domain';
const FAILING_REASONS = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export function stackStatusOf(objects: StackObjects): StackStatus {
  const components: Record<string, ComponentStatus> = {};
  for (const workload of [...objects.workloads].sort((a, b) => componentOf(a).localeCompare(componentOf(b)))) {
    const component = componentOf(workload);
    const pods = objects.pods.filter((pod) => pod.metadata?.labels?.[COMPONENT_LABEL] === component && !pod.metadata?.deletionTimestamp);
    components[component] = componentStatus(workload, pods);
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
      clusterDomain: objects.workloads.map((w) => w.metadata?.annotations?.[CLUSTER_DOMAIN_ANNOTATION]).find(Boolean) ?? 'cluster.local',
      gateway: objects.workloads.some((workload) => componentOf(workload) === GATEWAY_COMPONENT),
    }),
    version: objects.workloads.find((w) => w.metadata?.labels?.['app.kubernetes.io/name'] === 'loki')?.metadata?.labels?.['app.kubernetes.io/version'] ?? null,
    createdAt: created.length > 0 ? new Date(Math.min(...created.map((t) => new Date(t).getTime()))).toISOString() : null,
  };
}

/** The stack's in-cluster URLs: through its gateway (port 80), or the distributor and the query-frontend. */
export function endpointsOf(stack: { name: string; namespace: string; clusterDomain: string; gateway: boolean }): StackEndpoints {
  const host = (component: string) => `${stack.name}-${component}.${stack.namespace}.svc.${stack.clusterDomain}`;
  if (stack.gateway) return { push: `http://${host(GATEWAY_COMPONENT)}/loki/api/v1/push`, query: `http://${host(GATEWAY_COMPONENT)}`, basicAuth: true };
  return { push: `http://${host('distributor')}:3100/loki/api/v1/push`, query: `http://${host('query-frontend')}:3100`, basicAuth: false };
}

/** The URLs of a stack as its spec renders it. */
export function stackEndpoints(stack: LokiStack): StackEndpoints {
  return endpointsOf({ name: stack.metadata.name, namespace: stack.metadata.namespace, clusterDomain: stack.spec.clusterDomain, gateway: stack.spec.gateway.enabled });
}

const componentOf = (workload: V1Deployment | V1StatefulSet) => workload.metadata?.labels?.[COMPONENT_LABEL] ?? workload.metadata?.name ?? '';

function componentStatus(workload: V1Deployment | V1StatefulSet, pods: V1Pod[]): ComponentStatus {
  const kind = workload.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment';
  const desired = workload.spec?.replicas ?? 1;
  const status = workload.status ?? {};
  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const available = 'availableReplicas' in status ? (status.availableReplicas ?? 0) : ready;
  const observed = (status.observedGeneration ?? 0) >= (workload.metadata?.generation ?? 0);
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
    desired,
    ready,
    updated,
    current: observed && updated === desired && ready === desired && available === desired && (status.replicas ?? 0) === desired,
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
  const state: PodState = phase === 'Failed' ? 'Failed' : phase === 'Running' ? 'Running' : phase === 'Pending' ? 'Pending' : 'Unknown';
  const unscheduled = conditions.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return { name, state, reason: unscheduled.reason ?? 'Unschedulable', message: unscheduled.message, restarts, failing: unscheduled.reason === 'Unschedulable' };
  for (const container of containers) {
    const waiting = container.state?.waiting;
    const oom = container.lastState?.terminated?.reason === 'OOMKilled' || container.state?.terminated?.reason === 'OOMKilled';
    // A container that keeps failing makes its pod Failed for us, whatever its phase says (Running, Pending).
    if (oom) return { name, state: 'Failed', reason: 'OOMKilled', message: container.state?.waiting?.message ?? 'the container ran out of memory (raise its memory limit)', container: container.name, restarts, failing: true };
    if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      const failing = FAILING_REASONS.has(waiting.reason);
      return { name, state: failing ? 'Failed' : state, reason: waiting.reason, message: waiting.message, container: container.name, restarts, failing };
    }
    const terminated = container.state?.terminated;
    if (terminated && terminated.reason !== 'Completed') return { name, state: 'Failed', reason: terminated.reason ?? 'Error', message: terminated.message, container: container.name, restarts, failing: true };
  }
  const why = conditions.find((c) => c.type === 'Ready' && c.status !== 'True');
  return { name, state: phase === 'Failed' ? 'Failed' : state, reason: why?.reason ?? phase ?? 'Unknown', message: why?.message, restarts, failing: phase === 'Failed' };
}

export function conditionOf(components: Record<string, ComponentStatus>): StackStatus['condition'] {
  const entries = Object.entries(components);
  const summary = (list: [string, ComponentStatus][]) =>
    list
      .map(([name, c]) => {
        const reasons = [...new Set(c.notReady.map((p) => p.reason).filter(Boolean))];
        return `${name} ${c.ready}/${c.desired} ready${reasons.length ? ` (${reasons.join(', ')})` : ''}`;
      })
      .join('; ');
  const failing = entries.filter(([, c]) => c.notReady.some((p) => p.failing));
  const down = failing.filter(([, c]) => c.ready === 0);
  if (down.length > 0) return { type: 'Failed', reason: 'ComponentsFailing', message: summary(failing) };
  if (failing.length > 0) return { type: 'Degraded', reason: 'ComponentsDegraded', message: summary(failing) };
  const waiting = entries.filter(([, c]) => !c.current);
  if (waiting.length > 0) return { type: 'Pending', reason: 'ComponentsNotReady', message: summary(waiting) };
  return { type: 'Ready', reason: 'AllComponentsReady', message: `${entries.length} components ready` };
}
