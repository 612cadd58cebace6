// The disruption controller's PodDisruptionBudget status: how many selected pods are healthy (Ready and
// not being deleted), how many must stay so (from minAvailable or maxUnavailable, percentages scaled by
// the expected pod count, which is the replicas of the pods' Deployments and StatefulSets), how many
// disruptions that allows, and the DisruptionAllowed condition. Not imitated: disruptedPods (no eviction
// API), the SyncFailed condition for pods without a scalable controller (each counts as one pod here).
import { timestamp, type Change, type KubeObject, type Store } from '../store.js';
import { labelSelectorMatches } from '../selectors.js';
import { writeStatus, type ClusterContext, type Controller } from './context.js';
import {
  conditionOf,
  CONTROLLER_MANAGER,
  controllerRefOf,
  isDeleting,
  isPodReady,
  scaledValue,
  type Condition,
  type IntOrPercent,
  type LabelSelector,
  type ObjectRef,
  type Pod,
} from './objects.js';

interface PodDisruptionBudget extends KubeObject {
  spec: { selector?: LabelSelector; minAvailable?: IntOrPercent; maxUnavailable?: IntOrPercent };
  status?: { conditions?: Condition[] };
}

const WORKLOAD_KINDS = new Set(['Pod', 'ReplicaSet', 'Deployment', 'StatefulSet']);

export class DisruptionController implements Controller {
  readonly name = 'disruption';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    const namespace = change.object.metadata.namespace;
    if (change.kind === 'PodDisruptionBudget')
      return change.type === 'DELETED'
        ? []
        : [{ kind: 'PodDisruptionBudget', namespace, name: change.object.metadata.name }];
    if (!WORKLOAD_KINDS.has(change.kind)) return [];
    return this.context.store
      .list('PodDisruptionBudget', namespace)
      .map((pdb) => ({ kind: 'PodDisruptionBudget', namespace, name: pdb.metadata.name }));
  }

  reconcile(ref: ObjectRef): undefined {
    const { api, store } = this.context;
    const pdb = store.get('PodDisruptionBudget', ref.namespace, ref.name) as PodDisruptionBudget | undefined;
    if (!pdb || isDeleting(pdb)) return undefined;
    const pods = (store.list('Pod', ref.namespace) as Pod[]).filter(
      (pod) => pdb.spec.selector && labelSelectorMatches(pdb.spec.selector, pod.metadata.labels),
    );
    writeStatus(
      api,
      'PodDisruptionBudget',
      pdb,
      budgetStatus(pdb, pods, expectedPods(store, pods), new Date()),
      CONTROLLER_MANAGER,
    );
    return undefined;
  }
}

/** The pods the budget's workloads want: the replicas of each distinct controller (through ReplicaSets to Deployments). */
function expectedPods(store: Store, pods: Pod[]): number {
  const scales = new Map<string, number>();
  for (const pod of pods) {
    const owner = controllerRefOf(pod);
    let controller: KubeObject | undefined = owner && store.get(owner.kind, pod.metadata.namespace, owner.name);
    const deployment = owner?.kind === 'ReplicaSet' && controller ? controllerRefOf(controller) : undefined;
    if (deployment?.kind === 'Deployment')
      controller = store.get('Deployment', pod.metadata.namespace, deployment.name);
    const replicas = (controller?.spec as { replicas?: number } | undefined)?.replicas;
    if (controller && replicas !== undefined) scales.set(controller.metadata.uid ?? '', replicas);
    else scales.set(pod.metadata.uid ?? '', 1);
  }
  return [...scales.values()].reduce((total, replicas) => total + replicas, 0);
}

/** The status for the selected pods, `scale` being the pods their controllers want. */
function budgetStatus(pdb: PodDisruptionBudget, pods: Pod[], scale: number, now: Date) {
  const { minAvailable, maxUnavailable } = pdb.spec;
  let expected = scale;
  let desiredHealthy = 0;
  if (maxUnavailable !== undefined) desiredHealthy = Math.max(0, scale - scaledValue(maxUnavailable, scale, true));
  else if (typeof minAvailable === 'number') {
    desiredHealthy = minAvailable;
    expected = pods.length;
  } else if (minAvailable !== undefined) desiredHealthy = scaledValue(minAvailable, scale, true);
  const currentHealthy = pods.filter((pod) => !isDeleting(pod) && isPodReady(pod)).length;
  const disruptionsAllowed = Math.max(0, currentHealthy - desiredHealthy);
  const allowed: Condition['status'] = disruptionsAllowed > 0 ? 'True' : 'False';
  const previous = conditionOf(pdb.status?.conditions, 'DisruptionAllowed');
  return {
    observedGeneration: pdb.metadata.generation,
    disruptionsAllowed,
    currentHealthy,
    desiredHealthy,
    expectedPods: expected,
    conditions: [
      {
        type: 'DisruptionAllowed',
        status: allowed,
        observedGeneration: pdb.metadata.generation,
        lastTransitionTime:
          previous?.status === allowed && previous.lastTransitionTime ? previous.lastTransitionTime : timestamp(now),
        reason: allowed === 'True' ? 'SufficientPods' : 'InsufficientPods',
        message: '',
      },
    ],
  };
}
