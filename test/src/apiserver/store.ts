// The double's etcd: objects by kind, namespace and name, one global resourceVersion counter, and a
// bounded history of changes so that watches can resume from a resourceVersion. It stores what it is
// given; API semantics (apply, validation, deletion flow) live in api.ts.
import { randomUUID } from 'node:crypto';
import { sameJson } from './ssa/index.js';
import { resourceByKind } from './resources.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Object metadata as JSON carries it (timestamps are RFC 3339 strings). */
export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: Record<string, unknown>[];
  [key: string]: unknown;
}

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** RFC 3339 with whole seconds, as Kubernetes writes timestamps. */
export const timestamp = (date: Date) => date.toISOString().replace(/\.\d+Z$/, 'Z');

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  kind: string;
  object: KubeObject;
  /** The object before this change (MODIFIED and DELETED), for watches whose selector it stops matching. */
  previous?: KubeObject;
  resourceVersion: number;
}

/** How many changes the store remembers for watches that resume (etcd compacts too; 410 Gone beyond). */
const HISTORY = 5000;

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}\u0000${name}`;

export class Store {
  /** Objects by kind, then by `<namespace>\0<name>` (which sorts as etcd keys do). */
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: Change[] = [];
  private readonly listeners = new Set<(change: Change) => void>();
  private revision = 1;

  constructor(private readonly clock: () => Date = () => new Date()) {}

  /** The latest resourceVersion, as lists report it. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** The stored object, frozen: callers that change it copy it first. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(kind)?.get(keyOf(namespace, name));
  }

  /** Objects of a kind, in one namespace or all, sorted by namespace then name (etcd key order); frozen. */
  list(kind: string, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? '' : `${namespace}\u0000`;
    return [...(this.objects.get(kind) ?? new Map<string, KubeObject>()).entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }

  /**
   * Store an object (create or replace). Assigns uid and creationTimestamp on create, a new
   * resourceVersion on every real change, and bumps metadata.generation when anything outside
   * metadata and status changed for kinds that track it. Returns the stored object; an unchanged
   * object is not written and keeps its resourceVersion.
   */
  put(kind: string, object: KubeObject): KubeObject {
    const { key, previous, next } = this.prepare(kind, object);
    if (previous && sameJson(previous, next)) return previous;
    next.metadata.resourceVersion = String(++this.revision);
    deepFreeze(next);
    let objects = this.objects.get(kind);
    if (!objects) this.objects.set(kind, (objects = new Map()));
    objects.set(key, next);
    this.emit({
      type: previous ? 'MODIFIED' : 'ADDED',
      kind,
      object: next,
      ...(previous ? { previous } : {}),
      resourceVersion: this.revision,
    });
    return next;
  }

  /** What put would store, without storing it (dry run): the resourceVersion stays the stored one. */
  preview(kind: string, object: KubeObject): KubeObject {
    return this.prepare(kind, object).next;
  }

  private prepare(
    kind: string,
    object: KubeObject,
  ): { key: string; previous: KubeObject | undefined; next: KubeObject } {
    const key = keyOf(object.metadata.namespace, object.metadata.name);
    const previous = this.objects.get(kind)?.get(key);
    const next = structuredClone(object);
    const tracksGeneration = resourceByKind(kind).generation;
    if (previous) {
      next.metadata.uid = previous.metadata.uid;
      next.metadata.creationTimestamp = previous.metadata.creationTimestamp;
      next.metadata.resourceVersion = previous.metadata.resourceVersion;
      // A spec change, or the start of a graceful deletion (controllers must notice), is a new generation.
      const deletionStarts = !!next.metadata.deletionTimestamp && !previous.metadata.deletionTimestamp;
      if (tracksGeneration)
        next.metadata.generation =
          (previous.metadata.generation ?? 1) + (specChanged(previous, next) || deletionStarts ? 1 : 0);
    } else {
      next.metadata.uid = randomUUID();
      next.metadata.creationTimestamp = timestamp(this.clock());
      delete next.metadata.resourceVersion;
      if (tracksGeneration) next.metadata.generation = 1;
    }
    return { key, previous, next };
  }

  /** Remove an object for good; returns it as it was, or undefined if there was none. */
  remove(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(namespace, name);
    const previous = this.objects.get(kind)?.get(key);
    if (!previous) return undefined;
    this.objects.get(kind)!.delete(key);
    const gone = deepFreeze({
      ...previous,
      metadata: { ...previous.metadata, resourceVersion: String(++this.revision) },
    });
    this.emit({ type: 'DELETED', kind, object: gone, previous, resourceVersion: this.revision });
    return previous;
  }

  /** Be told of every change, in order. Returns the function that stops it. */
  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes after a resourceVersion, or 'expired' when the history no longer reaches back that far. */
  changesSince(resourceVersion: number): Change[] | 'expired' {
    const oldest = this.history[0]?.resourceVersion ?? this.revision + 1;
    if (resourceVersion < oldest - 1 && resourceVersion < this.revision) return 'expired';
    return this.history.filter((change) => change.resourceVersion > resourceVersion);
  }

  private emit(change: Change): void {
    this.history.push(change);
    if (this.history.length > HISTORY) this.history.shift();
    for (const listener of this.listeners) listener(change);
  }
}

/**
 * Stored objects are frozen and shared, not copied on every read: the simulated controllers read the store
 * far more often than anything writes it, and copying dominated the double's CPU time.
 */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function specChanged(previous: KubeObject, next: KubeObject): boolean {
  const { metadata: _a, status: _b, ...before } = previous;
  const { metadata: _c, status: _d, ...after } = next;
  return !sameJson(before, after);
}
