// apply: the rendered stack onto a cluster by server-side apply (field manager `loki-microservices`), phase
// by phase with the objects of a phase sent together; Secrets that render leaves out (random credentials)
// created once and never rotated; objects of the stack that the render no longer contains pruned.
import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ApiException, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError, ConflictError } from '../errors.js';
import { MANAGER, stackSelector } from '../render/kubernetes/common.js';
import type { StorageCredentials } from '../render/kubernetes/credentials.js';
import { renderKubernetes } from '../render/kubernetes/index.js';
import type { GeneratedSecret } from '../render/kubernetes/storage.js';
import type { LokiStack } from '../spec/schema.js';
import type { Connection } from './connection.js';
import { APPLY_PHASES, holdsData, NAMESPACED_KINDS, phaseOf } from './kinds.js';
import { DEFAULT_RETRY, statusOf, withRetry, type RetryPolicy } from './retry.js';

/** On a namespace this tool created: the stack that created it (destroy may delete only such a namespace). */
export const NAMESPACE_OWNER_ANNOTATION = 'loki-microservices/created-for';

export type ObjectAction = 'created' | 'configured' | 'unchanged' | 'pruned';

export interface AppliedObject {
  kind: string;
  name: string;
  action: ObjectAction;
}

export interface ApplyOptions {
  /** Object-store credentials, applied as the stack's `<name>-storage-credentials` Secret. */
  credentials?: StorageCredentials;
  /** Server-side dry run (`dryRun=All`): the API validates and answers, nothing is stored. */
  dryRun?: boolean;
  /** Take over fields another field manager owns, instead of failing. @default false */
  forceConflicts?: boolean;
  /** Delete objects of this stack that the render no longer contains. @default true */
  prune?: boolean;
  /** Also prune PersistentVolumeClaims (their data is lost). @default false */
  pruneVolumes?: boolean;
  retry?: RetryPolicy;
  /** Told of every object as it is done. */
  onObject?: (object: AppliedObject) => void;
}

export interface ApplyResult {
  objects: AppliedObject[];
  /** Secrets apply generates: created now, or kept as they were. */
  secrets: { name: string; action: 'created' | 'kept' }[];
  /** Whether this apply created the namespace. */
  namespaceCreated: boolean;
  dryRun: boolean;
}

