// The kinds a stack is made of (kubernetes/render/apply-order.ts), and listing them.
import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { APPLY_PHASES, type ManagedKind } from '../render/apply-order.js';
import { CREATED_FOR_ANNOTATION, OBJECT_STORE, stackSelector } from '../render/common.js';
import { DISCOVERY_NAMESPACES_ANNOTATION, STACK_NAMESPACE_LABEL } from '../render/rules-discovery.js';
import { isNamespaceName } from '../../stack/names.js';
import type { Connection } from './connection.js';
import { withRetry, type RetryPolicy } from './retry.js';

const isDiscoveryKind = (kind: string | undefined) => kind === 'Role' || kind === 'RoleBinding';

/**
 * The kinds of rules discovery, which live in the namespaces it reads too: listed only where discovery is or
 * was on (reading them needs rights over RBAC that a stack without discovery does not ask for).
 */
export const DISCOVERY_KINDS: ManagedKind[] = APPLY_PHASES.flat().filter((k) => isDiscoveryKind(k.kind));

/** Every namespaced kind a stack may own in its namespace, for listing, pruning and destroying by label. */
export const NAMESPACED_KINDS: ManagedKind[] = APPLY_PHASES.flat().filter(
  (k) => k.kind !== 'Namespace' && !isDiscoveryKind(k.kind),
);

export const phaseOf = (kind: string) => APPLY_PHASES.findIndex((phase) => phase.some((k) => k.kind === kind));

export const kindOf = (kind: string | undefined) =>
  APPLY_PHASES.flat().find((k) => k.kind === kind && k.kind !== 'Namespace');

/** How results name an object: a discovery Role or RoleBinding by `<namespace>/<name>`, the rest by name. */
export const nameOf = (object: KubernetesObject) =>
  isDiscoveryKind(object.kind)
    ? `${object.metadata?.namespace}/${object.metadata?.name}`
    : (object.metadata?.name ?? '');

/** Tells objects apart: by kind and name in the stack's namespace, and by namespace too for discovery's. */
export const objectKey = (object: KubernetesObject) => `${object.kind}/${nameOf(object)}`;

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

/**
 * Made by this tool for the stack `ref`: a discovery Role or RoleBinding, which may live outside the stack's
 * namespace, must name the stack's namespace too.
 */
export const ownedBy = (object: KubernetesObject | undefined, ref: { name: string; namespace: string }) =>
  createdFor(object, ref.name) &&
  (!isDiscoveryKind(object?.kind) || object?.metadata?.labels?.[STACK_NAMESPACE_LABEL] === ref.namespace);

/** The namespaces a live discovery ServiceAccount says it was given Roles in (none without one). */
export function discoveryNamespacesOf(serviceAccount: KubernetesObject | undefined): string[] {
  const listed = serviceAccount?.metadata?.annotations?.[DISCOVERY_NAMESPACES_ANNOTATION] ?? '';
  return listed.split(',').filter((namespace) => isNamespaceName(namespace));
}

/** The discovery Roles and RoleBindings of the stack `ref` in these namespaces, listed by its labels. */
export async function listDiscoveryObjects(
  connection: Connection,
  ref: { name: string; namespace: string },
  namespaces: string[],
  retry: RetryPolicy,
): Promise<KubernetesObject[]> {
  const selector = `${stackSelector(ref.name)},${STACK_NAMESPACE_LABEL}=${ref.namespace}`;
  const lists = await Promise.all(
    [...new Set(namespaces)].map((namespace) => listKinds(connection, namespace, DISCOVERY_KINDS, selector, retry)),
  );
  return lists.flat().filter((object) => ownedBy(object, ref));
}

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
