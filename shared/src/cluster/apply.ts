// apply: the rendered stack onto a cluster by server-side apply (field manager `loki-microservices`), phase
// by phase with the objects of a phase sent together; Secrets that render leaves out made here (secrets.ts:
// random credentials created once and never rotated, htpasswd files and certificates derived at every apply);
// objects of the stack that the render no longer contains pruned.
import { isDeepStrictEqual } from 'node:util';
import { ApiException, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError, ConflictError } from '../errors.js';
import { MANAGER, stackSelector } from '../render/kubernetes/common.js';
import type { StorageCredentials } from '../render/kubernetes/credentials.js';
import { generatedSecrets } from '../render/kubernetes/generated-secrets.js';
import { renderKubernetes, type PodAnnotations } from '../render/kubernetes/index.js';
import type { LokiStack } from '../spec/schema.js';
import { issuedByCertManager, tlsAnnotationsOf } from './certificates.js';
import type { Connection } from './connection.js';
import { APPLY_PHASES, holdsData, kindOf, listKinds, NAMESPACED_KINDS, phaseOf, servedGroupVersions } from './kinds.js';
import { DEFAULT_RETRY, statusOf, withRetry, type RetryPolicy } from './retry.js';
import { derivedSecrets, resolveGeneratedSecret, secretValues, type ResolvedSecret } from './secrets.js';

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
  /** The time generated certificates are judged at (renewed past 80% of their life). @default the current time */
  now?: Date;
  /** Told of every object as it is done. */
  onObject?: (object: AppliedObject) => void;
}

export interface ApplyResult {
  objects: AppliedObject[];
  /** Secrets apply generates: created now, given the keys they lacked, or kept as they were. */
  secrets: { name: string; action: 'created' | 'extended' | 'kept' }[];
  /** Whether this apply created the namespace. */
  namespaceCreated: boolean;
  dryRun: boolean;
}

/** One line for the log about a generated Secret. */
export function describeGeneratedSecret(secret: ApplyResult['secrets'][number]): string {
  const what = { created: 'created with random values', extended: 'given random values for the keys it lacked', kept: 'kept as it was' };
  return `Secret ${secret.name} ${what[secret.action]}`;
}

