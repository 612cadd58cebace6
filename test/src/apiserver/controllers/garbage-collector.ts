// The garbage collector, after pkg/controller/garbagecollector: an object whose owners are all gone is
// deleted (background; foreground when an owner waits for it); a dependent that keeps a live owner only
// loses the references to the gone ones. An owner deleted with `foregroundDeletion` has its dependents
// deleted and keeps its finalizer until no dependent with blockOwnerDeletion is left; one deleted with
// `orphan` has the references to it removed from its dependents, then its finalizer. Owners are looked up
// by kind, namespace and name and must have the referenced uid; references to kinds the double does not
// serve are left alone. The dependency graph is recomputed from the store instead of kept in memory.
import { RESOURCES, resourceByKind } from '../resources.js';
import type { Change, KubeObject, OwnerReference } from '../store.js';
import { deleteObject, writeObject, type ClusterContext, type Controller } from './context.js';
import { CONTROLLER_MANAGER, isDeleting, type ObjectRef } from './objects.js';

type OwnerState = 'solid' | 'dangling' | 'waiting';

export class GarbageCollector implements Controller {
  readonly name = 'garbagecollector';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    const { object } = change;
    if (change.type === 'DELETED') {
      const owners = (object.metadata.ownerReferences ?? []).flatMap((ref) => this.ownerRef(ref, object));
      return [...this.dependents(change.kind, object).map((dependent) => this.refOf(dependent)), ...owners];
    }
    const finalizers = object.metadata.finalizers ?? [];
    const finalizing =
      isDeleting(object) && (finalizers.includes('foregroundDeletion') || finalizers.includes('orphan'));
    return finalizing || (object.metadata.ownerReferences ?? []).length > 0
      ? [{ kind: change.kind, namespace: object.metadata.namespace, name: object.metadata.name }]
      : [];
  }

  reconcile(ref: ObjectRef): undefined {
    const object = this.context.store.get(ref.kind, ref.namespace, ref.name);
    if (!object) return undefined;
    const finalizers = object.metadata.finalizers ?? [];
    if (isDeleting(object) && finalizers.includes('orphan')) this.orphanDependents(ref.kind, object);
    else if (isDeleting(object) && finalizers.includes('foregroundDeletion'))
      this.deleteDependentsFirst(ref.kind, object);
    else this.collect(ref.kind, object);
    return undefined;
  }

  /** attemptToDeleteItem: delete a dependent whose owners are gone or waiting for it; drop references to gone owners. */
  private collect(kind: string, object: KubeObject): void {
    const refs = object.metadata.ownerReferences ?? [];
    const states = refs.map((ref) => this.ownerState(ref, object));
    if (states.every((state) => state === 'solid')) return;
    if (states.includes('solid')) {
      const ownerReferences = refs.filter((_, i) => states[i] === 'solid');
      writeObject(
        this.context.api,
        kind,
        object,
        { ...object, metadata: { ...object.metadata, ownerReferences } },
        CONTROLLER_MANAGER,
      );
      return;
    }
    if (isDeleting(object)) return;
    deleteObject(this.context.api, kind, object, {
      propagationPolicy: states.includes('waiting') ? 'Foreground' : 'Background',
    });
  }

  private deleteDependentsFirst(kind: string, owner: KubeObject): void {
    const dependents = this.dependents(kind, owner);
    for (const dependent of dependents) this.collect(dependent.kind ?? '', dependent);
    const blocking = dependents.some((dependent) =>
      dependent.metadata.ownerReferences?.some((ref) => ref.uid === owner.metadata.uid && ref.blockOwnerDeletion),
    );
    if (!blocking) this.removeFinalizer(kind, owner, 'foregroundDeletion');
  }

  private orphanDependents(kind: string, owner: KubeObject): void {
    for (const dependent of this.dependents(kind, owner)) {
      const { ownerReferences: refs = [], ...rest } = dependent.metadata;
      const ownerReferences = refs.filter((ref) => ref.uid !== owner.metadata.uid);
      const metadata = ownerReferences.length > 0 ? { ...rest, ownerReferences } : rest;
      writeObject(this.context.api, dependent.kind ?? '', dependent, { ...dependent, metadata }, CONTROLLER_MANAGER);
    }
    this.removeFinalizer(kind, owner, 'orphan');
  }

  private removeFinalizer(kind: string, object: KubeObject, finalizer: string): void {
    const { finalizers: current = [], ...rest } = object.metadata;
    const finalizers = current.filter((candidate) => candidate !== finalizer);
    const metadata = finalizers.length > 0 ? { ...rest, finalizers } : rest;
    writeObject(this.context.api, kind, object, { ...object, metadata }, CONTROLLER_MANAGER);
  }

  private ownerState(ref: OwnerReference, dependent: KubeObject): OwnerState {
    const type = RESOURCES.find((candidate) => candidate.kind === ref.kind);
    if (!type) return 'solid';
    const owner = this.context.store.get(
      ref.kind,
      type.namespaced ? dependent.metadata.namespace : undefined,
      ref.name,
    );
    if (!owner || owner.metadata.uid !== ref.uid) return 'dangling';
    return isDeleting(owner) && (owner.metadata.finalizers ?? []).includes('foregroundDeletion') ? 'waiting' : 'solid';
  }

  private ownerRef(ref: OwnerReference, dependent: KubeObject): ObjectRef[] {
    const type = RESOURCES.find((candidate) => candidate.kind === ref.kind);
    return type
      ? [{ kind: ref.kind, namespace: type.namespaced ? dependent.metadata.namespace : undefined, name: ref.name }]
      : [];
  }

  /** Objects that name `owner` (by uid) among their owners, with their kind set. */
  private dependents(ownerKind: string, owner: KubeObject): KubeObject[] {
    const ownerType = resourceByKind(ownerKind);
    const namespace = ownerType.namespaced ? owner.metadata.namespace : undefined;
    return RESOURCES.filter((type) => type.namespaced || !ownerType.namespaced).flatMap((type) =>
      this.context.store
        .list(type.kind, type.namespaced ? namespace : undefined)
        .filter((object) => object.metadata.ownerReferences?.some((ref) => ref.uid === owner.metadata.uid))
        .map((object) => ({ ...object, kind: type.kind })),
    );
  }

  private refOf(object: KubeObject): ObjectRef {
    return { kind: object.kind ?? '', namespace: object.metadata.namespace, name: object.metadata.name };
  }
}
