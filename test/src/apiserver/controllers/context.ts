// What every controller gets: the API it writes through (so managedFields and resourceVersions come out as
// a real cluster's), the event recorder, the injected failures, the node, the clock; and the shape of a
// controller: which objects a change concerns, and one reconcile pass over one of them.
import type { Api, DeleteOptions } from '../api.js';
import { sameJson } from './hash.js';
import type { Change, KubeObject, Store } from '../store.js';
import type { EventRecorder } from './events.js';
import type { Failures } from './failures.js';
import { controllerRefOf, type ObjectRef, type Pod } from './objects.js';

export interface Controller {
  readonly name: string;
  /** The objects to reconcile after this change. */
  watch(change: Change): ObjectRef[];
  /** One pass over one object; returns how many ms later it wants another pass (undefined: only on change). */
  reconcile(ref: ObjectRef): number | undefined;
}

interface Node {
  name: string;
  ip: string;
}

export interface ClusterContext {
  readonly api: Api;
  readonly store: Store;
  readonly events: EventRecorder;
  readonly failures: Failures;
  readonly node: Node;
  /** How long a started pod takes to become Ready (changeable while the cluster runs). */
  readyAfterMs(): number;
  /** Prefix of pod IPs: the IP is the prefix followed by 2..254. */
  readonly podIpPrefix: string;
  /** Asynchronous work for `ref` (what idle() waits for); `controller` reconciles `ref` again when it is done. */
  background(controller: Controller, ref: ObjectRef, work: Promise<unknown>): void;
}

/** Write a status through the status subresource, unless it is already what is stored. */
export function writeStatus<T extends KubeObject>(
  api: Api,
  kind: string,
  live: T,
  status: unknown,
  manager: string,
): T {
  if (sameJson(live.status, status)) return live;
  return api.replace(
    kind,
    live.metadata.namespace,
    live.metadata.name,
    { ...live, status },
    { manager, subresource: 'status' },
  ).object as T;
}

/** Replace an object (not its status), unless nothing changed. */
export function writeObject<T extends KubeObject>(api: Api, kind: string, live: T, next: T, manager: string): T {
  if (sameJson(live, next)) return live;
  return api.replace(kind, next.metadata.namespace, next.metadata.name, next, { manager }).object as T;
}

export function deleteObject(api: Api, kind: string, object: KubeObject, options: DeleteOptions = {}): void {
  api.delete(kind, object.metadata.namespace, object.metadata.name, options);
}

/** The Deployment or StatefulSet a pod belongs to (through its ReplicaSet for Deployments). */
export function workloadOf(store: Store, pod: Pod): string | undefined {
  const owner = controllerRefOf(pod);
  if (owner?.kind === 'StatefulSet') return owner.name;
  if (owner?.kind !== 'ReplicaSet') return undefined;
  const replicaSet = store.get('ReplicaSet', pod.metadata.namespace, owner.name);
  const deployment = replicaSet && controllerRefOf(replicaSet);
  return deployment?.kind === 'Deployment' ? deployment.name : undefined;
}

/** Objects of a kind in a namespace controlled by `owner`. */
export function controlledBy<T extends KubeObject>(store: Store, kind: string, owner: KubeObject): T[] {
  return store
    .list(kind, owner.metadata.namespace)
    .filter((object) => controllerRefOf(object)?.uid === owner.metadata.uid) as T[];
}

/** The controller owner of a changed object, as a ref of `kind`, if it has one of that kind. */
export function ownerOfKind(change: Change, kind: string): ObjectRef[] {
  const owner = controllerRefOf(change.object) ?? (change.previous && controllerRefOf(change.previous));
  return owner?.kind === kind ? [{ kind, namespace: change.object.metadata.namespace, name: owner.name }] : [];
}
