// The Deployment controller, after pkg/controller/deployment: one ReplicaSet per pod template
// (`<deployment>-<pod-template-hash>`), rolling updates within maxSurge/maxUnavailable or Recreate, old
// ReplicaSets scaled to 0 and pruned to revisionHistoryLimit, and the status with its Available and
// Progressing conditions (including ProgressDeadlineExceeded). Not imitated: proportional scaling of
// several active ReplicaSets (a scale during a rollout is left to the rollout), pausing, rollback
// annotations, hash collisions (collisionCount stays unset).
import type { Api } from '../api.js';
import { timestamp, type Change } from '../store.js';
import {
  controlledBy,
  deleteObject,
  ownerOfKind,
  writeObject,
  writeStatus,
  type ClusterContext,
  type Controller,
} from './context.js';
import { contentHash, sameJson } from './hash.js';
import {
  conditionOf,
  CONTROLLER_MANAGER,
  controllerRef,
  controllerRefOf,
  isDeleting,
  omitZero,
  refTo,
  scaledValue,
  setCondition,
  type Condition,
  type Deployment,
  type DeploymentStatus,
  type ObjectRef,
  type PodTemplate,
  type ReplicaSet,
} from './objects.js';

const SOURCE = { manager: CONTROLLER_MANAGER, component: 'deployment-controller' };
const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** Deployment annotations a ReplicaSet does not inherit. */
const NOT_COPIED = new Set([
  REVISION,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deployment.kubernetes.io/revision-history',
  'kubectl.kubernetes.io/last-applied-configuration',
  'deprecated.deployment.rollback.to',
]);

