// The scheduler of a one-node cluster: binds each pending pod of the default scheduler to the node once
// its PersistentVolumeClaims are bound, setting spec.nodeName and the PodScheduled condition, with the
// `Scheduled` event. A pod hit by the `unschedulable` failure, or whose nodeSelector the node's labels do
// not satisfy, stays Pending with PodScheduled False (Unschedulable) and a FailedScheduling warning, with
// the scheduler's message. Not imitated: resources, affinity, taints and every other filter; retries
// happen when the pod, its claims or the injected failures change, not on the scheduler's back-off timer.
//
// Binding: a real scheduler POSTs a Binding (pods/binding), and the API server itself sets spec.nodeName
// and PodScheduled=True on the pod, outside field management, so the pod gains no managedFields entry
// (transcript 47 has none). The double's Api serves no binding subresource, so the scheduler makes that
// same change on the store; its other writes (the Unschedulable condition) go through the Api.
import { timestamp, type Change } from '../store.js';
import { workloadOf, writeStatus, type ClusterContext, type Controller } from './context.js';
import type { EventSource } from './events.js';
import { conditionOf, isDeleting, refTo, type Condition, type ObjectRef, type Pod } from './objects.js';

const MANAGER = 'kube-scheduler';

export const UNSCHEDULABLE_MESSAGE =
  '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
export const NODE_SELECTOR_MESSAGE =
  "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";

/** The labels a kind node carries, which nodeSelectors are matched against. */
export const nodeLabels = (name: string): Record<string, string> => ({
  'kubernetes.io/arch': 'amd64',
  'kubernetes.io/hostname': name,
  'kubernetes.io/os': 'linux',
});

export class Scheduler implements Controller {
  readonly name = 'scheduler';
  private readonly source: EventSource;

  constructor(private readonly context: ClusterContext) {
    this.source = {
      manager: MANAGER,
      component: 'default-scheduler',
      reportingInstance: `default-scheduler-${context.node.name}`,
    };
  }

  watch(change: Change): ObjectRef[] {
    if (change.kind === 'Pod' && change.type !== 'DELETED') return [refTo('Pod', change.object)];
    if (change.kind !== 'PersistentVolumeClaim') return [];
    const claim = change.object.metadata.name;
    return (this.context.store.list('Pod', change.object.metadata.namespace) as Pod[])
      .filter((pod) => !pod.spec.nodeName && claimNames(pod).includes(claim))
      .map((pod) => refTo('Pod', pod));
  }

  reconcile(ref: ObjectRef): undefined {
    const { api, store, events, failures, node } = this.context;
    const pod = store.get('Pod', ref.namespace, ref.name) as Pod | undefined;
    if (
      !pod ||
      pod.spec.nodeName ||
      isDeleting(pod) ||
      (pod.spec.schedulerName ?? 'default-scheduler') !== 'default-scheduler'
    )
      return undefined;
    const now = timestamp(new Date());
    const labels = nodeLabels(node.name);
    const selectorMismatch = Object.entries((pod.spec.nodeSelector ?? {}) as Record<string, string>).some(
      ([key, value]) => labels[key] !== value,
    );
    const unschedulable = failures.unschedulable(pod, workloadOf(store, pod))
      ? UNSCHEDULABLE_MESSAGE
      : selectorMismatch
        ? NODE_SELECTOR_MESSAGE
        : undefined;
    if (unschedulable) {
      const current = conditionOf(pod.status?.conditions, 'PodScheduled');
      if (current?.reason === 'Unschedulable' && current.message === unschedulable) return undefined;
      const condition: Condition = {
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: now,
        reason: 'Unschedulable',
        message: unschedulable,
      };
      const updated = writeStatus(
        api,
        'Pod',
        pod,
        { ...pod.status, conditions: withCondition(pod, condition) },
        MANAGER,
      );
      events.record(this.source, updated, {
        type: 'Warning',
        reason: 'FailedScheduling',
        message: unschedulable,
        action: 'Scheduling',
      });
      return undefined;
    }
    const claimsBound = claimNames(pod).every(
      (name) =>
        (store.get('PersistentVolumeClaim', pod.metadata.namespace, name)?.status as { phase?: string } | undefined)
          ?.phase === 'Bound',
    );
    if (!claimsBound) return undefined;
    const conditions = withCondition(pod, {
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: now,
    });
    const scheduled = store.put('Pod', {
      ...pod,
      spec: { ...pod.spec, nodeName: node.name },
      status: { ...pod.status, conditions },
    });
    events.record(this.source, scheduled, {
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node.name}`,
      action: 'Binding',
    });
    return undefined;
  }
}

const claimNames = (pod: Pod) =>
  (pod.spec.volumes ?? []).flatMap((volume) =>
    volume.persistentVolumeClaim ? [volume.persistentVolumeClaim.claimName] : [],
  );

const withCondition = (pod: Pod, condition: Condition) => [
  ...(pod.status?.conditions ?? []).filter((c) => c.type !== condition.type),
  condition,
];
