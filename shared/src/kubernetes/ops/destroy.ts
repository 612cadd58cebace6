// destroy: delete what this tool created for the stack (both of its labels and the created-for mark), in
// reverse apply order, holding the stack's lock, and wait until it is gone. Volumes, and the bundled
// store's generated credentials, stay unless asked for (their data would be lost); the namespace goes only
// when this tool created it for this stack and a look through every namespaced kind the cluster serves
// finds nothing else in it. Look-alikes (our labels, not our mark) are never touched.
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { assertStackRef } from '../../stack/names.js';
import { describeError } from '../../redact.js';
import { COMPONENTS } from '../../spec/components.js';
import { MANAGER } from '../../stack/names.js';
import { CREATED_FOR_ANNOTATION, stackSelector } from '../render/common.js';
import type { Connection } from './connection.js';
import { namespacedKinds } from './discovery.js';
import { APPLY_PHASES, type ManagedKind } from '../render/apply-order.js';
import {
  createdFor,
  discoveryNamespacesOf,
  holdsData,
  listDiscoveryObjects,
  listKinds,
  nameOf,
  NAMESPACED_KINDS,
  notFoundAsUndefined,
  ownedBy,
  readNamespace,
} from './kinds.js';
import { acquireStackLock, lockName } from './lock.js';
import { CLI_OPTION_NAMES, type OptionNames } from './option-names.js';
import { until, withRetry, type RetryPolicy } from './retry.js';
import type { StackRef } from './status.js';

export interface DestroyOptions {
  /** Also delete the stack's PersistentVolumeClaims, and so its data. @default false */
  deleteVolumes?: boolean;
  /** Wait until everything deleted is gone. @default true */
  wait?: boolean;
  /** How long to wait; transient failures are retried until then unless `retry` says otherwise. @default 300000 */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** How messages name the options they advise. @default CLI_OPTION_NAMES */
  optionNames?: OptionNames;
  onObject?: (object: { kind: string; name: string }) => void;
}

export interface DestroyResult {
  deleted: { kind: string; name: string }[];
  /** What was left in place, and why. */
  kept: { kind: string; name: string; why: string }[];
  namespaceDeleted: boolean;
}

const keptBecause = (object: KubernetesObject, deleteVolumes: string) =>
  object.kind === 'Secret'
    ? `the credentials of the kept object-store volume; deleted with ${deleteVolumes}`
    : `volumes are kept unless ${deleteVolumes}`;

export async function destroyStack(
  connection: Connection,
  ref: StackRef,
  options: DestroyOptions = {},
): Promise<DestroyResult> {
  assertStackRef(ref);
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  const retry = options.retry ?? until(deadline);
  const result: DestroyResult = { deleted: [], kept: [], namespaceDeleted: false };
  const namespace = await readNamespace(connection, ref.namespace, retry);
  if (!namespace) return result;
  // A namespace being deleted takes every object with it, and refuses a new Lease: there is nothing to lock.
  const lock = namespace.metadata?.deletionTimestamp
    ? undefined
    : await acquireStackLock(connection, ref, 'destroy', retry);
  try {
    const ours = (await listStack(connection, ref, retry)).filter((object) => ownedBy(object, ref));
    const claims = await claimsOfStatefulSets(connection, ref, retry);
    const doomed: KubernetesObject[] = [];
    for (const object of [...ours, ...claims]) {
      if (options.deleteVolumes || !holdsData(object)) doomed.push(object);
      else
        result.kept.push({
          kind: object.kind!,
          name: object.metadata!.name!,
          why: keptBecause(object, (options.optionNames ?? CLI_OPTION_NAMES).deleteVolumes),
        });
    }

    // Reverse apply order: workloads and budgets first, then Services and claims, then config and identity.
    for (const phase of [...APPLY_PHASES].reverse()) {
      await lock?.check();
      const kinds = new Set(phase.map((k) => k.kind));
      await Promise.all(
        doomed
          .filter((object) => kinds.has(object.kind ?? ''))
          .map(async (object) => {
            await withRetry(
              `deleting ${object.kind} ${object.metadata?.namespace ?? ref.namespace}/${object.metadata?.name}`,
              () =>
                connection.objects
                  .delete(object, undefined, undefined, undefined, undefined, 'Background')
                  .catch(notFoundAsUndefined),
              retry,
            );
            const deleted = { kind: object.kind ?? '', name: nameOf(object) };
            result.deleted.push(deleted);
            options.onObject?.(deleted);
          }),
      );
    }
    const wait = options.wait ?? true;
    if (wait) await untilGone(connection, ref, doomed, deadline, retry);
    result.namespaceDeleted = await deleteOwnNamespace(connection, ref, namespace, doomed, result, retry);
    if (wait && result.namespaceDeleted) await namespaceGone(connection, ref.namespace, deadline, retry);
    return result;
  } finally {
    await lock?.release();
  }
}