export class DeploymentController implements Controller {
  readonly name = 'deployment';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    if (change.kind === 'Deployment') return [refTo('Deployment', change.object)];
    if (change.kind === 'ReplicaSet') return ownerOfKind(change, 'Deployment');
    // A Recreate rollout waits for the old pods to be gone, which changes no ReplicaSet.
    if (change.kind !== 'Pod' || change.type !== 'DELETED') return [];
    const rs = ownerOfKind(change, 'ReplicaSet')[0];
    const owner = rs && this.context.store.get('ReplicaSet', rs.namespace, rs.name);
    const deployment = owner && controllerRefOf(owner);
    return owner && deployment?.kind === 'Deployment'
      ? [{ kind: 'Deployment', namespace: owner.metadata.namespace, name: deployment.name }]
      : [];
  }

  reconcile(ref: ObjectRef): number | undefined {
    const deployment = this.context.store.get('Deployment', ref.namespace, ref.name) as Deployment | undefined;
    if (!deployment || isDeleting(deployment)) return undefined;
    const replicaSets = controlledBy<ReplicaSet>(this.context.store, 'ReplicaSet', deployment);
    // With several active ReplicaSets Kubernetes scales them proportionally; here the rollout absorbs the change.
    const activeCount = replicaSets.filter((rs) => replicas(rs) > 0).length;
    if (activeCount <= 1 && isScalingEvent(deployment, replicaSets)) return this.scale(deployment, replicaSets);
    return deployment.spec.strategy?.type === 'Recreate'
      ? this.recreate(deployment, replicaSets)
      : this.rollingUpdate(deployment, replicaSets);
  }

  /** A replicas change outside a rollout: resize the one active ReplicaSet, then report. */
  private scale(initial: Deployment, replicaSets: ReplicaSet[]): number | undefined {
    const sync = this.syncRevision(initial, replicaSets, false);
    const target = sync.all().find((rs) => replicas(rs) > 0) ?? sync.newReplicaSet ?? oldestFirst(sync.old).at(-1);
    if (target) sync.replace(this.scaleReplicaSet(target, desired(sync.deployment), sync.deployment));
    if (isComplete(sync.deployment, sync.deployment.status ?? {})) this.cleanup(sync.deployment, sync.old);
    const status = deploymentStatus(sync.deployment, sync.all(), sync.newReplicaSet, new Date());
    writeStatus(this.context.api, 'Deployment', sync.deployment, status, CONTROLLER_MANAGER);
    return undefined;
  }

  private rollingUpdate(initial: Deployment, replicaSets: ReplicaSet[]): number | undefined {
    const sync = this.syncRevision(initial, replicaSets, true);
    const deployment = sync.deployment;
    const newReplicaSet = sync.newReplicaSet!;
    if (!this.reconcileNewReplicaSet(sync, newReplicaSet) && !this.reconcileOldReplicaSets(sync)) {
      if (isComplete(deployment, deployment.status ?? {})) this.cleanup(deployment, sync.old);
    }
    return this.syncRolloutStatus(sync.deployment, sync.all(), sync.newReplicaSet);
  }

  private recreate(initial: Deployment, replicaSets: ReplicaSet[]): number | undefined {
    let sync = this.syncRevision(initial, replicaSets, false);
    const activeOld = sync.old.filter((rs) => replicas(rs) > 0);
    for (const rs of activeOld) sync.replace(this.scaleReplicaSet(rs, 0, sync.deployment));
    const oldPods = sync.old.some((rs) =>
      this.context.store
        .list('Pod', rs.metadata.namespace)
        .some((pod) => pod.metadata.ownerReferences?.some((owner) => owner.uid === rs.metadata.uid)),
    );
    if (activeOld.length === 0 && !oldPods) {
      if (!sync.newReplicaSet) sync = this.syncRevision(sync.deployment, sync.all(), true);
      if (isComplete(sync.deployment, sync.deployment.status ?? {})) this.cleanup(sync.deployment, sync.old);
      sync.replace(this.scaleReplicaSet(sync.newReplicaSet!, desired(sync.deployment), sync.deployment));
    }
    return this.syncRolloutStatus(sync.deployment, sync.all(), sync.newReplicaSet);
  }

  /**
   * getAllReplicaSetsAndSyncRevision: find (or create) the ReplicaSet of the current template, give it the
   * next revision, and mirror that revision on the Deployment.
   */
  private syncRevision(initial: Deployment, replicaSets: ReplicaSet[], create: boolean): Sync {
    const { api, events } = this.context;
    let deployment = initial;
    let newReplicaSet = oldestFirst(
      replicaSets.filter((rs) => sameTemplate(rs.spec.template, deployment.spec.template)),
    )[0];
    const old = replicaSets.filter((rs) => rs !== newReplicaSet);
    const revision = Math.max(0, ...old.map(revisionOf)) + 1;
    let created = false;
    if (newReplicaSet) {
      if (revisionOf(newReplicaSet) < revision) {
        const annotations = { ...newReplicaSet.metadata.annotations, [REVISION]: String(revision) };
        newReplicaSet = writeObject(
          api,
          'ReplicaSet',
          newReplicaSet,
          { ...newReplicaSet, metadata: { ...newReplicaSet.metadata, annotations } },
          CONTROLLER_MANAGER,
        );
      }
    } else if (create) {
      const count = newReplicaSetReplicas(deployment, old, undefined);
      newReplicaSet = api.create(
        'ReplicaSet',
        deployment.metadata.namespace,
        replicaSetFor(deployment, revision, count),
        { manager: CONTROLLER_MANAGER },
      ).object as ReplicaSet;
      created = true;
      if (count > 0)
        events.record(SOURCE, deployment, {
          type: 'Normal',
          reason: 'ScalingReplicaSet',
          message: `Scaled up replica set ${newReplicaSet.metadata.name} to ${count}`,
        });
    }
    if (newReplicaSet) {
      // The revision annotation travels with the status write, as the real controller's does (the status
      // strategy keeps annotations), so it is owned by the status entry of managedFields (transcript 45).
      const rsRevision = newReplicaSet.metadata.annotations?.[REVISION];
      const annotated =
        rsRevision && deployment.metadata.annotations?.[REVISION] !== rsRevision
          ? {
              ...deployment,
              metadata: {
                ...deployment.metadata,
                annotations: { ...deployment.metadata.annotations, [REVISION]: rsRevision },
              },
            }
          : deployment;
      const conditions = deployment.status?.conditions ?? [];
      const progressing = created
        ? condition(
            'Progressing',
            'True',
            'NewReplicaSetCreated',
            `Created new replica set "${newReplicaSet.metadata.name}"`,
            new Date(),
          )
        : !conditionOf(conditions, 'Progressing') &&
          condition(
            'Progressing',
            'True',
            'FoundNewReplicaSet',
            `Found new replica set "${newReplicaSet.metadata.name}"`,
            new Date(),
          );
      const status = progressing
        ? { ...deployment.status, conditions: setCondition(conditions, progressing) }
        : deployment.status;
      if (annotated !== deployment || progressing) deployment = writeStatusAndAnnotations(api, annotated, status);
    }
    return new Sync(deployment, newReplicaSet, old);
  }

  private reconcileNewReplicaSet(sync: Sync, newReplicaSet: ReplicaSet): boolean {
    const deployment = sync.deployment;
    if (replicas(newReplicaSet) === desired(deployment)) return false;
    const target =
      replicas(newReplicaSet) > desired(deployment)
        ? desired(deployment)
        : newReplicaSetReplicas(deployment, sync.all(), newReplicaSet);
    const scaled = this.scaleReplicaSet(newReplicaSet, target, deployment);
    sync.replace(scaled);
    return scaled !== newReplicaSet;
  }

  /** Scale old ReplicaSets down as far as availability allows: unhealthy pods first, then the oldest. */
  private reconcileOldReplicaSets(sync: Sync): boolean {
    const deployment = sync.deployment;
    const newReplicaSet = sync.newReplicaSet!;
    if (sum(sync.old, replicas) === 0) return false;
    const minAvailable = desired(deployment) - maxUnavailable(deployment);
    const newUnavailable = replicas(newReplicaSet) - available(newReplicaSet);
    const maxScaledDown = sum(sync.all(), replicas) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    let cleaned = 0;
    for (const rs of oldestFirst(sync.old)) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = replicas(rs) - available(rs);
      if (replicas(rs) === 0 || unhealthy <= 0) continue;
      const count = Math.min(maxScaledDown - cleaned, unhealthy);
      sync.replace(this.scaleReplicaSet(rs, replicas(rs) - count, deployment));
      cleaned += count;
    }
    const availableNow = sum(sync.all(), available);
    const toScaleDown = availableNow - minAvailable;
    let scaledDown = 0;
    for (const rs of oldestFirst(sync.old)) {
      if (scaledDown >= toScaleDown) break;
      if (replicas(rs) === 0) continue;
      const count = Math.min(replicas(rs), toScaleDown - scaledDown);
      sync.replace(this.scaleReplicaSet(rs, replicas(rs) - count, deployment));
      scaledDown += count;
    }
    return cleaned + scaledDown > 0;
  }

  /** Resize a ReplicaSet, recording its desired/max replicas annotations and a ScalingReplicaSet event. */
  private scaleReplicaSet(rs: ReplicaSet, count: number, deployment: Deployment): ReplicaSet {
    if (replicas(rs) === count) return rs;
    const annotations = {
      ...rs.metadata.annotations,
      [DESIRED_REPLICAS]: String(desired(deployment)),
      [MAX_REPLICAS]: String(desired(deployment) + maxSurge(deployment)),
    };
    const scaled = writeObject(
      this.context.api,
      'ReplicaSet',
      rs,
      { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec, replicas: count } },
      CONTROLLER_MANAGER,
    );
    const direction = count > replicas(rs) ? 'up' : 'down';
    this.context.events.record(SOURCE, deployment, {
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      message: `Scaled ${direction} replica set ${rs.metadata.name} to ${count}`,
    });
    return scaled;
  }

  /** Delete the oldest scaled-down ReplicaSets beyond revisionHistoryLimit. */
  private cleanup(deployment: Deployment, old: ReplicaSet[]): void {
    const alive = old.filter((rs) => !isDeleting(rs)).sort((a, b) => revisionOf(a) - revisionOf(b));
    const excess = alive.length - (deployment.spec.revisionHistoryLimit ?? 10);
    for (const rs of alive.slice(0, Math.max(0, excess))) {
      const settled =
        replicas(rs) === 0 &&
        (rs.status?.replicas ?? 0) === 0 &&
        (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0);
      if (settled) deleteObject(this.context.api, 'ReplicaSet', rs);
    }
  }

  /** Write the status with its Progressing condition; returns when to look again for a progress deadline. */
  private syncRolloutStatus(
    deployment: Deployment,
    all: ReplicaSet[],
    newReplicaSet: ReplicaSet | undefined,
  ): number | undefined {
    const now = new Date();
    const status = deploymentStatus(deployment, all, newReplicaSet, now);
    status.conditions = progressingConditions(deployment, status, newReplicaSet?.metadata.name ?? '', now);
    writeStatus(this.context.api, 'Deployment', deployment, status, CONTROLLER_MANAGER);
    return progressDeadlineRecheck(deployment, status, now.getTime());
  }
}

