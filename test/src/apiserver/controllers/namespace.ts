// The namespace controller (kube-controller-manager's, pkg/controller/namespace). A Namespace's DELETE only
// marks it (deletionTimestamp, status.phase Terminating, spec.finalizers still [kubernetes]: transcripts
// 59-60); its objects stay readable, listable, watchable and deletable, and new ones are refused (403,
// transcript 61). This controller then empties it asynchronously:
// - it starts `delayMs` after it first sees the namespace Terminating (the real one starts at once, but
//   discovery and one deletecollection and list per resource type take it a while);
// - it deletes the content one resource type at a time, through the normal deletion flow (deletecollection
//   with background propagation): finalizers such as the PVC protection finalizer hold an object until they
//   are released, pods terminate gracefully through their kubelet, owners' dependents go with the garbage
//   collector;
// - after every full pass it writes the five deletion conditions on the namespace's status, as
//   namespaced_resources_deleter.go and status_condition_utils.go word them (NamespaceContentRemaining "Some
//   resources are remaining: pods. has 2 resource instances", NamespaceFinalizersRemaining "Some content in
//   the namespace has finalizers remaining: kubernetes.io/pvc-protection in 1 resource instances", the
//   others False with their "ok" reasons);
// - when nothing is left it removes its `kubernetes` finalizer through namespaces/finalize, and the API
//   server removes the Namespace.
// Unlike the real controller, which rechecks a namespace with content left after an estimate (half the pods'
// grace period, or of 15 s when finalizers hold objects, plus 1 s), this one rechecks whenever something in
// the namespace changes, so a namespace goes as soon as its last object has. Discovery never fails here, so
// the discovery and group-version conditions are always False, and so is NamespaceDeletionContentFailure.
import { namespaceFinalizers } from '../api.js';
import { RESOURCES, type ResourceType } from '../resources.js';
import { ApiError } from '../status.js';
import { timestamp, type Change, type KubeObject } from '../store.js';
import { writeStatus, type ClusterContext, type Controller } from './context.js';
import { CONTROLLER_MANAGER, isDeleting, type ObjectRef } from './objects.js';

/** A realistic pause between a Namespace's DELETE and its content starting to go. */
export const DEFAULT_NAMESPACE_DELETION_DELAY_MS = 1000;

/** Between two resource types with content to delete (one deletecollection request each in Kubernetes). */
const STEP_MS = 10;

/** The `kubernetes` finalizer the API server puts on every Namespace, and this controller removes. */
const FINALIZER = 'kubernetes';

interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The conditions the deleter maintains, in its order, with the reason and message of their "ok" variant. */
const CONDITIONS: readonly (readonly [type: string, reason: string, message: string])[] = [
  ['NamespaceDeletionDiscoveryFailure', 'ResourcesDiscovered', 'All resources successfully discovered'],
  ['NamespaceDeletionGroupVersionParsingFailure', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'],
  [
    'NamespaceDeletionContentFailure',
    'ContentDeleted',
    'All content successfully deleted, may be waiting on finalization',
  ],
  ['NamespaceContentRemaining', 'ContentRemoved', 'All content successfully removed'],
  ['NamespaceFinalizersRemaining', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'],
];

interface Progress {
  /** The namespace's uid: a namespace created again under the same name starts over. */
  uid: string;
  /** When the content starts to go. */
  startAt: number;
  /** When the next resource type may go. */
  nextAt: number;
  /** The resource types left in this pass. */
  pending: ResourceType[];
}

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  private readonly progress = new Map<string, Progress>();

  constructor(
    private readonly context: ClusterContext,
    private delayMs = DEFAULT_NAMESPACE_DELETION_DELAY_MS,
  ) {}

  /** From now on, content goes `ms` after a namespace was first seen Terminating (for those waiting already too); returns the namespaces to look at again. */
  setDelay(ms: number): ObjectRef[] {
    const shortenedBy = this.delayMs - ms;
    this.delayMs = ms;
    for (const progress of this.progress.values()) progress.startAt -= shortenedBy;
    return [...this.progress.keys()].map((name) => ({ kind: 'Namespace', name }));
  }

  watch(change: Change): ObjectRef[] {
    if (change.kind === 'Namespace' && change.type === 'DELETED') {
      this.progress.delete(change.object.metadata.name);
      return [];
    }
    const name = change.kind === 'Namespace' ? change.object.metadata.name : change.object.metadata.namespace;
    if (!name) return [];
    const namespace = this.context.store.get('Namespace', undefined, name);
    return namespace && isDeleting(namespace) ? [{ kind: 'Namespace', name }] : [];
  }

  reconcile(ref: ObjectRef): number | undefined {
    const { store } = this.context;
    const namespace = store.get('Namespace', undefined, ref.name);
    if (!namespace || !isDeleting(namespace)) {
      this.progress.delete(ref.name);
      return undefined;
    }
    if (!namespaceFinalizers(namespace).includes(FINALIZER)) return undefined;
    const now = Date.now();
    let progress = this.progress.get(ref.name);
    if (!progress || progress.uid !== namespace.metadata.uid) {
      progress = { uid: namespace.metadata.uid ?? '', startAt: now + this.delayMs, nextAt: 0, pending: [] };
      this.progress.set(ref.name, progress);
    }
    const wait = Math.max(progress.startAt, progress.nextAt) - now;
    if (wait > 0) return wait;

    if (progress.pending.length === 0) progress.pending = RESOURCES.filter((type) => type.namespaced);
    while (progress.pending.length > 0) {
      const type = progress.pending.shift()!;
      // Types with nothing (left) to delete cost no time; one with content is one step.
      if (this.deleteContent(type, ref.name) === 0) continue;
      if (progress.pending.length > 0) {
        progress.nextAt = now + STEP_MS;
        return STEP_MS;
      }
    }

    // A full pass: report what is left, and let the namespace go when nothing is.
    const remaining = this.remaining(ref.name);
    const marked = this.writeConditions(namespace, remaining);
    if (remaining.instances.size === 0) {
      this.finalize(marked);
      this.progress.delete(ref.name);
    }
    return undefined;
  }

  /** Delete (in the background) what of this type in the namespace is not being deleted yet; how many. */
  private deleteContent(type: ResourceType, namespace: string): number {
    const doomed = this.context.store.list(type.kind, namespace).filter((object) => !isDeleting(object));
    for (const object of doomed) {
      try {
        this.context.api.delete(type.kind, namespace, object.metadata.name, { propagationPolicy: 'Background' });
      } catch (error) {
        // Gone meanwhile (its owner's garbage collection, a client): nothing to do.
        if (!(error instanceof ApiError && error.status.code === 404)) throw error;
      }
    }
    return doomed.length;
  }

  /** Instances left per resource (`pods.`, `deployments.apps`), and objects held per finalizer. */
  private remaining(namespace: string): { instances: Map<string, number>; finalizers: Map<string, number> } {
    const instances = new Map<string, number>();
    const finalizers = new Map<string, number>();
    for (const type of RESOURCES.filter((t) => t.namespaced)) {
      const objects = this.context.store.list(type.kind, namespace);
      if (objects.length === 0) continue;
      instances.set(`${type.plural}.${type.group}`, objects.length);
      for (const finalizer of objects.flatMap((object) => object.metadata.finalizers ?? []))
        finalizers.set(finalizer, (finalizers.get(finalizer) ?? 0) + 1);
    }
    return { instances, finalizers };
  }

  /** The deleter's conditions on the namespace's status (written only when they change); the namespace after. */
  private writeConditions(namespace: KubeObject, remaining: ReturnType<NamespaceController['remaining']>): KubeObject {
    const now = timestamp(new Date());
    const failing = new Map<string, Pick<NamespaceCondition, 'reason' | 'message'>>();
    if (remaining.instances.size > 0) {
      const listed = [...remaining.instances]
        .map(([resource, count]) => `${resource} has ${count} resource instances`)
        .sort();
      failing.set('NamespaceContentRemaining', {
        reason: 'SomeResourcesRemain',
        message: `Some resources are remaining: ${listed.join(', ')}`,
      });
    }
    if (remaining.finalizers.size > 0) {
      const listed = [...remaining.finalizers]
        .map(([finalizer, count]) => `${finalizer} in ${count} resource instances`)
        .sort();
      failing.set('NamespaceFinalizersRemaining', {
        reason: 'SomeFinalizersRemain',
        message: `Some content in the namespace has finalizers remaining: ${listed.join(', ')}`,
      });
    }
    const status = structuredClone(
      (namespace.status ?? {}) as { conditions?: NamespaceCondition[]; [field: string]: unknown },
    );
    const conditions = status.conditions ?? [];
    for (const [type, okReason, okMessage] of CONDITIONS) {
      const bad = failing.get(type);
      const wanted = {
        status: bad ? ('True' as const) : ('False' as const),
        reason: bad?.reason ?? okReason,
        message: bad?.message ?? okMessage,
      };
      const old = conditions.find((condition) => condition.type === type);
      if (!old)
        conditions.push({
          type,
          status: wanted.status,
          lastTransitionTime: now,
          reason: wanted.reason,
          message: wanted.message,
        });
      else if (old.status !== wanted.status || old.reason !== wanted.reason || old.message !== wanted.message) {
        if (old.status !== wanted.status) old.lastTransitionTime = now;
        Object.assign(old, wanted);
      }
    }
    return writeStatus(this.context.api, 'Namespace', namespace, { ...status, conditions }, CONTROLLER_MANAGER);
  }

  /** Remove the `kubernetes` finalizer through namespaces/finalize (the API server then removes the namespace). */
  private finalize(namespace: KubeObject): void {
    const finalizers = [
      ...new Set(namespaceFinalizers(namespace).filter((finalizer) => finalizer !== FINALIZER)),
    ].sort();
    const spec = { ...(namespace.spec as Record<string, unknown>), finalizers };
    this.context.api.replace(
      'Namespace',
      undefined,
      namespace.metadata.name,
      { ...namespace, spec },
      { manager: CONTROLLER_MANAGER, subresource: 'finalize' },
    );
  }
}