/** The stack's objects in its namespace, and the Roles and RoleBindings its discovery ServiceAccount lists. */
async function listStack(connection: Connection, ref: StackRef, retry: RetryPolicy): Promise<KubernetesObject[]> {
  const objects = await listKinds(connection, ref.namespace, NAMESPACED_KINDS, stackSelector(ref.name), retry);
  const namespaces = objects
    .filter((object) => object.kind === 'ServiceAccount' && createdFor(object, ref.name))
    .flatMap(discoveryNamespacesOf);
  const discovery = namespaces.length > 0 ? await listDiscoveryObjects(connection, ref, namespaces, retry) : [];
  return [...objects, ...discovery];
}

/**
 * The claims our StatefulSets made from their templates: they carry the pod labels (no managed-by), so
 * they are recognised by those labels and by their exact names, `data-<name>-<component>-<ordinal>`
 * (`data-<name>-ingester-zone-<zone>-<ordinal>` for a zone-aware ingester's).
 */
async function claimsOfStatefulSets(
  connection: Connection,
  ref: StackRef,
  retry: RetryPolicy,
): Promise<KubernetesObject[]> {
  const statefulTargets = Object.values(COMPONENTS)
    .filter((c) => c.kind === 'StatefulSet')
    .map((c) => c.target);
  const name = new RegExp(`^data-${ref.name}-(${statefulTargets.join('|')})(-zone-[a-z0-9-]+)?-\\d+$`);
  const list = await withRetry(
    `listing PersistentVolumeClaims in ${ref.namespace}`,
    () =>
      connection.core.listNamespacedPersistentVolumeClaim({
        namespace: ref.namespace,
        labelSelector: `app.kubernetes.io/name=loki,app.kubernetes.io/instance=${ref.name}`,
      }),
    retry,
  );
  return list.items
    .filter(
      (claim) =>
        name.test(claim.metadata?.name ?? '') &&
        statefulTargets.includes(claim.metadata?.labels?.['app.kubernetes.io/component'] ?? ''),
    )
    .map((claim) => ({ ...claim, apiVersion: 'v1', kind: 'PersistentVolumeClaim' }));
}