/** The deployment, its ReplicaSets as this sync has left them. */
class Sync {
  constructor(
    public deployment: Deployment,
    public newReplicaSet: ReplicaSet | undefined,
    public old: ReplicaSet[],
  ) {}

  all(): ReplicaSet[] {
    return this.newReplicaSet ? [...this.old, this.newReplicaSet] : [...this.old];
  }

  replace(rs: ReplicaSet): void {
    if (this.newReplicaSet?.metadata.uid === rs.metadata.uid) this.newReplicaSet = rs;
    else this.old = this.old.map((candidate) => (candidate.metadata.uid === rs.metadata.uid ? rs : candidate));
  }
}

// ---- pure helpers -----------------------------------------------------------------------------------

const replicas = (rs: ReplicaSet) => rs.spec.replicas ?? 0;
const available = (rs: ReplicaSet) => rs.status?.availableReplicas ?? 0;
const desired = (deployment: Deployment) => deployment.spec.replicas ?? 1;
const sum = (items: ReplicaSet[], of: (rs: ReplicaSet) => number) => items.reduce((total, rs) => total + of(rs), 0);
/** A status write that also carries annotation changes (writeStatus skips writes whose status is unchanged). */
function writeStatusAndAnnotations(api: Api, deployment: Deployment, status: unknown): Deployment {
  return api.replace(
    'Deployment',
    deployment.metadata.namespace,
    deployment.metadata.name,
    { ...deployment, status },
    { manager: CONTROLLER_MANAGER, subresource: 'status' },
  ).object as Deployment;
}

