// The StatefulSet controller, after pkg/controller/statefulset: pods `<set>-<ordinal>` with hostname,
// subdomain and the controller-revision-hash / statefulset.kubernetes.io/pod-name labels, one
// ControllerRevision per template revision, a PersistentVolumeClaim `<claim>-<set>-<ordinal>` per
// volumeClaimTemplate created before its pod, OrderedReady (one pod at a time, in order, down from the
// highest ordinal) or Parallel management, RollingUpdate from the highest ordinal down to `partition`
// one healthy pod at a time (OnDelete: only deleted pods are replaced), the claim retention policy, and
// the status. Orphans are adopted as ClaimPods and adoptOrphanRevisions do: pods named `<set>-<ordinal>`
// and ControllerRevisions that match the selector and have no controller get the set as their controller
// (a set deleted with `orphan` and created again takes its pods over; those whose controller-revision-hash
// is the new update revision are not replaced). Not imitated: releasing pods that stop matching, hash
// collisions, maxUnavailable, start ordinals, recreating pods that Failed.
import type { Change, KubeObject } from '../store.js';
import {
  controlledBy,
  deleteObject,
  ownerOfKind,
  writeObject,
  writeStatus,
  type ClusterContext,
  type Controller,
} from './context.js';
import { labelSelectorMatches } from '../selectors.js';
import { contentHash, sameJson } from './hash.js';
import {
  availability,
  CONTROLLER_MANAGER,
  controllerRef,
  controllerRefOf,
  isDeleting,
  isRunningAndReady,
  omitZero,
  podFromTemplate,
  refTo,
  type ObjectRef,
  type Pod,
  type StatefulSet,
  type Volume,
} from './objects.js';

const SOURCE = { manager: CONTROLLER_MANAGER, component: 'statefulset-controller' };
const REVISION_LABEL = 'controller-revision-hash';
const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';