type Existing = Map<string, KubernetesObject>;
const keyOf = (kind: string | undefined, name: string | undefined) => `${kind}/${name}`;
const describe = (object: KubernetesObject) => `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;

export async function applyStack(connection: Connection, stack: LokiStack, options: ApplyOptions = {}): Promise<ApplyResult> {
  const retry = options.retry ?? DEFAULT_RETRY;
  const { namespace, existing, served } = await readCurrentState(connection, stack, retry);
  if (namespace?.metadata?.deletionTimestamp) {
    throw new ClusterError(`namespace "${stack.metadata.namespace}" is being deleted; wait until it is gone, then apply again`, 409, 'Conflict');
  }
  const generated = generatedSecrets(stack).map((secret) => resolveGeneratedSecret(secret, existing.get(keyOf('Secret', secret.name))));
  const current = (name: string) => (existing.has(keyOf('Secret', name)) ? secretValues(existing.get(keyOf('Secret', name))) : undefined);
  const derived = await derivedSecrets(connection, stack, current, generated, retry, options.now);
  const createdFor = namespace ? namespace.metadata?.annotations?.[NAMESPACE_OWNER_ANNOTATION] : stack.metadata.name;
  const render = (podAnnotations: PodAnnotations) => {
    const rendered = renderKubernetes(stack, { credentials: options.credentials, podAnnotations });
    const objects = rendered.objects.map((object) => (object.kind === 'Namespace' && createdFor ? withAnnotation(object, NAMESPACE_OWNER_ANNOTATION, createdFor) : object));
    return { objects: [...objects, ...derived.objects], derivedSecrets: rendered.derivedSecrets };
  };
  let desired = render(derived.podAnnotations);
  checkCrdsServed(desired.objects, served);

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
    if (round.includes(phaseOf('Deployment')) && stack.spec.tls.enabled && stack.spec.tls.provider === 'cert-manager' && !options.dryRun) {
      // The pods mount what cert-manager issues, and roll when it changes.
      desired = render(tlsAnnotationsOf(stack, await issuedByCertManager(connection, stack, retry)));
    }
    const objects = desired.objects.filter((object) => round.includes(phaseOf(object.kind ?? '')));
    const secrets = round.includes(phaseOf('Secret')) ? generated : [];
    const settled = await Promise.allSettled([
      ...objects.map((object) => (unsent(object) ? Promise.resolve(created(object)) : applyObject(connection, object, existing, options, retry)).then(report)),
      ...secrets.map((resolved) =>
        (unsent({ kind: 'Secret' }) ? Promise.resolve('created' as const) : ensureSecret(connection, resolved, options, retry)).then((action) => result.secrets.push({ name: resolved.secret.name, action })),
      ),
    ]);
    const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
  }

  if (options.prune ?? true) {
    const keep = new Set([
      ...desired.objects.map((o) => keyOf(o.kind, o.metadata?.name)),
      ...generated.map(({ secret }) => keyOf('Secret', secret.name)),
      // cert-manager's Secrets carry the stack's labels (so that destroy removes them) but are not ours to apply.
      ...desired.derivedSecrets.map((secret) => keyOf('Secret', secret.name)),
    ]);
    const prunable = (object: KubernetesObject) => object.kind !== 'Namespace' && (options.pruneVolumes || !holdsData(object));
    const stale = [...existing.values()].filter((object) => !keep.has(keyOf(object.kind, object.metadata?.name)) && prunable(object));
    await Promise.all(stale.map((object) => prune(connection, object, options, retry).then(report)));
  }
  return result;
}

/** Objects of a kind whose CRD the cluster lacks (cert-manager, the Prometheus Operator) stop apply before it sends anything. */
function checkCrdsServed(objects: KubernetesObject[], served: Set<string>): void {
  const missing = [...new Set(objects.filter((object) => kindOf(object.kind)?.crd && !served.has(object.apiVersion ?? '')).map((object) => object.kind!))];
  if (missing.length === 0) return;
  const needs = [...new Set(missing.map((kind) => kindOf(kind)!))];
  const fields = missing.some((kind) => kind === 'Issuer' || kind === 'Certificate') ? 'spec.tls.provider: cert-manager' : 'spec.monitoring.prometheusOperator';
  throw new ClusterError(
    `the cluster does not serve ${needs.map((k) => `${k.apiVersion} ${k.kind}`).join(', ')}, which ${fields} needs: install ${[...new Set(needs.map((k) => k.crd))].join(' and ')} (its CRDs), or turn the option off; nothing was applied`,
    404,
    'NotFound',
  );
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

/**
 * The namespace, the API groups the cluster serves, and every object that carries this stack's labels, listed
 * once per kind, concurrently (the kinds of a CRD once the cluster is known to serve it).
 */
async function readCurrentState(connection: Connection, stack: LokiStack, retry: RetryPolicy): Promise<{ namespace: KubernetesObject | undefined; existing: Existing; served: Set<string> }> {
  const name = stack.metadata.namespace;
  const selector = stackSelector(stack.metadata.name);
  const [namespace, served, builtIn] = await Promise.all([
    withRetry(`reading namespace ${name}`, () => connection.core.readNamespace({ name }).catch(notFoundAsUndefined), retry),
    servedGroupVersions(connection, retry),
    listKinds(connection, name, NAMESPACED_KINDS.filter((kind) => !kind.crd), selector, retry),
  ]);
  const custom = await listKinds(connection, name, NAMESPACED_KINDS.filter((kind) => kind.crd), selector, retry, served);
  const objects = [...builtIn, ...custom];
  const found = namespace ? [{ ...(namespace as KubernetesObject), kind: 'Namespace' }, ...objects] : objects;
  return { namespace: namespace as KubernetesObject | undefined, existing: new Map(found.map((object) => [keyOf(object.kind, object.metadata?.name), object])), served };
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

/** A Secret of random values: created once; an existing one only gains the keys it lacks, its values never change. */
async function ensureSecret(connection: Connection, resolved: ResolvedSecret, options: ApplyOptions, retry: RetryPolicy): Promise<'created' | 'extended' | 'kept'> {
  const { secret, values, added } = resolved;
  if (added.length === 0) return 'kept';
  const dryRun = options.dryRun ? 'All' : undefined;
  const describeSecret = `Secret ${secret.namespace}/${secret.name}`;
  const metadata = { name: secret.name, namespace: secret.namespace, labels: secret.labels };
  if (resolved.exists) {
    // A merge patch adds the missing keys and leaves every other key as it is.
    const body = { apiVersion: 'v1', kind: 'Secret', metadata, stringData: Object.fromEntries(added.map((key) => [key, values[key]!])) };
    await withRetry(`adding ${added.length} key(s) to ${describeSecret}`, () => connection.objects.patch(body, undefined, dryRun, MANAGER, undefined, PatchStrategy.MergePatch), retry);
    return 'extended';
  }
  const body = { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', stringData: values };
  try {
    await withRetry(`creating ${describeSecret}`, () => connection.objects.create(body, undefined, dryRun, MANAGER), retry);
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