const revisionOf = (rs: ReplicaSet) => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const oldestFirst = (items: ReplicaSet[]) =>
  [...items].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      a.metadata.name.localeCompare(b.metadata.name),
  );

const condition = (
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  now: Date,
): Condition => {
  const time = timestamp(now);
  return { type, status, lastUpdateTime: time, lastTransitionTime: time, reason, message };
};

/** The template without the pod-template-hash label, as Kubernetes compares them (EqualIgnoreHash). */
function withoutHash(template: PodTemplate): PodTemplate {
  const { [HASH_LABEL]: _hash, ...labels } = template.metadata?.labels ?? {};
  return { ...template, metadata: { ...template.metadata, labels } };
}

const sameTemplate = (a: PodTemplate, b: PodTemplate) => sameJson(withoutHash(a), withoutHash(b));

const podTemplateHash = (template: PodTemplate) => contentHash(withoutHash(template));

const isRolling = (deployment: Deployment) => deployment.spec.strategy?.type !== 'Recreate';

/** ResolveFenceposts: maxSurge rounds up, maxUnavailable down, and both 0 means one may be unavailable. */
function fenceposts(deployment: Deployment): { surge: number; unavailable: number } {
  const rolling = deployment.spec.strategy?.rollingUpdate ?? {};
  const surge = scaledValue(rolling.maxSurge ?? '25%', desired(deployment), true);
  const unavailable = scaledValue(rolling.maxUnavailable ?? '25%', desired(deployment), false);
  return { surge, unavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

const maxSurge = (deployment: Deployment) => (isRolling(deployment) ? fenceposts(deployment).surge : 0);

function maxUnavailable(deployment: Deployment): number {
  if (!isRolling(deployment) || desired(deployment) === 0) return 0;
  return Math.min(fenceposts(deployment).unavailable, desired(deployment));
}

/** NewRSNewReplicas: how far the new ReplicaSet may grow now. */
function newReplicaSetReplicas(
  deployment: Deployment,
  all: ReplicaSet[],
  newReplicaSet: ReplicaSet | undefined,
): number {
  if (!isRolling(deployment)) return desired(deployment);
  const current = newReplicaSet ? replicas(newReplicaSet) : 0;
  const total = sum(all, replicas);
  const maxTotal = desired(deployment) + maxSurge(deployment);
  if (total >= maxTotal) return current;
  return current + Math.min(maxTotal - total, desired(deployment) - current);
}

function isScalingEvent(deployment: Deployment, replicaSets: ReplicaSet[]): boolean {
  return replicaSets.some(
    (rs) =>
      replicas(rs) > 0 &&
      rs.metadata.annotations?.[DESIRED_REPLICAS] !== undefined &&
      Number(rs.metadata.annotations[DESIRED_REPLICAS]) !== desired(deployment),
  );
}

function replicaSetFor(deployment: Deployment, revision: number, count: number): ReplicaSet {
  const hash = podTemplateHash(deployment.spec.template);
  const template = structuredClone(deployment.spec.template);
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [HASH_LABEL]: hash } };
  const inherited = Object.entries(deployment.metadata.annotations ?? {}).filter(([key]) => !NOT_COPIED.has(key));
  const selector = deployment.spec.selector;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace,
      labels: template.metadata.labels,
      annotations: {
        ...Object.fromEntries(inherited),
        [DESIRED_REPLICAS]: String(desired(deployment)),
        [MAX_REPLICAS]: String(desired(deployment) + maxSurge(deployment)),
        [REVISION]: String(revision),
      },
      ownerReferences: [controllerRef(deployment)],
    },
    spec: {
      replicas: count,
      ...(deployment.spec.minReadySeconds ? { minReadySeconds: deployment.spec.minReadySeconds } : {}),
      selector: { ...selector, matchLabels: { ...selector.matchLabels, [HASH_LABEL]: hash } },
      template,
    },
  };
}

