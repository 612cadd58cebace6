// The kinds a stack is made of (kubernetes/render/apply-order.ts), and listing them.
import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { APPLY_PHASES, type ManagedKind } from '../render/apply-order.js';
import { CREATED_FOR_ANNOTATION, OBJECT_STORE } from '../render/common.js';
import type { Connection } from './connection.js';
import { withRetry, type RetryPolicy } from './retry.js';

/** Every namespaced kind a stack may own, for listing, pruning and destroying by label. */
export const NAMESPACED_KINDS: ManagedKind[] = APPLY_PHASES.flat().filter((k) => k.kind !== 'Namespace');

export const phaseOf = (kind: string) => APPLY_PHASES.findIndex((phase) => phase.some((k) => k.kind === kind));

export const kindOf = (kind: string | undefined) => NAMESPACED_KINDS.find((k) => k.kind === kind);

/** The API groups the cluster serves (one request), to leave out the kinds whose CRD it lacks. */
export async function servedGroupVersions(connection: Connection, retry: RetryPolicy): Promise<Set<string>> {
  const groups = await withRetry('reading the API groups', () => connection.apis.getAPIVersions(), retry);
  return new Set(groups.groups.flatMap((group) => group.versions.map((version) => version.groupVersion)));
}

/**
 * Every object of `kinds` in the namespace (matching `labelSelector`), with `kind` set; kinds whose CRD the
 * cluster does not serve have none (and cost no request).
 */
export async function listKinds(
  connection: Connection,
  namespace: string,
  kinds: ManagedKind[],
  labelSelector: string | undefined,
  retry: RetryPolicy,
  served?: Set<string>,
): Promise<KubernetesObject[]> {
  served ??= kinds.some((k) => k.crd) ? await servedGroupVersions(connection, retry) : new Set<string>();
  const lists = await Promise.all(
    kinds
      .filter((k) => !k.crd || served!.has(k.apiVersion))
      .map(({ apiVersion, kind, crd }) =>
        withRetry(
          `listing ${kind}s in ${namespace}`,
          () =>
            connection.objects.list(
              apiVersion,
              kind,
              namespace,
              undefined,
              undefined,
              undefined,
              undefined,
              labelSelector,
            ),
          retry,
        )
          // A CRD removed meanwhile: nothing of that kind is left.
          .catch((error: unknown) => {
            if (error instanceof ClusterError && error.code === 404 && crd) return { items: [] };
            throw error;
          })
          .then((list) => list.items.map((item) => ({ ...item, apiVersion, kind }))),
      ),
  );
  return lists.flat();
}

/**
 * Objects that prune and destroy keep unless asked (--prune-volumes, --delete-volumes): volume claims, and
 * the generated credentials of the bundled store, without which the data on its volume cannot be read.
 */
export function holdsData(object: KubernetesObject): boolean {
  if (object.kind === 'PersistentVolumeClaim') return true;
  return object.kind === 'Secret' && object.metadata?.labels?.['app.kubernetes.io/component'] === OBJECT_STORE;
}

/** Made by this tool for the stack `stack` (the only objects it may change, prune or destroy). */
export const createdFor = (object: KubernetesObject | undefined, stack: string) =>
  object?.metadata?.annotations?.[CREATED_FOR_ANNOTATION] === stack;

/** For `.catch`: a 404 is "not there" (undefined); any other failure stays one. */
export function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof ApiException && error.code === 404) return undefined;
  throw error;
}

/** The namespace, or undefined when there is none. */
export function readNamespace(
  connection: Connection,
  name: string,
  retry: RetryPolicy,
): Promise<KubernetesObject | undefined> {
  return withRetry(
    `reading namespace ${name}`,
    () => connection.core.readNamespace({ name }).catch(notFoundAsUndefined),
    retry,
  );
}