interface ControllerRevision extends KubeObject {
  data: unknown;
  revision: number;
}

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    if (change.kind === 'StatefulSet') return [refTo('StatefulSet', change.object)];
    if (change.kind !== 'Pod' && change.kind !== 'ControllerRevision') return [];
    const owners = ownerOfKind(change, 'StatefulSet');
    if (owners.length > 0 || change.type === 'DELETED' || controllerRefOf(change.object)) return owners;
    // An orphan: the sets that would adopt it.
    return this.context.store
      .list('StatefulSet', change.object.metadata.namespace)
      .filter((set) => labelSelectorMatches((set as StatefulSet).spec.selector, change.object.metadata.labels ?? {}))
      .map((set) => refTo('StatefulSet', set));
  }

  reconcile(ref: ObjectRef): number | undefined {
    const { store } = this.context;
    const set = store.get('StatefulSet', ref.namespace, ref.name) as StatefulSet | undefined;
    if (!set || isDeleting(set)) return undefined;
    this.adoptOrphans(set);
    const { current, update } = this.syncRevisions(set);
    this.managePods(set, current, update);
    const pods = controlledBy<Pod>(store, 'Pod', set);
    const { status, recheckInMs } = statefulSetStatus(set, pods, current, update, Date.now());
    writeStatus(this.context.api, 'StatefulSet', set, status, CONTROLLER_MANAGER);
    this.truncateHistory(set, status, pods);
    return recheckInMs;
  }

  /** Make the set the controller of its orphaned pods (by name and selector) and revisions (by selector). */
  private adoptOrphans(set: StatefulSet): void {
    const { api, store } = this.context;
    const orphan = (object: KubeObject) =>
      !isDeleting(object) &&
      !controllerRefOf(object) &&
      labelSelectorMatches(set.spec.selector, object.metadata.labels ?? {});
    const pods = store.list('Pod', set.metadata.namespace).filter((pod) => ordinalOf(set, pod as Pod) !== undefined);
    const revisions = store.list('ControllerRevision', set.metadata.namespace);
    for (const [kind, objects] of [
      ['Pod', pods],
      ['ControllerRevision', revisions],
    ] as const)
      for (const object of objects.filter(orphan)) {
        const ownerReferences = [...(object.metadata.ownerReferences ?? []), controllerRef(set)];
        writeObject(
          api,
          kind,
          object,
          { ...object, metadata: { ...object.metadata, ownerReferences } },
          CONTROLLER_MANAGER,
        );
      }
  }

  /** The revision the pods run (status.currentRevision) and the one the template asks for, created if new. */
  private syncRevisions(set: StatefulSet): { current: string; update: string } {
    const { api, store } = this.context;
    const revisions = controlledBy<ControllerRevision>(store, 'ControllerRevision', set).sort(
      (a, b) => a.revision - b.revision,
    );
    const data = revisionData(set);
    const latest = revisions.at(-1)?.revision ?? 0;
    const equal = revisions.filter((revision) => sameJson(revision.data, data)).at(-1);
    let update: ControllerRevision;
    if (!equal) {
      update = api.create('ControllerRevision', set.metadata.namespace, newRevision(set, data, latest + 1), {
        manager: CONTROLLER_MANAGER,
      }).object as ControllerRevision;
    } else if (equal.revision !== latest) {
      // Going back to an earlier template reuses its revision object, renumbered as the newest.
      update = writeObject(api, 'ControllerRevision', equal, { ...equal, revision: latest + 1 }, CONTROLLER_MANAGER);
    } else update = equal;
    const currentName = set.status?.currentRevision;
    const current =
      currentName && revisions.some((revision) => revision.metadata.name === currentName)
        ? currentName
        : update.metadata.name;
    return { current, update: update.metadata.name };
  }

  /** One sync of the pods: create missing ones (claims first), delete condemned ones, roll one pod. */
  private managePods(set: StatefulSet, current: string, update: string): void {
    const { api, store, events } = this.context;
    const ordered = (set.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const replicas = set.spec.replicas ?? 1;
    const byOrdinal = new Map(
      controlledBy<Pod>(store, 'Pod', set).flatMap((pod) => {
        const ordinal = ordinalOf(set, pod);
        return ordinal === undefined ? [] : [[ordinal, pod] as const];
      }),
    );
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const pod = byOrdinal.get(ordinal);
      if (!pod) {
        const partition =
          set.spec.updateStrategy?.type !== 'OnDelete' ? (set.spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
        const revision = ordinal < partition ? current : update;
        if (!this.createClaims(set, ordinal)) return;
        const created = api.create(
          'Pod',
          set.metadata.namespace,
          podFor(set, ordinal, revision, this.revisionTemplate(set, revision)),
          { manager: CONTROLLER_MANAGER },
        ).object;
        events.record(SOURCE, set, {
          type: 'Normal',
          reason: 'SuccessfulCreate',
          message: `create Pod ${created.metadata.name} in StatefulSet ${set.metadata.name} successful`,
        });
        if (ordered) return;
        continue;
      }
      if (ordered && (isDeleting(pod) || !isRunningAndReady(pod))) return;
    }
    const condemned = [...byOrdinal.entries()].filter(([ordinal]) => ordinal >= replicas).sort(([a], [b]) => b - a);
    for (const [, pod] of condemned) {
      if (isDeleting(pod)) {
        if (ordered) return;
        continue;
      }
      if (set.spec.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') this.handClaimsToPod(set, pod);
      deleteObject(api, 'Pod', pod);
      events.record(SOURCE, set, {
        type: 'Normal',
        reason: 'SuccessfulDelete',
        message: `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
      });
      if (ordered) return;
    }
    if (set.spec.updateStrategy?.type === 'OnDelete') return;
    const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let ordinal = replicas - 1; ordinal >= partition; ordinal--) {
      const pod = byOrdinal.get(ordinal);
      if (!pod) return;
      if (pod.metadata.labels?.[REVISION_LABEL] !== update && !isDeleting(pod)) {
        deleteObject(api, 'Pod', pod);
        events.record(SOURCE, set, {
          type: 'Normal',
          reason: 'SuccessfulDelete',
          message: `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
        });
        return;
      }
      if (isDeleting(pod) || !isRunningAndReady(pod)) return;
    }
  }

  /** The template a revision recorded (the current one for pods below the partition). */
  private revisionTemplate(set: StatefulSet, revision: string): StatefulSet['spec']['template'] {
    const stored = this.context.store.get('ControllerRevision', set.metadata.namespace, revision) as
      ControllerRevision | undefined;
    const data = stored?.data as
      { spec?: { template?: StatefulSet['spec']['template'] & { $patch?: string } } } | undefined;
    if (!data?.spec?.template) return set.spec.template;
    const { $patch: _replace, ...template } = data.spec.template;
    return template;
  }

  /** Create the pod's missing claims; false while one of them is still being deleted. */
  private createClaims(set: StatefulSet, ordinal: number): boolean {
    const { api, store, events } = this.context;
    for (const claim of claimsFor(set, ordinal)) {
      const existing = store.get('PersistentVolumeClaim', set.metadata.namespace, claim.metadata.name);
      if (existing) {
        if (isDeleting(existing)) return false;
        continue;
      }
      api.create('PersistentVolumeClaim', set.metadata.namespace, claim, { manager: CONTROLLER_MANAGER });
      events.record(SOURCE, set, {
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: `create Claim ${claim.metadata.name} Pod ${podName(set, ordinal)} in StatefulSet ${set.metadata.name} success`,
      });
    }
    return true;
  }

  /** whenScaled: Delete — the claims of a condemned pod become its dependents, so they go with it. */
  private handClaimsToPod(set: StatefulSet, pod: Pod): void {
    const { api, store } = this.context;
    for (const { metadata } of claimsFor(set, ordinalOf(set, pod) ?? 0)) {
      const claim = store.get('PersistentVolumeClaim', set.metadata.namespace, metadata.name);
      if (!claim || claim.metadata.ownerReferences?.some((ref) => ref.uid === pod.metadata.uid)) continue;
      const ownerReferences = [
        ...(claim.metadata.ownerReferences ?? []),
        { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid ?? '' },
      ];
      writeObject(
        api,
        'PersistentVolumeClaim',
        claim,
        { ...claim, metadata: { ...claim.metadata, ownerReferences } },
        CONTROLLER_MANAGER,
      );
    }
  }

  /** Delete the oldest revisions beyond revisionHistoryLimit that no pod and neither status revision use. */
  private truncateHistory(set: StatefulSet, status: Record<string, unknown>, pods: Pod[]): void {
    const inUse = new Set([
      status.currentRevision,
      status.updateRevision,
      ...pods.map((pod) => pod.metadata.labels?.[REVISION_LABEL]),
    ]);
    const revisions = controlledBy<ControllerRevision>(this.context.store, 'ControllerRevision', set).sort(
      (a, b) => a.revision - b.revision,
    );
    const unused = revisions.filter((revision) => !inUse.has(revision.metadata.name));
    const excess = unused.length - (set.spec.revisionHistoryLimit ?? 10);
    for (const revision of unused.slice(0, Math.max(0, excess)))
      deleteObject(this.context.api, 'ControllerRevision', revision);
  }
}