/** calculateStatus: counts from the ReplicaSets, and the Available condition. */
function deploymentStatus(
  deployment: Deployment,
  all: ReplicaSet[],
  newReplicaSet: ReplicaSet | undefined,
  now: Date,
): DeploymentStatus {
  const availableReplicas = sum(all, available);
  const minimum = availableReplicas >= desired(deployment) - maxUnavailable(deployment);
  const availableCondition = minimum
    ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', now)
    : condition(
        'Available',
        'False',
        'MinimumReplicasUnavailable',
        'Deployment does not have minimum availability.',
        now,
      );
  return {
    ...omitZero({
      observedGeneration: deployment.metadata.generation,
      replicas: sum(all, (rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newReplicaSet?.status?.replicas ?? 0,
      readyReplicas: sum(all, (rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas,
      unavailableReplicas: Math.max(0, sum(all, replicas) - availableReplicas),
    }),
    conditions: setCondition(deployment.status?.conditions ?? [], availableCondition),
  };
}

/** DeploymentComplete: every desired replica updated and available, and this generation observed. */
function isComplete(deployment: Deployment, status: DeploymentStatus): boolean {
  const want = desired(deployment);
  return (
    (status.updatedReplicas ?? 0) === want &&
    (status.replicas ?? 0) === want &&
    (status.availableReplicas ?? 0) === want &&
    (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0)
  );
}

/** DeploymentProgressing: more updated, ready or available pods, or fewer old ones, than last reported. */
function isProgressing(deployment: Deployment, status: DeploymentStatus): boolean {
  const before = deployment.status ?? {};
  const n = (value: number | undefined) => value ?? 0;
  return (
    n(status.updatedReplicas) > n(before.updatedReplicas) ||
    n(status.replicas) - n(status.updatedReplicas) < n(before.replicas) - n(before.updatedReplicas) ||
    n(status.readyReplicas) > n(before.readyReplicas) ||
    n(status.availableReplicas) > n(before.availableReplicas)
  );
}

function deadlineOf(deployment: Deployment, conditions: Condition[]): number | undefined {
  const progressing = conditionOf(conditions, 'Progressing');
  if (!progressing?.lastUpdateTime || deployment.spec.progressDeadlineSeconds === undefined) return undefined;
  return Date.parse(progressing.lastUpdateTime) + deployment.spec.progressDeadlineSeconds * 1000;
}

/** syncRolloutStatus: the Progressing condition after this sync. */
function progressingConditions(
  deployment: Deployment,
  status: DeploymentStatus,
  replicaSetName: string,
  now: Date,
): Condition[] {
  const conditions = status.conditions ?? [];
  const current = conditionOf(conditions, 'Progressing');
  if (status.replicas === status.updatedReplicas && current?.reason === 'NewReplicaSetAvailable') return conditions;
  if (isComplete(deployment, status)) {
    return setCondition(
      conditions,
      condition(
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${replicaSetName}" has successfully progressed.`,
        now,
      ),
    );
  }
  if (isProgressing(deployment, status)) {
    // Progress refreshes lastUpdateTime even when the reason stays the same (SetCondition would not).
    const next = condition(
      'Progressing',
      'True',
      'ReplicaSetUpdated',
      `ReplicaSet "${replicaSetName}" is progressing.`,
      now,
    );
    if (current?.status === 'True') next.lastTransitionTime = current.lastTransitionTime;
    return [...conditions.filter((c) => c.type !== 'Progressing'), next];
  }
  const deadline = deadlineOf(deployment, conditions);
  const timedOut =
    current?.reason === 'ProgressDeadlineExceeded' ||
    (current?.reason !== 'NewReplicaSetAvailable' && deadline !== undefined && deadline < now.getTime());
  if (timedOut)
    return setCondition(
      conditions,
      condition(
        'Progressing',
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${replicaSetName}" has timed out progressing.`,
        now,
      ),
    );
  return conditions;
}

/** requeueStuckDeployment: a rollout without progress is looked at again when its deadline passes. */
function progressDeadlineRecheck(deployment: Deployment, status: DeploymentStatus, now: number): number | undefined {
  const current = conditionOf(status.conditions, 'Progressing');
  if (!current || isComplete(deployment, status) || current.reason === 'ProgressDeadlineExceeded') return undefined;
  const deadline = deadlineOf(deployment, status.conditions ?? []);
  return deadline === undefined ? undefined : Math.max(0, deadline - now) + 1;
}