type Existing = Map<string, KubernetesObject>;
const keyOf = (kind: string | undefined, name: string | undefined) => `${kind}/${name}`;
const describe = (object: KubernetesObject) => `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;

export async function applyStack(connection: Connection, stack: LokiStack, options: ApplyOptions = {}): Promise<ApplyResult> {
  const retry = options.retry ?? DEFAULT_RETRY;
  const rendered = renderKubernetes(stack, { credentials: options.credentials });
  const { namespace, existing } = await readCurrentState(connection, stack, retry);
  if (namespace?.metadata?.deletionTimestamp) {
    throw new ClusterError(`namespace "${stack.metadata.namespace}" is being deleted; wait until it is gone, then apply again`, 409, 'Conflict');
  }
  const createdFor = namespace ? namespace.metadata?.annotations?.[NAMESPACE_OWNER_ANNOTATION] : stack.metadata.name;
  const desired = rendered.objects.map((object) => (object.kind === 'Namespace' && createdFor ? withAnnotation(object, NAMESPACE_OWNER_ANNOTATION, createdFor) : object));

  const result: ApplyResult = { objects: [], secrets: [], namespaceCreated: !namespace, dryRun: !!options.dryRun };
  const report = (object: AppliedObject) => {
    result.objects.push(object);
    options.onObject?.(object);
  };

  // A dry run into a namespace that does not exist yet: the API refuses namespaced objects there (404 for the
  // namespace), and each of them would be created, so they are reported as such without being sent.
  const unsent = (object: { kind?: string }) => !!options.dryRun && !namespace && object.kind !== 'Namespace';
  const created = (object: KubernetesObject): AppliedObject => ({ kind: object.kind ?? '', name: object.metadata?.name ?? '', action: 'created' });
  for (const round of roundsOf(!!namespace)) {
    const objects = desired.filter((object) => round.includes(phaseOf(object.kind ?? '')));
    const secrets = round.includes(phaseOf('Secret')) ? rendered.generatedSecrets : [];
    const settled = await Promise.allSettled([
      ...objects.map((object) => (unsent(object) ? Promise.resolve(created(object)) : applyObject(connection, object, existing, options, retry)).then(report)),
      ...secrets.map((secret) =>
        (unsent({ kind: 'Secret' }) ? Promise.resolve('created' as const) : ensureSecret(connection, secret, existing, options, retry)).then((action) => result.secrets.push({ name: secret.name, action })),
      ),
    ]);
    const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
  }

  if (options.prune ?? true) {
    const keep = new Set([...desired.map((o) => keyOf(o.kind, o.metadata?.name)), ...rendered.generatedSecrets.map((s) => keyOf('Secret', s.name))]);
    const prunable = (object: KubernetesObject) => object.kind !== 'Namespace' && (options.pruneVolumes || !holdsData(object));
    const stale = [...existing.values()].filter((object) => !keep.has(keyOf(object.kind, object.metadata?.name)) && prunable(object));
    await Promise.all(stale.map((object) => prune(connection, object, options, retry).then(report)));
  }
  return result;
}

/**
 * The apply phases grouped into rounds of requests sent together. An existing namespace needs no round of
 * its own: the namespaced objects cannot fail for want of it.
 */
function roundsOf(namespaceExists: boolean): number[][] {
  const rounds = APPLY_PHASES.map((_, index) => [index]);
  if (namespaceExists) rounds.splice(0, 2, [0, 1]);
  return rounds;
}

/** The namespace and every object that carries this stack's labels, listed once per kind, concurrently. */
async function readCurrentState(connection: Connection, stack: LokiStack, retry: RetryPolicy): Promise<{ namespace: KubernetesObject | undefined; existing: Existing }> {
  const name = stack.metadata.namespace;
  const [namespace, ...lists] = await Promise.all([
    withRetry(`reading namespace ${name}`, () => connection.core.readNamespace({ name }).catch(notFoundAsUndefined), retry),
    ...NAMESPACED_KINDS.map(({ apiVersion, kind }) =>
      withRetry(`listing ${kind}s in ${name}`, () => connection.objects.list(apiVersion, kind, name, undefined, undefined, undefined, undefined, stackSelector(stack.metadata.name)), retry).then(
        (list) => list.items.map((item) => ({ ...item, apiVersion, kind })),
      ),
    ),
  ]);
  const found = namespace ? [{ ...(namespace as KubernetesObject), kind: 'Namespace' }, ...lists.flat()] : lists.flat();
  return { namespace: namespace as KubernetesObject | undefined, existing: new Map(found.map((object) => [keyOf(object.kind, object.metadata?.name), object])) };
}

/**
 * client-node serializes a known kind through its model, which names a few fields differently from the
 * Kubernetes JSON (NetworkPolicy ingress `from` is `_from`) and drops what it does not know: rename them.
 */
function clientNodeForm(object: KubernetesObject): KubernetesObject {
  if (object.kind !== 'NetworkPolicy') return object;
  const policy = object as KubernetesObject & { spec: { ingress?: Record<string, unknown>[] } };
  const ingress = policy.spec.ingress?.map(({ from, ...rule }) => (from === undefined ? rule : { ...rule, _from: from }));
  return { ...policy, spec: { ...policy.spec, ...(ingress ? { ingress } : {}) } } as KubernetesObject;
}

async function applyObject(connection: Connection, object: KubernetesObject, existing: Existing, options: ApplyOptions, retry: RetryPolicy): Promise<AppliedObject> {
  const before = existing.get(keyOf(object.kind, object.metadata?.name));
  const applied = await withRetry(
    `applying ${describe(object)}`,
    () =>
      connection.objects
        .patch(clientNodeForm(object), undefined, options.dryRun ? 'All' : undefined, MANAGER, options.forceConflicts ?? false, PatchStrategy.ServerSideApply)
        .catch((error: unknown) => {
          throw conflictOf(error, describe(object)) ?? error;
        }),
    retry,
  );
  const action: ObjectAction = !before ? 'created' : unchanged(before, applied, !!options.dryRun) ? 'unchanged' : 'configured';
  return { kind: object.kind ?? '', name: object.metadata?.name ?? '', action };
}

/**
 * Whether the apply left the object as it was: the same resourceVersion, or else the same content outside
 * status and bookkeeping (a dry run answers with the stored resourceVersion whatever it would change, and
 * controllers write status between our read and our apply).
 */
function unchanged(before: KubernetesObject, after: KubernetesObject, dryRun: boolean): boolean {
  if (!dryRun && before.metadata?.resourceVersion === after.metadata?.resourceVersion) return true;
  const content = (object: KubernetesObject) => {
    const { apiVersion: _apiVersion, kind: _kind, status: _status, metadata, ...rest } = JSON.parse(JSON.stringify(object)) as KubernetesObject & { status?: unknown };
    const { resourceVersion: _resourceVersion, managedFields: _managedFields, generation: _generation, ...identity } = metadata ?? {};
    return { metadata: identity, ...rest };
  };
  return isDeepStrictEqual(content(before), content(after));
}

/** A Secret with random values, created once: an existing one is never changed (no rotation). */
async function ensureSecret(connection: Connection, secret: GeneratedSecret, existing: Existing, options: ApplyOptions, retry: RetryPolicy): Promise<'created' | 'kept'> {
  if (existing.has(keyOf('Secret', secret.name))) return 'kept';
  const body = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secret.name, namespace: secret.namespace, labels: secret.labels },
    type: 'Opaque',
    stringData: Object.fromEntries(secret.keys.map((key) => [key, randomCredential(key.includes('SECRET') ? 40 : 20)])),
  };
  try {
    await withRetry(`creating Secret ${secret.namespace}/${secret.name}`, () => connection.objects.create(body, undefined, options.dryRun ? 'All' : undefined, MANAGER), retry);
    return 'created';
  } catch (error) {
    // Made meanwhile by another apply: that one is kept.
    if (error instanceof ClusterError && error.code === 409) return 'kept';
    throw error;
  }
}

async function prune(connection: Connection, object: KubernetesObject, options: ApplyOptions, retry: RetryPolicy): Promise<AppliedObject> {
  await withRetry(
    `pruning ${describe(object)}`,
    () => connection.objects.delete(object, undefined, options.dryRun ? 'All' : undefined, undefined, undefined, 'Background').catch(notFoundAsUndefined),
    retry,
  );
  return { kind: object.kind ?? '', name: object.metadata?.name ?? '', action: 'pruned' };
}

function conflictOf(error: unknown, object: string): ConflictError | undefined {
  if (!(error instanceof ApiException) || error.code !== 409) return undefined;
  const causes = statusOf(error)?.details?.causes ?? [];
  const conflicts = causes
    .filter((cause) => cause.reason === 'FieldManagerConflict')
    .map((cause) => ({ manager: /"([^"]+)"/.exec(cause.message ?? '')?.[1] ?? 'another manager', field: cause.field ?? '' }));
  return conflicts.length > 0 ? new ConflictError(object, conflicts) : undefined;
}

function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof ApiException && error.code === 404) return undefined;
  throw error;
}

function withAnnotation(object: KubernetesObject, key: string, value: string): KubernetesObject {
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, [key]: value } } };
}

const CREDENTIAL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomCredential(length: number): string {
  return Array.from({ length }, () => CREDENTIAL_ALPHABET[randomInt(CREDENTIAL_ALPHABET.length)]).join('');
}