const podName = (set: StatefulSet, ordinal: number) => `${set.metadata.name}-${ordinal}`;

function ordinalOf(set: StatefulSet, pod: Pod): number | undefined {
  const match = new RegExp(`^${set.metadata.name.replace(/[.]/g, '\\.')}-(\\d+)$`).exec(pod.metadata.name);
  return match ? Number(match[1]) : undefined;
}

/** What a ControllerRevision records: the template, as a patch that replaces it. */
const revisionData = (set: StatefulSet) => ({
  spec: { template: { ...structuredClone(set.spec.template), $patch: 'replace' } },
});

function newRevision(set: StatefulSet, data: unknown, revision: number): ControllerRevision {
  const hash = contentHash(data);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${set.metadata.name}-${hash}`,
      namespace: set.metadata.namespace,
      labels: { ...set.spec.template.metadata?.labels, 'controller.kubernetes.io/hash': hash },
      ...(set.metadata.annotations ? { annotations: { ...set.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(set)],
    },
    data,
    revision,
  };
}

/** The claims of one ordinal: template labels plus the selector's, owned by the set only under whenDeleted: Delete. */
function claimsFor(set: StatefulSet, ordinal: number): KubeObject[] {
  const ownedBySet = set.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
  return (set.spec.volumeClaimTemplates ?? []).map((template) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: `${template.metadata.name}-${podName(set, ordinal)}`,
      namespace: set.metadata.namespace,
      labels: { ...template.metadata.labels, ...set.spec.selector.matchLabels },
      ...(template.metadata.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ...(ownedBySet
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name, uid: set.metadata.uid ?? '' },
            ],
          }
        : {}),
    },
    spec: structuredClone(template.spec),
  }));
}

function podFor(set: StatefulSet, ordinal: number, revision: string, template: StatefulSet['spec']['template']): Pod {
  const name = podName(set, ordinal);
  const pod = podFromTemplate(template, set, { [REVISION_LABEL]: revision, [POD_NAME_LABEL]: name });
  pod.metadata.name = name;
  const claims: Volume[] = (set.spec.volumeClaimTemplates ?? []).map((claim) => ({
    name: claim.metadata.name,
    persistentVolumeClaim: { claimName: `${claim.metadata.name}-${name}` },
  }));
  const claimed = new Set(claims.map((volume) => volume.name));
  pod.spec = {
    ...pod.spec,
    volumes: [...claims, ...(pod.spec.volumes ?? []).filter((volume) => !claimed.has(volume.name))],
    hostname: name,
    ...(set.spec.serviceName ? { subdomain: set.spec.serviceName } : {}),
  };
  if (pod.spec.volumes?.length === 0) delete pod.spec.volumes;
  return pod;
}

/** The status for these pods: counts, revisions, and when availability will next change. */
function statefulSetStatus(
  set: StatefulSet,
  pods: Pod[],
  current: string,
  update: string,
  now: number,
): { status: Record<string, unknown>; recheckInMs?: number } {
  const live = pods.filter((pod) => !isDeleting(pod));
  const ready = pods.filter(isRunningAndReady);
  const availabilities = ready.map((pod) => availability(pod, set.spec.minReadySeconds ?? 0, now));
  const waits = availabilities.flatMap((a) => (a.inMs === undefined ? [] : [a.inMs]));
  const revisionCount = (revision: string) =>
    live.filter((pod) => pod.metadata.labels?.[REVISION_LABEL] === revision).length;
  const updated = revisionCount(update);
  // completeRollingUpdate: once every pod runs the update revision and is ready, it becomes the current one.
  const rolledOut =
    set.spec.updateStrategy?.type !== 'OnDelete' && updated === pods.length && ready.length === pods.length;
  const status = {
    ...omitZero({ observedGeneration: set.metadata.generation }),
    replicas: pods.length,
    ...omitZero({
      readyReplicas: ready.length,
      currentReplicas: rolledOut ? updated : revisionCount(current),
      updatedReplicas: updated,
    }),
    currentRevision: rolledOut ? update : current,
    updateRevision: update,
    collisionCount: set.status?.collisionCount ?? 0,
    availableReplicas: availabilities.filter((a) => a.available).length,
  };
  return { status, ...(waits.length > 0 ? { recheckInMs: Math.min(...waits) } : {}) };
}
