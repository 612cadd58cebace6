// destroy: delete what carries this stack's instance and managed-by labels, in reverse apply order, and
// wait until it is gone. Volumes, and the bundled store's generated credentials, stay unless asked for
// (their data would be lost); the namespace goes only when this tool created it for this stack and
// nothing else is left in it. Objects without both labels, look-alikes included, are never touched.
import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError } from '../errors.js';
import { COMPONENTS } from '../spec/components.js';
import { MANAGER, stackSelector } from '../render/kubernetes/common.js';
import { NAMESPACE_OWNER_ANNOTATION } from './apply.js';
import type { Connection } from './connection.js';
import { APPLY_PHASES, holdsData, listKinds, NAMESPACED_KINDS } from './kinds.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.js';
import type { StackRef } from './status.js';

export interface DestroyOptions {
  /** Also delete the stack's PersistentVolumeClaims, and so its data. @default false */
  deleteVolumes?: boolean;
  /** Wait until everything deleted is gone. @default true */
  wait?: boolean;
  /** How long to wait. @default 300000 */
  timeoutMs?: number;
  retry?: RetryPolicy;
  onObject?: (object: { kind: string; name: string }) => void;
}

export interface DestroyResult {
  deleted: { kind: string; name: string }[];
  /** What was left in place, and why. */
  kept: { kind: string; name: string; why: string }[];
  namespaceDeleted: boolean;
}

const KEPT_VOLUME = 'volumes are kept unless --delete-volumes';
const KEPT_CREDENTIALS = 'the credentials of the kept object-store volume; deleted with --delete-volumes';

export async function destroyStack(connection: Connection, ref: StackRef, options: DestroyOptions = {}): Promise<DestroyResult> {
  const retry = options.retry ?? DEFAULT_RETRY;
  const result: DestroyResult = { deleted: [], kept: [], namespaceDeleted: false };
  const ours = await listStack(connection, ref, retry);
  const claims = await claimsOfStatefulSets(connection, ref, retry);
  const doomed: KubernetesObject[] = [];
  for (const object of [...ours, ...claims]) {
    if (options.deleteVolumes || !holdsData(object)) doomed.push(object);
    else result.kept.push({ kind: object.kind!, name: object.metadata!.name!, why: object.kind === 'Secret' ? KEPT_CREDENTIALS : KEPT_VOLUME });
  }

  // Reverse apply order: workloads and budgets first, then Services and claims, then config and identity.
  for (const phase of [...APPLY_PHASES].reverse()) {
    const kinds = new Set(phase.map((k) => k.kind));
    await Promise.all(
      doomed
        .filter((object) => kinds.has(object.kind ?? ''))
        .map(async (object) => {
          await withRetry(`deleting ${object.kind} ${ref.namespace}/${object.metadata?.name}`, () => connection.objects.delete(object, undefined, undefined, undefined, undefined, 'Background').catch(ignoreNotFound), retry);
          const deleted = { kind: object.kind ?? '', name: object.metadata?.name ?? '' };
          result.deleted.push(deleted);
          options.onObject?.(deleted);
        }),
    );
  }
  const wait = options.wait ?? true;
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  if (wait) await untilGone(connection, ref, doomed, deadline, retry);
  result.namespaceDeleted = await deleteOwnNamespace(connection, ref, result, retry);
  if (wait && result.namespaceDeleted) await namespaceGone(connection, ref.namespace, deadline, retry);
  return result;
}

function listStack(connection: Connection, ref: StackRef, retry: RetryPolicy): Promise<KubernetesObject[]> {
  return listKinds(connection, ref.namespace, NAMESPACED_KINDS, stackSelector(ref.name), retry);
}

/**
 * The claims our StatefulSets made from their templates: they carry the pod labels (no managed-by), so
 * they are recognised by those labels and by their exact names, `data-<name>-<component>-<ordinal>`.
 */
async function claimsOfStatefulSets(connection: Connection, ref: StackRef, retry: RetryPolicy): Promise<KubernetesObject[]> {
  const statefulTargets = Object.values(COMPONENTS).filter((c) => c.kind === 'StatefulSet').map((c) => c.target);
  const name = new RegExp(`^data-${ref.name}-(${statefulTargets.join('|')})-\\d+$`);
  const list = await withRetry(
    `listing PersistentVolumeClaims in ${ref.namespace}`,
    () => connection.core.listNamespacedPersistentVolumeClaim({ namespace: ref.namespace, labelSelector: `app.kubernetes.io/name=loki,app.kubernetes.io/instance=${ref.name}` }),
    retry,
  );
  return list.items
    .filter((claim) => name.test(claim.metadata?.name ?? '') && statefulTargets.includes(claim.metadata?.labels?.['app.kubernetes.io/component'] ?? ''))
    .map((claim) => ({ ...claim, apiVersion: 'v1', kind: 'PersistentVolumeClaim' }));
}

async function untilGone(connection: Connection, ref: StackRef, doomed: KubernetesObject[], deadline: number, retry: RetryPolicy): Promise<void> {
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
    if (Date.now() > deadline) throw new ClusterError(`timed out waiting for ${left.length} objects of ${ref.namespace}/${ref.name} to go: ${left.slice(0, 5).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Delete the namespace only if this tool created it for this stack and nothing else lives in it. */
async function deleteOwnNamespace(connection: Connection, ref: StackRef, result: DestroyResult, retry: RetryPolicy): Promise<boolean> {
  const namespace = await withRetry(`reading namespace ${ref.namespace}`, () => connection.core.readNamespace({ name: ref.namespace }).catch(ignoreNotFound), retry);
  if (!namespace) return false;
  const keep = (why: string) => {
    result.kept.push({ kind: 'Namespace', name: ref.namespace, why });
    return false;
  };
  if (namespace.metadata?.annotations?.[NAMESPACE_OWNER_ANNOTATION] !== ref.name) return keep('not created by loki-microservices for this stack');
  const others = await othersIn(connection, ref.namespace, retry);
  if (others.length > 0) return keep(`it is not empty: ${others.slice(0, 3).join(', ')}${others.length > 3 ? ` and ${others.length - 3} more` : ''}`);
  await withRetry(`deleting namespace ${ref.namespace}`, () => connection.core.deleteNamespace({ name: ref.namespace }).catch(ignoreNotFound), retry);
  return true;
}

/** A deleted namespace lingers as Terminating while the namespace controller empties it. */
async function namespaceGone(connection: Connection, name: string, deadline: number, retry: RetryPolicy): Promise<void> {
  while (await withRetry(`reading namespace ${name}`, () => connection.core.readNamespace({ name }).catch(ignoreNotFound), retry)) {
    if (Date.now() > deadline) throw new ClusterError(`timed out waiting for namespace ${name} to go (it is still terminating)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Objects in the namespace that are not there by default (the root CA ConfigMap, the default ServiceAccount). */
async function othersIn(connection: Connection, namespace: string, retry: RetryPolicy): Promise<string[]> {
  const listed = await listKinds(connection, namespace, [...NAMESPACED_KINDS, { apiVersion: 'v1', kind: 'Pod' }], undefined, retry);
  return listed
    .filter((item) => !(item.kind === 'ConfigMap' && item.metadata?.name === 'kube-root-ca.crt') && !(item.kind === 'ServiceAccount' && item.metadata?.name === 'default'))
    .map((item) => `${item.kind}/${item.metadata?.name}`);
}

function ignoreNotFound(error: unknown): undefined {
  if (error instanceof ApiException && error.code === 404) return undefined;
  throw error;
}