async function untilGone(
  connection: Connection,
  ref: StackRef,
  doomed: KubernetesObject[],
  deadline: number,
  retry: RetryPolicy,
): Promise<void> {
  const names = new Set(doomed.map((o) => `${o.kind}/${o.metadata?.name}`));
  // What was deleted, and the pods of the stack's workloads, which go after them.
  const watched = [...NAMESPACED_KINDS, { apiVersion: 'v1', kind: 'Pod' }];
  for (;;) {
    const listed = await listKinds(connection, ref.namespace, watched, `app.kubernetes.io/instance=${ref.name}`, retry);
    const left = listed
      .filter((item) => item.kind !== 'Pod' || item.metadata?.labels?.['app.kubernetes.io/managed-by'] === MANAGER)
      .map((item) => `${item.kind}/${item.metadata?.name}`)
      .filter((key) => names.has(key) || key.startsWith('Pod/'));
    if (left.length === 0) return;
    if (Date.now() > deadline)
      throw new ClusterError(
        `timed out waiting for ${left.length} objects of ${ref.namespace}/${ref.name} to go: ${left.slice(0, 5).join(', ')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Delete the namespace only if this tool created it for this stack and nothing else lives in it: every
 * namespaced kind the cluster serves is listed, and only what the stack's objects leave behind while they go
 * is overlooked (objects deleted now, what they own, Endpoints of deleted Services, events, the lock).
 */
async function deleteOwnNamespace(
  connection: Connection,
  ref: StackRef,
  namespace: KubernetesObject,
  doomed: KubernetesObject[],
  result: DestroyResult,
  retry: RetryPolicy,
): Promise<boolean> {
  const keep = (why: string) => {
    result.kept.push({ kind: 'Namespace', name: ref.namespace, why });
    return false;
  };
  if (namespace.metadata?.annotations?.[CREATED_FOR_ANNOTATION] !== ref.name)
    return keep('not created by loki-microservices for this stack');
  if (namespace.metadata?.deletionTimestamp) return keep('it is being deleted already');
  const { kinds, unreadable } = await namespacedKinds(connection, retry);
  const { others, unlisted } = await othersIn(connection, ref, kinds, doomed, retry);
  const unknown = [...unreadable, ...unlisted];
  if (unknown.length > 0)
    return keep(
      `not every kind in it could be listed, so it may hold objects of others: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ` and ${unknown.length - 3} more` : ''}`,
    );
  if (others.length > 0)
    return keep(
      `it is not empty: ${others.slice(0, 3).join(', ')}${others.length > 3 ? ` and ${others.length - 3} more` : ''}`,
    );
  await withRetry(
    `deleting namespace ${ref.namespace}`,
    () => connection.core.deleteNamespace({ name: ref.namespace }).catch(notFoundAsUndefined),
    retry,
  );
  return true;
}

/** A deleted namespace lingers as Terminating while the namespace controller empties it. */
async function namespaceGone(
  connection: Connection,
  name: string,
  deadline: number,
  retry: RetryPolicy,
): Promise<void> {
  while (
    await withRetry(
      `reading namespace ${name}`,
      () => connection.core.readNamespace({ name }).catch(notFoundAsUndefined),
      retry,
    )
  ) {
    if (Date.now() > deadline)
      throw new ClusterError(`timed out waiting for namespace ${name} to go (it is still terminating)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Kinds whose objects Kubernetes records about others, not objects of anyone's. */
const RECORDS = new Set(['Event']);
const PAGE = 500;

/**
 * Objects in the namespace, of every listable kind, that are neither the stack's (deleted now, or owned by
 * them through ownerReferences: ReplicaSets, pods, ControllerRevisions, EndpointSlices) nor there by default
 * (the root CA ConfigMap, the default ServiceAccount and its token Secrets), as `Kind/name`; and the kinds
 * that could not be listed (no access, say). A kind with more objects than one page counts as holding others.
 */
async function othersIn(
  connection: Connection,
  ref: StackRef,
  kinds: ManagedKind[],
  doomed: KubernetesObject[],
  retry: RetryPolicy,
): Promise<{ others: string[]; unlisted: string[] }> {
  const unlisted: string[] = [];
  const listed = await Promise.all(
    kinds
      .filter((kind) => !RECORDS.has(kind.kind))
      .map((kind) =>
        withRetry(
          `listing ${kind.kind}s in ${ref.namespace}`,
          () =>
            connection.objects.list(
              kind.apiVersion,
              kind.kind,
              ref.namespace,
              undefined,
              undefined,
              undefined,
              undefined,
              undefined,
              PAGE,
            ),
          retry,
        ).then(
          (list) => ({
            kind,
            items: list.items.map((item) => ({ ...item, apiVersion: kind.apiVersion, kind: kind.kind })),
            more: !!list.metadata?._continue,
          }),
          (error: unknown) =>
            void unlisted.push(
              `${kind.kind} (${error instanceof ClusterError && error.code ? `HTTP ${error.code}` : describeError(error)})`,
            ),
        ),
      ),
  );
  const pages = listed.filter((page): page is NonNullable<typeof page> => !!page);
  // Only what was deleted in this namespace (discovery's Roles elsewhere may share a name with one here).
  const ours = new Set(
    doomed
      .filter((object) => (object.metadata?.namespace ?? ref.namespace) === ref.namespace)
      .map((object) => `${object.kind}/${object.metadata?.name}`),
  );
  const serviceAccounts = new Set([
    'default',
    ...doomed.filter((object) => object.kind === 'ServiceAccount').map((object) => object.metadata?.name),
  ]);
  for (const object of doomed) if (object.kind === 'Service') ours.add(`Endpoints/${object.metadata?.name}`);
  ours.add(`Lease/${lockName(ref)}`);
  ours.add('ConfigMap/kube-root-ca.crt');
  // Owners first: a pod is ours when its ReplicaSet is, which is ours when its Deployment is.
  const items = pages.flatMap((page) => page.items);
  for (let grew = true; grew;) {
    grew = false;
    for (const item of items) {
      const key = `${item.kind}/${item.metadata?.name}`;
      const owned = (item.metadata?.ownerReferences ?? []).some((owner) => ours.has(`${owner.kind}/${owner.name}`));
      const token =
        item.kind === 'Secret' &&
        (item as V1Secret).type === 'kubernetes.io/service-account-token' &&
        serviceAccounts.has(item.metadata?.annotations?.['kubernetes.io/service-account.name']);
      const defaultAccount = item.kind === 'ServiceAccount' && item.metadata?.name === 'default';
      if (!ours.has(key) && (owned || token || defaultAccount)) {
        ours.add(key);
        grew = true;
      }
    }
  }
  const others = items.map((item) => `${item.kind}/${item.metadata?.name}`).filter((key) => !ours.has(key));
  const crowded = pages.filter((page) => page.more).map((page) => `more than ${PAGE} ${page.kind.kind}s`);
  return { others: [...crowded, ...others], unlisted };
}
