// The ReplicaSet controller: keeps `spec.replicas` pods made from the template (`generateName: <rs>-`,
// controller ownerReference), deleting the least valuable ones first when scaling down, and reports
// replicas, fullyLabeledReplicas, readyReplicas, availableReplicas and observedGeneration. Not imitated:
// adopting or releasing pods by label, slow-start batches, expectations, the ReplicaFailure condition.
import type { Change } from '../store.js';
import {
  controlledBy,
  deleteObject,
  ownerOfKind,
  writeStatus,
  type ClusterContext,
  type Controller,
} from './context.js';
import {
  availability,
  CONTROLLER_MANAGER,
  isActivePod,
  isDeleting,
  isPodReady,
  omitZero,
  podFromTemplate,
  refTo,
  type ObjectRef,
  type Pod,
  type ReplicaSet,
} from './objects.js';

const SOURCE = { manager: CONTROLLER_MANAGER, component: 'replicaset-controller' };

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    if (change.kind === 'ReplicaSet') return [refTo('ReplicaSet', change.object)];
    return change.kind === 'Pod' ? ownerOfKind(change, 'ReplicaSet') : [];
  }

  reconcile(ref: ObjectRef): number | undefined {
    const { api, store, events } = this.context;
    const replicaSet = store.get('ReplicaSet', ref.namespace, ref.name) as ReplicaSet | undefined;
    if (!replicaSet) return undefined;
    const active = () => controlledBy<Pod>(store, 'Pod', replicaSet).filter(isActivePod);
    if (!isDeleting(replicaSet)) {
      const pods = active();
      const wanted = replicaSet.spec.replicas ?? 1;
      for (let i = pods.length; i < wanted; i++) {
        const pod = api.create('Pod', ref.namespace, podFromTemplate(replicaSet.spec.template, replicaSet), {
          manager: CONTROLLER_MANAGER,
        }).object;
        events.record(SOURCE, replicaSet, {
          type: 'Normal',
          reason: 'SuccessfulCreate',
          message: `Created pod: ${pod.metadata.name}`,
        });
      }
      for (const pod of [...pods].sort(deletionOrder).slice(0, Math.max(0, pods.length - wanted))) {
        deleteObject(api, 'Pod', pod);
        events.record(SOURCE, replicaSet, {
          type: 'Normal',
          reason: 'SuccessfulDelete',
          message: `Deleted pod: ${pod.metadata.name}`,
        });
      }
    }
    const { status, recheckInMs } = replicaSetStatus(replicaSet, active(), Date.now());
    writeStatus(api, 'ReplicaSet', replicaSet, status, CONTROLLER_MANAGER);
    return recheckInMs;
  }
}

/** The status a ReplicaSet reports for its active pods, and when availability will next change. */
function replicaSetStatus(
  replicaSet: ReplicaSet,
  pods: Pod[],
  now: number,
): { status: Record<string, unknown>; recheckInMs?: number } {
  const templateLabels = replicaSet.spec.template.metadata?.labels ?? {};
  const minReadySeconds = replicaSet.spec.minReadySeconds ?? 0;
  const availabilities = pods.map((pod) => availability(pod, minReadySeconds, now));
  const waits = availabilities.flatMap((a) => (a.inMs === undefined ? [] : [a.inMs]));
  const status = {
    replicas: pods.length,
    ...omitZero({
      fullyLabeledReplicas: pods.filter((pod) =>
        Object.entries(templateLabels).every(([key, value]) => pod.metadata.labels?.[key] === value),
      ).length,
      readyReplicas: pods.filter(isPodReady).length,
      availableReplicas: availabilities.filter((a) => a.available).length,
      observedGeneration: replicaSet.metadata.generation,
    }),
  };
  return { status, ...(waits.length > 0 ? { recheckInMs: Math.min(...waits) } : {}) };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** controller.ActivePods ordering: the pods to delete first come first. */
export function deletionOrder(a: Pod, b: Pod): number {
  const scheduled = (pod: Pod) => (pod.spec.nodeName ? 1 : 0);
  const phase = (pod: Pod) => PHASE_RANK[pod.status?.phase ?? 'Pending'] ?? 0;
  const ready = (pod: Pod) => (isPodReady(pod) ? 1 : 0);
  const restarts = (pod: Pod) =>
    Math.max(0, ...(pod.status?.containerStatuses ?? []).map((status) => status.restartCount));
  const created = (pod: Pod) => Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
  return (
    scheduled(a) - scheduled(b) ||
    phase(a) - phase(b) ||
    ready(a) - ready(b) ||
    restarts(b) - restarts(a) ||
    created(b) - created(a)
  );
}
