// apply: the rendered stack onto a cluster by server-side apply (field manager `loki-microservices`), phase
// by phase with the objects of a phase sent together; Secrets that render leaves out made here (secrets.ts:
// random credentials created once and never rotated, htpasswd files and certificates derived at every apply);
// objects of the stack that the render no longer contains pruned.
import { isDeepStrictEqual } from 'node:util';
import { ApiException, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError, ConflictError } from '../../errors.js';
import { assertStackRef } from '../../stack/names.js';
import { MANAGER } from '../../stack/names.js';
import { configMapName, CREATED_FOR_ANNOTATION, stackSelector, ZONE_LABEL } from '../render/common.js';
import { checkSchemaChange, schemaPeriodsOf, stackSchemaPeriods } from '../../stack/schema-periods.js';
import type { StorageCredentials } from '../render/credentials.js';
import { generatedSecrets } from '../render/generated-secrets.js';
import { discoveryNamespaces, discoveryServiceAccountName } from '../render/rules-discovery.js';
import { renderKubernetes, type PodAnnotations, type RenderedStack } from '../render/index.js';
import type { LokiStack } from '../../spec/schema.js';
import { issuedByCertManager, tlsAnnotationsOf } from './certificates.js';
import type { Connection } from './connection.js';
import { APPLY_PHASES } from '../render/apply-order.js';
import {
  createdFor,
  discoveryNamespacesOf,
  holdsData,
  listDiscoveryObjects,
  nameOf,
  objectKey,
  ownedBy,
  kindOf,
  listKinds,
  NAMESPACED_KINDS,
  notFoundAsUndefined,
  phaseOf,
  readNamespace,
  servedGroupVersions,
} from './kinds.js';
import { ImmutableFieldError, immutableChanges, immutableMessage, isInvalid } from './immutable.js';
import { acquireStackLock, type StackLock } from './lock.js';
import { recreateStatefulSet, recreationOf, type Recreation } from './recreate.js';
import { CLI_OPTION_NAMES, type OptionNames } from './option-names.js';
import { DEFAULT_RETRY, statusOf, withRetry, type RetryPolicy } from './retry.js';
import { secretValues } from './secret-values.js';
import { derivedSecrets, gatewayPasswords, resolveGeneratedSecret, type ResolvedSecret } from './secrets.js';
import { waveOf, wavesOf, type Wave } from '../../stack/waves.js';
import {
  drainIngesters,
  replacedIngesters,
  zoneMigrationRefusal,
  ZoneMigrationRefusedError,
} from './zone-migration.js';

const OBJECT_ACTIONS = ['created', 'configured', 'unchanged', 'pruned'] as const;
export type ObjectAction = (typeof OBJECT_ACTIONS)[number];

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
  /**
   * Make existing objects of the names the stack renders, which this tool did not create, part of the stack
   * (changed now, pruned and destroyed with it later). Without it they stop apply before anything is sent.
   * @default false
   */
  adopt?: boolean;
  /** Delete objects of this stack that the render no longer contains. @default true */
  prune?: boolean;
  /** Also prune PersistentVolumeClaims (their data is lost). @default false */
  pruneVolumes?: boolean;
  /** Transient failures are retried by this policy (give it a deadline to survive an API server away for a while). */
  retry?: RetryPolicy;
  /**
   * The time generated certificates are judged at (renewed past 80% of their life), and the schema periods
   * (schema-periods.ts). @default the current time
   */
  now?: Date;
  /** Accept a new schema period that starts in less than 24 h (every Loki pod restarts before it). @default false */
  allowSchemaWithin24h?: boolean;
  /**
   * A StatefulSet change Kubernetes refuses in place (volume size or class, serviceName…) is made by deleting
   * the StatefulSet with its pods left running and creating it again (recreate.ts); a larger volume size also
   * expands each claim, when its StorageClass allows expansion (checked before anything is written).
   * @default false
   */
  recreateStatefulSets?: boolean;
  /**
   * Switch a running stack's ingesters to zone-aware StatefulSets (zone-migration.ts): without it, apply refuses
   * the switch before anything is sent. The rollout then goes in waves, the old StatefulSet pruned last.
   * @default false
   */
  migrateZones?: boolean;
  /** How messages name the options they advise. @default CLI_OPTION_NAMES */
  optionNames?: OptionNames;
  /**
   * Checks of the caller's (reads only), made together with apply's first reads: their failure stops apply
   * before anything is sent.
   */
  checkFirst?: () => Promise<unknown>;
  /** Told of every object as it is done. */
  onObject?: (object: AppliedObject) => void;
  /**
   * In a dry run, told of each object's live and would-be state, of each volume pruning would keep, and of each
   * update the API refuses as immutable (which then does not fail the run): what `plan` compares.
   */
  onPreview?: (preview: ObjectPreview) => void;
  /**
   * The rest of the run, done while the stack's lock is still held (waiting, smoke-testing), so that no other
   * run changes the stack before it is over. Its failure is the apply's.
   */
  thenWhileLocked?: (result: ApplyResult) => Promise<void>;
  /**
   * Roll the Loki and gateway workloads out in waves (waves.ts) rather than all at once: everything else first,
   * then one wave's workloads at a time, each followed by `afterWave` (still under the lock); the prune at the
   * end. Ignored in a dry run and for a new stack.
   */
  waves?: WaveRollout;
}

export interface WaveRollout {
  /** `upgrade`: only when spec.version differs from the version the live Loki workloads run; `always`: any change. */
  when: 'upgrade' | 'always';
  /** Told once a wave's workloads are applied; the next wave is applied when it is done, none if it throws. */
  afterWave: (wave: AppliedWave) => Promise<void>;
}

/** A wave whose workloads were just applied, in a rollout from one Loki version (null: unknown) to another. */
export interface AppliedWave extends Wave {
  /** How many waves the rollout has. */
  total: number;
  from: string | null;
  to: string;
  objects: AppliedObject[];
}

/** An object as a dry run sees it: what it is, and what apply would make of it, keep, or be refused. */
export type ObjectPreview = { kind: string; name: string } & (
  | { live?: KubernetesObject; next: KubernetesObject }
  | { live: KubernetesObject; refusal: string }
  | { live: KubernetesObject; kept: true }
  | { live: KubernetesObject; next: KubernetesObject; recreation: Recreation }
);

export interface ApplyResult {
  objects: AppliedObject[];
  /** Secrets apply generates: created now, given the keys they lacked, or kept as they were. */
  secrets: { name: string; action: 'created' | 'extended' | 'kept' }[];
  /** Objects that existed without having been created by this tool, made part of the stack by `adopt`. */
  adopted: { kind: string; name: string }[];
  /** Whether this apply created the namespace. */
  namespaceCreated: boolean;
  /** StatefulSets deleted with their pods left running and created again (`recreateStatefulSets`), with their claims expanded. */
  recreated?: Recreation[];
  dryRun: boolean;
}

/** How many objects an apply created, configured, left unchanged and pruned (zeros included, in that order). */
export function actionCounts(result: ApplyResult): Record<ObjectAction, number> {
  return Object.fromEntries(
    OBJECT_ACTIONS.map((action) => [action, result.objects.filter((object) => object.action === action).length]),
  ) as Record<ObjectAction, number>;
}

/** One line for the log about a generated Secret. */
export function describeGeneratedSecret(secret: ApplyResult['secrets'][number]): string {
  const what = {
    created: 'created with random values',
    extended: 'given random values for the keys it lacked',
    kept: 'kept as it was',
  };
  return `Secret ${secret.name} ${what[secret.action]}`;
}

/** One line for the log about an object `adopt` made part of the stack. */
export const describeAdoption = (object: { kind: string; name: string }) =>
  `${object.kind} ${object.name} adopted: it is part of the stack now`;

/** Objects of the names the stack renders exist and were not created by this tool for this stack: nothing was sent. */
export class ForeignObjectsError extends ClusterError {
  constructor(
    stack: LokiStack,
    readonly objects: { kind: string; name: string }[],
    adopt: string,
  ) {
    const list = objects.map((object) => `${object.kind} ${object.name}`).join(', ');
    // Discovery's Roles and RoleBindings are named `<namespace>/<name>`.
    const where = objects.some((object) => object.name.includes('/'))
      ? ''
      : ` in namespace ${stack.metadata.namespace}`;
    super(
      `${list} already exist${objects.length === 1 ? 's' : ''}${where} and ${objects.length === 1 ? 'was' : 'were'} not created by loki-microservices for stack "${stack.metadata.name}": ` +
        `apply would take them over and destroy would delete them, so nothing was applied. Delete or rename them, choose another stack name or namespace, or re-run with ${adopt} to make them part of the stack.`,
      409,
      'AlreadyExists',
    );
    this.name = 'ForeignObjectsError';
  }
}

type Existing = Map<string, KubernetesObject>;
const keyOf = (kind: string | undefined, name: string | undefined) => `${kind}/${name}`;
const describe = (object: KubernetesObject) =>
  `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`;

/**
 * Applies the stack. Before anything is sent: the names are checked, the render must succeed, the cluster must
 * serve the kinds it needs. A real apply then makes sure the namespace exists and holds the stack's lock
 * (lock.ts) for the rest, and for `thenWhileLocked`, so that it reads and writes the stack's Secrets alone.
 */
export async function applyStack(
  connection: Connection,
  stack: LokiStack,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  assertStackRef(stack.metadata);
  const retry = options.retry ?? DEFAULT_RETRY;
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  const rendered = renderKubernetes(stack, { credentials: options.credentials });
  const otherDiscoveryNamespaces = discoveryNamespaces(stack).filter((name) => name !== ref.namespace);
  const [namespace, served, , liveConfig, readNamespaces] = await Promise.all([
    readNamespace(connection, ref.namespace, retry),
    servedGroupVersions(connection, retry),
    // Custom resources' lists only once the cluster is known to serve them (checkCrdsServed).
    connection.objects.discover(rendered.objects.filter((object) => !kindOf(object.kind ?? '')?.crd)),
    // The live Loki config: its schema periods may only be appended to (none: a new stack).
    readLokiConfig(connection, stack, retry),
    // The other namespaces rules discovery reads: each must be there for its Role.
    Promise.all(otherDiscoveryNamespaces.map((name) => readNamespace(connection, name, retry))),
    options.checkFirst?.(),
  ]);
  const missing = otherDiscoveryNamespaces.filter((_, index) => !readNamespaces[index]);
  if (missing.length > 0)
    throw new ClusterError(
      `spec.rules.discovery.namespaces: ${missing.map((name) => `namespace "${name}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist: create ${missing.length === 1 ? 'it' : 'them'}, or remove ${missing.length === 1 ? 'it' : 'them'} from the list; nothing was applied`,
      404,
      'NotFound',
    );
  if (namespace?.metadata?.deletionTimestamp) {
    throw new ClusterError(
      `namespace "${ref.namespace}" is being deleted; wait until it is gone, then apply again`,
      409,
      'Conflict',
    );
  }
  checkCrdsServed(rendered.objects, served);
  checkSchemaChange(schemaPeriodsOf(liveConfig), stackSchemaPeriods(stack), options.now, {
    allowWithin24h: options.allowSchemaWithin24h,
    allowOption: optionNamesOf(options).allowNearSchema,
  });
  // The user's own gateway passwords must be there, with every user, before anything is sent.
  if (stack.spec.gateway.enabled && stack.spec.gateway.passwordsSecret)
    await gatewayPasswords(connection, stack, [], retry);
  const result: ApplyResult = {
    objects: [],
    secrets: [],
    adopted: [],
    namespaceCreated: !namespace,
    dryRun: !!options.dryRun,
  };
  const report = (object: AppliedObject) => {
    result.objects.push(object);
    options.onObject?.(object);
  };
  if (options.dryRun) {
    await applyObjects(connection, stack, options, {
      namespace: namespace ? 'existing' : 'absent',
      namespaceObject: namespace,
      rendered,
      served,
      retry,
      report,
      result,
    });
    await options.thenWhileLocked?.(result);
    return result;
  }
  // The lock lives in the namespace: a new namespace is made first, as the first phase would make it.
  let made = false;
  if (!namespace) {
    // Not even the namespace is made for a stack whose discovery Roles elsewhere would take over someone else's.
    const elsewhere = rendered.objects.filter(
      (object) => object.kind !== 'Namespace' && object.metadata?.namespace !== ref.namespace,
    );
    const foreign = await foreignObjects(connection, stack, elsewhere, new Map(), retry);
    if (foreign.length > 0 && !options.adopt)
      throw new ForeignObjectsError(stack, foreign, optionNamesOf(options).adopt);
    const applied = await applyObject(
      connection,
      withAnnotation(rendered.objects[0]!, CREATED_FOR_ANNOTATION, ref.name),
      new Map(),
      options,
      retry,
    );
    report(applied);
    // Someone else's, made since we looked, is looked into like any existing namespace.
    made = applied.action === 'created';
  }
  const lock = await acquireStackLock(connection, ref, 'apply', retry);
  try {
    await applyObjects(connection, stack, options, {
      namespace: made ? 'made' : 'existing',
      namespaceObject: namespace,
      rendered,
      served,
      retry,
      report,
      result,
      lock,
    });
    await options.thenWhileLocked?.(result);
    return result;
  } finally {
    await lock.release();
  }
}

/** The Loki config YAML of the stack's live `<name>-config` ConfigMap, if there is one. */
function readLokiConfig(connection: Connection, stack: LokiStack, retry: RetryPolicy): Promise<string | undefined> {
  const { namespace } = stack.metadata;
  const name = configMapName(stack);
  return withRetry(
    `reading ConfigMap ${namespace}/${name}`,
    () =>
      connection.core
        .readNamespacedConfigMap({ name, namespace })
        .then((configMap) => configMap.data?.['config.yaml'], notFoundAsUndefined),
    retry,
  );
}

interface Run {
  /** The namespace before this apply: there, made by it already, or absent (in a dry run). */
  namespace: 'existing' | 'made' | 'absent';
  namespaceObject: KubernetesObject | undefined;
  /** The stack's objects, rendered before anything was sent (their names are what adoption looks for). */
  rendered: RenderedStack;
  served: Set<string>;
  retry: RetryPolicy;
  report: (object: AppliedObject) => void;
  result: ApplyResult;
  lock?: StackLock;
}

async function applyObjects(connection: Connection, stack: LokiStack, options: ApplyOptions, run: Run): Promise<void> {
  const { retry, report, result } = run;
  // A namespace that did not exist before this run holds nothing of the stack's yet, nor of anyone else's: only
  // the other namespaces rules discovery reads may.
  const existing =
    run.namespace === 'existing'
      ? await readStackObjects(connection, stack, retry, run.served)
      : new Map<string, KubernetesObject>();
  if (run.namespaceObject)
    existing.set(keyOf('Namespace', stack.metadata.namespace), { ...run.namespaceObject, kind: 'Namespace' });
  const generated = generatedSecrets(stack);
  const elsewhere = (object: KubernetesObject) => object.metadata?.namespace !== stack.metadata.namespace;
  const names =
    run.namespace === 'existing'
      ? [
          ...run.rendered.objects.filter((object) => object.kind !== 'Namespace'),
          ...generated.map((secret) => ({ kind: 'Secret', metadata: { name: secret.name } })),
        ]
      : run.rendered.objects.filter((object) => object.kind !== 'Namespace' && elsewhere(object));
  result.adopted = await foreignObjects(connection, stack, names, existing, retry);
  if (result.adopted.length > 0 && !options.adopt)
    throw new ForeignObjectsError(stack, result.adopted, optionNamesOf(options).adopt);
  const replaced = replacedIngesters(stack, existing);
  if (replaced.length > 0 && !options.dryRun && !options.migrateZones)
    throw new ZoneMigrationRefusedError(
      zoneMigrationRefusal(stack, replaced.map(nameOf), optionNamesOf(options).migrateZones),
    );
  if (run.namespace === 'existing') {
    if (!options.dryRun) {
      const recreations = await refuseImmutableChanges(
        connection,
        stack,
        run.rendered.objects,
        existing,
        options,
        retry,
      );
      for (const { live, recreation } of recreations) {
        await recreateStatefulSet(connection, live, recreation, retry);
        (result.recreated ??= []).push(recreation);
      }
    }
  }
  // Zone-aware ingesters roll one zone at a time, whatever the change: two zones rolling together could take two
  // copies of a stream at once. A migration so also has the new ingesters ready before the old ones leave.
  const inWaves = stack.spec.zoneAwareness.enabled || replaced.length > 0;
  const when = inWaves && options.waves ? 'always' : options.waves?.when;
  const rollout = when && !options.dryRun ? rolloutOf(stack, existing, when) : undefined;
  const resolved = generated.map((secret) =>
    resolveGeneratedSecret(secret, existing.get(keyOf('Secret', secret.name))),
  );
  const current = (name: string) =>
    existing.has(keyOf('Secret', name)) ? secretValues(existing.get(keyOf('Secret', name))) : undefined;
  const derived = await derivedSecrets(connection, stack, current, resolved, retry, options.now);
  // The namespace is changed only if this tool made it for this stack: never the labels of someone else's.
  const touchNamespace =
    run.namespace === 'absent' ||
    (run.namespace === 'existing' && createdFor(run.namespaceObject, stack.metadata.name));
  const render = (podAnnotations: PodAnnotations) => {
    // Without annotations only apply knows, the stack renders as it did before anything was sent.
    const rendered =
      Object.keys(podAnnotations).length === 0
        ? run.rendered
        : renderKubernetes(stack, { credentials: options.credentials, podAnnotations });
    const objects = rendered.objects.flatMap((object) =>
      object.kind !== 'Namespace'
        ? [object]
        : touchNamespace
          ? [withAnnotation(object, CREATED_FOR_ANNOTATION, stack.metadata.name)]
          : [],
    );
    return { objects: [...objects, ...derived.objects], derivedSecrets: rendered.derivedSecrets };
  };
  let desired = render(derived.podAnnotations);

  // A dry run into a namespace that does not exist yet: the API refuses namespaced objects there (404 for the
  // namespace), and each of them would be created, so they are reported as such without being sent.
  const unsent = (object: KubernetesObject) =>
    run.namespace === 'absent' && object.kind !== 'Namespace' && !elsewhere(object);
  const created = (object: KubernetesObject): AppliedObject => ({
    kind: object.kind ?? '',
    name: nameOf(object),
    action: 'created',
  });
  /** Sends objects and Secrets together; the objects' outcomes, once every one of them is done. */
  const send = async (objects: KubernetesObject[], secrets: ResolvedSecret[]): Promise<AppliedObject[]> => {
    const applied: AppliedObject[] = [];
    const settled = await Promise.allSettled([
      ...objects.map((object) =>
        (unsent(object)
          ? Promise.resolve(created(object))
          : replaceAutoscaler(connection, stack, object, existing, options, retry).then(() =>
              applyObject(connection, object, existing, options, retry, result),
            )
        ).then((outcome) => {
          applied.push(outcome);
          report(outcome);
        }),
      ),
      ...secrets.map((secret) =>
        (run.namespace === 'absent'
          ? Promise.resolve('created' as const)
          : ensureSecret(connection, secret, stack, options, retry)
        ).then((action) => result.secrets.push({ name: secret.secret.name, action })),
      ),
    ]);
    const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    return applied;
  };
  for (const round of roundsOf(run.namespace !== 'absent')) {
    await run.lock?.check();
    if (
      round.includes(phaseOf('Deployment')) &&
      stack.spec.tls.enabled &&
      stack.spec.tls.provider === 'cert-manager' &&
      !options.dryRun
    ) {
      // The pods mount what cert-manager issues, and roll when it changes.
      desired = render(tlsAnnotationsOf(stack, await issuedByCertManager(connection, stack, retry)));
    }
    const objects = desired.objects.filter((object) => round.includes(phaseOf(object.kind ?? '')));
    const secrets = round.includes(phaseOf('Secret')) ? resolved : [];
    if (!rollout || !round.includes(phaseOf('Deployment'))) {
      await send(objects, secrets);
      continue;
    }
    // Everything that is not a Loki or gateway workload first, then wave by wave.
    const waveOfObject = (object: KubernetesObject) =>
      object.kind === 'Deployment' || object.kind === 'StatefulSet'
        ? waveOf(rollout.waves, object.metadata?.labels?.[COMPONENT_LABEL] ?? '', object.metadata?.labels?.[ZONE_LABEL])
        : undefined;
    await send(
      objects.filter((object) => !waveOfObject(object)),
      secrets,
    );
    for (const wave of rollout.waves) {
      await run.lock?.check();
      const applied = await send(
        objects.filter((object) => waveOfObject(object)?.number === wave.number),
        [],
      );
      await options.waves!.afterWave({
        ...wave,
        total: rollout.waves.length,
        from: rollout.from,
        to: rollout.to,
        objects: applied,
      });
    }
  }

  if (options.prune ?? true) {
    await run.lock?.check();
    const keep = new Set([
      ...desired.objects.map((o) => objectKey(o)),
      ...generated.map((secret) => keyOf('Secret', secret.name)),
      // cert-manager's Secrets carry the stack's labels (so that destroy removes them) but are not ours to apply.
      ...desired.derivedSecrets.map((secret) => keyOf('Secret', secret.name)),
    ]);
    const ours = (object: KubernetesObject) => object.kind !== 'Namespace' && ownedBy(object, stack.metadata);
    const stale = [...existing.values()].filter((object) => !keep.has(objectKey(object)) && ours(object));
    const [kept, prunable] = partition(stale, (object) => !options.pruneVolumes && holdsData(object));
    if (options.dryRun)
      for (const object of kept)
        options.onPreview?.({ kind: object.kind ?? '', name: nameOf(object), live: object, kept: true });
    // The replaced ingesters leave one by one, StatefulSet after StatefulSet, before the prune deletes them.
    if (!options.dryRun)
      for (const ingesters of replaced.filter((object) => prunable.includes(object)))
        await drainIngesters(connection, ingesters, retry);
    await Promise.all(prunable.map((object) => prune(connection, object, options, retry).then(report)));
  }
}

const COMPONENT_LABEL = 'app.kubernetes.io/component';
const VERSION_LABEL = 'app.kubernetes.io/version';

/**
 * Whether this apply rolls out in waves, and from which version: not for a new stack (no Loki workload yet); for
 * `upgrade`, only when a live Loki workload runs another version than the spec's (after a rollout that stopped
 * half-way, the version the later waves still run).
 */
function rolloutOf(
  stack: LokiStack,
  existing: Existing,
  when: WaveRollout['when'],
): { from: string | null; to: string; waves: Wave[] } | undefined {
  const lokiWorkloads = [...existing.values()].filter(
    (object) =>
      (object.kind === 'Deployment' || object.kind === 'StatefulSet') &&
      object.metadata?.labels?.['app.kubernetes.io/name'] === 'loki' &&
      createdFor(object, stack.metadata.name),
  );
  if (lokiWorkloads.length === 0) return undefined;
  const waves = wavesOf(stack);
  const order = (object: KubernetesObject) =>
    waveOf(waves, object.metadata?.labels?.[COMPONENT_LABEL] ?? '', object.metadata?.labels?.[ZONE_LABEL])?.number ??
    Number.MAX_SAFE_INTEGER;
  const older = lokiWorkloads
    .filter((object) => object.metadata?.labels?.[VERSION_LABEL] !== stack.spec.version)
    .sort((a, b) => order(b) - order(a))[0];
  if (!older && when === 'upgrade') return undefined;
  return { from: older?.metadata?.labels?.[VERSION_LABEL] ?? stack.spec.version, to: stack.spec.version, waves };
}

/**
 * The objects of the stack's names that exist without having been created for this stack: those listed by
 * the stack's labels without our mark, and those a GET finds among the names the labels did not list (added
 * to `existing`, so that they are reported as changed rather than created).
 */
async function foreignObjects(
  connection: Connection,
  stack: LokiStack,
  wanted: KubernetesObject[],
  existing: Existing,
  retry: RetryPolicy,
): Promise<{ kind: string; name: string }[]> {
  const unlisted = wanted.filter((object) => !existing.has(objectKey(object)));
  const found = await Promise.all(
    unlisted.map((object) => {
      const kind = kindOf(object.kind)!;
      const target = {
        apiVersion: kind.apiVersion,
        kind: kind.kind,
        metadata: { name: object.metadata!.name!, namespace: object.metadata?.namespace ?? stack.metadata.namespace },
      };
      return withRetry(
        `reading ${describe(target)}`,
        () => connection.objects.read(target).catch(notFoundAsUndefined),
        retry,
      );
    }),
  );
  for (const object of found) if (object) existing.set(objectKey(object), object);
  return wanted
    .map((object) => existing.get(objectKey(object)))
    .filter((object): object is KubernetesObject => !!object && !ownedBy(object, stack.metadata))
    .map((object) => ({ kind: object.kind ?? '', name: nameOf(object) }));
}

/** The spec option that renders each kind served only with its CRD. */
const OPTION_OF_CRD_KIND: Record<string, string> = {
  Issuer: 'spec.tls.provider: cert-manager',
  Certificate: 'spec.tls.provider: cert-manager',
  PodMonitor: 'spec.monitoring.prometheusOperator',
  PrometheusRule: 'spec.monitoring.prometheusOperator',
  HTTPRoute: 'spec.gateway.expose.httpRoute',
  ScaledObject: 'autoscaling.mode: keda (the CRD scaledobjects.keda.sh)',
};

/** A kind that must be served for an object to work, and the option that asked for it. */
interface CrdNeed {
  kind: string;
  option: string;
}

function crdNeeds(object: KubernetesObject): CrdNeed[] {
  if (kindOf(object.kind)?.crd) return [{ kind: object.kind!, option: OPTION_OF_CRD_KIND[object.kind!]! }];
  // An Ingress naming an issuer gets its certificate from cert-manager's ingress-shim, as a Certificate.
  const annotations = Object.keys(object.metadata?.annotations ?? {});
  if (object.kind === 'Ingress' && annotations.some((key) => key.startsWith('cert-manager.io/')))
    return [{ kind: 'Certificate', option: 'spec.gateway.expose.ingress.tls.issuerRef' }];
  return [];
}

/** Objects of a kind whose CRD the cluster lacks (cert-manager, the Prometheus Operator, Gateway API, KEDA) stop apply before it sends anything. */
function checkCrdsServed(objects: KubernetesObject[], served: Set<string>): void {
  const missing = objects.flatMap(crdNeeds).filter((need) => !served.has(kindOf(need.kind)!.apiVersion));
  if (missing.length === 0) return;
  const needs = [...new Set(missing.map((need) => kindOf(need.kind)!))];
  const fields = [...new Set(missing.map((need) => need.option))].join(' and ');
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

/** Every object that carries this stack's labels, listed once per kind, concurrently (CRD kinds only where served). */
async function readStackObjects(
  connection: Connection,
  stack: LokiStack,
  retry: RetryPolicy,
  served: Set<string>,
): Promise<Existing> {
  const objects = await listKinds(
    connection,
    stack.metadata.namespace,
    NAMESPACED_KINDS,
    stackSelector(stack.metadata.name),
    retry,
    served,
  );
  // Discovery's Roles and RoleBindings: where it reads now, and where it read before (those to prune).
  const serviceAccount = objects.find(
    (object) =>
      object.kind === 'ServiceAccount' &&
      object.metadata?.name === discoveryServiceAccountName(stack) &&
      createdFor(object, stack.metadata.name),
  );
  const namespaces = [...discoveryNamespaces(stack), ...discoveryNamespacesOf(serviceAccount)];
  const discovery =
    namespaces.length > 0 ? await listDiscoveryObjects(connection, stack.metadata, namespaces, retry) : [];
  return new Map([...objects, ...discovery].map((object) => [objectKey(object), object]));
}

/**
 * client-node serializes a known kind through its model, which names a few fields differently from the
 * Kubernetes JSON (NetworkPolicy ingress `from` is `_from`) and drops what it does not know: rename them.
 */
function clientNodeForm(object: KubernetesObject): KubernetesObject {
  if (object.kind !== 'NetworkPolicy') return object;
  const policy = object as KubernetesObject & { spec: { ingress?: Record<string, unknown>[] } };
  const ingress = policy.spec.ingress?.map(({ from, ...rule }) =>
    from === undefined ? rule : { ...rule, _from: from },
  );
  return { ...policy, spec: { ...policy.spec, ...(ingress ? { ingress } : {}) } } as KubernetesObject;
}

async function applyObject(
  connection: Connection,
  object: KubernetesObject,
  existing: Existing,
  options: ApplyOptions,
  retry: RetryPolicy,
  result?: ApplyResult,
): Promise<AppliedObject> {
  const before = existing.get(objectKey(object));
  const identity = { kind: object.kind ?? '', name: nameOf(object) };
  let applied: KubernetesObject;
  try {
    const sent = await handOverReplicas(connection, object, before, options, retry);
    applied = await serverSideApply(connection, sent, options, retry).catch((error: unknown) => {
      if (!(takesReplicasBack(object, existing) && onlyReplicasConflict(error))) throw error;
      return serverSideApply(connection, sent, { ...options, forceConflicts: true }, retry);
    });
  } catch (error) {
    if (!(before && options.dryRun && options.onPreview && isInvalid(error))) throw error;
    const fields = immutableChanges(object, before);
    const { recreation, refusals } = options.recreateStatefulSets
      ? await recreationOf(connection, object, before, fields, retry)
      : { recreation: undefined, refusals: [] };
    if (recreation) {
      // What the StatefulSet created again would be: its immutable fields as they are, to tell the pods that roll.
      const next = await serverSideApply(connection, withLiveFields(object, before, fields), options, retry);
      options.onPreview({ ...identity, live: before, next, recreation });
      (result ? (result.recreated ??= []) : []).push(recreation);
    } else {
      const message =
        refusals.length > 0 ? refusals.join('; ') : immutableMessage(object, before, recreateOption(options));
      options.onPreview({ ...identity, live: before, refusal: message });
    }
    return { ...identity, action: 'configured' };
  }
  if (options.dryRun) options.onPreview?.({ ...identity, live: before, next: applied });
  const action: ObjectAction = !before
    ? 'created'
    : unchanged(before, applied, !!options.dryRun)
      ? 'unchanged'
      : 'configured';
  return { ...identity, action };
}

/**
 * The field manager that holds a Deployment's replicas while they pass from us to its autoscaler: applying
 * without `spec.replicas` a field only we own would reset it to 1 (Kubernetes' "Transferring ownership": another
 * manager first applies the live value, then we stop applying it).
 */
const HANDOVER_MANAGER = 'loki-microservices-handover';

const replicasOf = (object: KubernetesObject | undefined) =>
  (object as { spec?: { replicas?: number } } | undefined)?.spec?.replicas;

/** Whether our Apply entry in the live object's managedFields owns `spec.replicas`. */
function ownsReplicas(live: KubernetesObject): boolean {
  return (live.metadata?.managedFields ?? []).some((entry) => {
    const spec = (entry.fieldsV1 as Record<string, Record<string, unknown>> | undefined)?.['f:spec'];
    return entry.manager === MANAGER && entry.operation === 'Apply' && !!spec && 'f:replicas' in spec;
  });
}

/**
 * A Deployment that stops carrying replicas (autoscaling switched on) while we still own them: the handover
 * manager applies the live count first, so that our apply leaves it. A dry run cannot persist that step, so it
 * previews with the live count instead.
 */
async function handOverReplicas(
  connection: Connection,
  object: KubernetesObject,
  live: KubernetesObject | undefined,
  options: ApplyOptions,
  retry: RetryPolicy,
): Promise<KubernetesObject> {
  const count = replicasOf(live);
  if (object.kind !== 'Deployment' || replicasOf(object) !== undefined || !live || count === undefined) return object;
  if (!ownsReplicas(live)) return object;
  if (options.dryRun)
    return { ...object, spec: { ...(object as { spec?: object }).spec, replicas: count } } as KubernetesObject;
  const claim = {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace },
    spec: { replicas: count },
  };
  await withRetry(
    `handing the replicas of ${describe(object)} over to its autoscaler`,
    () => connection.objects.patch(claim, undefined, undefined, HANDOVER_MANAGER, false, PatchStrategy.ServerSideApply),
    retry,
  );
  return object;
}

const AUTOSCALER_KINDS = ['HorizontalPodAutoscaler', 'ScaledObject'];

/**
 * Before an autoscaler is applied, our autoscaler of the other kind for the same Deployment (`mode` changed)
 * goes: KEDA's admission webhook refuses a ScaledObject for a workload another HPA scales, and two
 * autoscalers would fight meanwhile. The prune at the end reports it.
 */
async function replaceAutoscaler(
  connection: Connection,
  stack: LokiStack,
  object: KubernetesObject,
  existing: Existing,
  options: ApplyOptions,
  retry: RetryPolicy,
): Promise<void> {
  if (!AUTOSCALER_KINDS.includes(object.kind ?? '')) return;
  const otherKind = AUTOSCALER_KINDS.find((kind) => kind !== object.kind)!;
  const previous = existing.get(keyOf(otherKind, object.metadata?.name));
  if (ownedBy(previous, stack.metadata)) await prune(connection, previous!, options, retry);
}

/** A Deployment that carries replicas again while its autoscaler is live: autoscaling switched off. */
const takesReplicasBack = (object: KubernetesObject, existing: Existing) =>
  object.kind === 'Deployment' &&
  replicasOf(object) !== undefined &&
  AUTOSCALER_KINDS.some((kind) => existing.has(keyOf(kind, object.metadata?.name)));

/** The autoscaler (or the handover manager) owns the replicas we take back; any other conflict stands. */
const onlyReplicasConflict = (error: unknown) =>
  error instanceof ConflictError && error.conflicts.every((conflict) => conflict.field === '.spec.replicas');

function serverSideApply(
  connection: Connection,
  object: KubernetesObject,
  options: ApplyOptions,
  retry: RetryPolicy,
  dryRun = options.dryRun,
): Promise<KubernetesObject> {
  return withRetry(
    `applying ${describe(object)}${dryRun && !options.dryRun ? ' (dry run)' : ''}`,
    () =>
      connection.objects
        .patch(
          clientNodeForm(object),
          undefined,
          dryRun ? 'All' : undefined,
          MANAGER,
          options.forceConflicts ?? false,
          PatchStrategy.ServerSideApply,
        )
        .catch((error: unknown) => {
          throw conflictOf(error, describe(object), optionNamesOf(options).forceConflicts) ?? error;
        }),
    retry,
  );
}

/**
 * Our StatefulSets whose rendered spec changes a field Kubernetes does not update in place: confirmed by a dry
 * run (the API server has the last word: it normalizes quantities, for one) before anything of the stack is
 * changed, so that apply stops with what the change would take rather than half-way. Without such a change
 * nothing is sent. With `recreateStatefulSets`, the StatefulSets to recreate instead, once every one of them
 * was found possible.
 */
async function refuseImmutableChanges(
  connection: Connection,
  stack: LokiStack,
  rendered: KubernetesObject[],
  existing: Existing,
  options: ApplyOptions,
  retry: RetryPolicy,
): Promise<{ live: KubernetesObject; recreation: Recreation }[]> {
  const suspects = rendered.flatMap((object) => {
    const live = existing.get(objectKey(object));
    return live && createdFor(live, stack.metadata.name) && immutableChanges(object, live).length > 0
      ? [{ object, live }]
      : [];
  });
  const refused = await Promise.all(
    suspects.map(({ object, live }) =>
      serverSideApply(connection, object, options, retry, true).then(
        () => undefined,
        // Other failures of the trial are left to the apply itself, which says them in its own words.
        (error: unknown) => (isInvalid(error) ? { object, live } : undefined),
      ),
    ),
  );
  const immutable = refused.filter((found) => found !== undefined);
  if (!options.recreateStatefulSets) {
    const messages = immutable.map(({ object, live }) => immutableMessage(object, live, recreateOption(options)));
    if (messages.length > 0) throw new ImmutableFieldError(messages);
    return [];
  }
  const checked = await Promise.all(
    immutable.map(async ({ object, live }) => ({
      live,
      ...(await recreationOf(connection, object, live, immutableChanges(object, live), retry)),
    })),
  );
  const refusals = checked.flatMap((check) => check.refusals);
  if (refusals.length > 0) throw new ImmutableFieldError(refusals);
  return checked.flatMap(({ live, recreation }) => (recreation ? [{ live, recreation }] : []));
}

/** The option that recreates StatefulSets, as the surface names it (none: the message says how by hand). */
const recreateOption = (options: ApplyOptions) => optionNamesOf(options).recreateStatefulSets;

/** The rendered object with the immutable fields it changes as they are live (the top-level spec fields). */
function withLiveFields(object: KubernetesObject, live: KubernetesObject, fields: string[]): KubernetesObject {
  const spec = { ...(object as { spec?: Record<string, unknown> }).spec };
  const liveSpec = (live as { spec?: Record<string, unknown> }).spec ?? {};
  for (const field of new Set(fields.map((path) => /^spec\.(\w+)/.exec(path)?.[1] ?? ''))) {
    if (!field) continue;
    if (liveSpec[field] === undefined) delete spec[field];
    else spec[field] = liveSpec[field];
  }
  return { ...object, spec } as KubernetesObject;
}

/**
 * Whether the apply left the object as it was: the same resourceVersion, or else the same content outside
 * status and bookkeeping (a dry run answers with the stored resourceVersion whatever it would change, and
 * controllers write status between our read and our apply).
 */
function unchanged(before: KubernetesObject, after: KubernetesObject, dryRun: boolean): boolean {
  if (!dryRun && before.metadata?.resourceVersion === after.metadata?.resourceVersion) return true;
  return isDeepStrictEqual(contentOf(before), contentOf(after));
}

/** An object's content: what it holds outside status and the API server's bookkeeping. */
export function contentOf(object: KubernetesObject): Record<string, unknown> {
  const {
    apiVersion: _apiVersion,
    kind: _kind,
    status: _status,
    metadata,
    ...rest
  } = JSON.parse(JSON.stringify(object)) as KubernetesObject & { status?: unknown };
  const {
    resourceVersion: _resourceVersion,
    managedFields: _managedFields,
    generation: _generation,
    ...identity
  } = metadata ?? {};
  return { metadata: identity, ...rest };
}

/**
 * A Secret of random values: created once; an existing one only gains the keys it lacks (and, adopted, our
 * labels and mark), its values never change.
 */
async function ensureSecret(
  connection: Connection,
  resolved: ResolvedSecret,
  stack: LokiStack,
  options: ApplyOptions,
  retry: RetryPolicy,
): Promise<'created' | 'extended' | 'kept'> {
  const { secret, values, added } = resolved;
  const adopting = resolved.current !== undefined && !createdFor(resolved.current, stack.metadata.name);
  if (added.length === 0 && !adopting) return 'kept';
  const dryRun = options.dryRun ? 'All' : undefined;
  const describeSecret = `Secret ${secret.namespace}/${secret.name}`;
  const metadata = {
    name: secret.name,
    namespace: secret.namespace,
    labels: secret.labels,
    annotations: { [CREATED_FOR_ANNOTATION]: stack.metadata.name },
  };
  if (resolved.current) {
    // A merge patch adds the missing keys and leaves every other key as it is.
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata,
      stringData: Object.fromEntries(added.map((key) => [key, values[key]!])),
    };
    await withRetry(
      `adding ${added.length} key(s) to ${describeSecret}`,
      () => connection.objects.patch(body, undefined, dryRun, MANAGER, undefined, PatchStrategy.MergePatch),
      retry,
    );
    return added.length > 0 ? 'extended' : 'kept';
  }
  const body = { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', stringData: values };
  try {
    await withRetry(
      `creating ${describeSecret}`,
      () => connection.objects.create(body, undefined, dryRun, MANAGER),
      retry,
    );
    return 'created';
  } catch (error) {
    if (!(error instanceof ClusterError) || error.code !== 409) throw error;
    // An earlier attempt whose answer was lost made it, or someone else did: only the first is ours to keep.
    const stored = secretValues(
      await withRetry(
        `reading ${describeSecret}`,
        () => connection.core.readNamespacedSecret({ name: secret.name, namespace: secret.namespace }),
        retry,
      ),
    );
    if (Object.entries(values).every(([key, value]) => stored[key] === value)) return 'created';
    throw new ForeignObjectsError(stack, [{ kind: 'Secret', name: secret.name }], optionNamesOf(options).adopt);
  }
}

async function prune(
  connection: Connection,
  object: KubernetesObject,
  options: ApplyOptions,
  retry: RetryPolicy,
): Promise<AppliedObject> {
  await withRetry(
    `pruning ${describe(object)}`,
    () =>
      connection.objects
        .delete(object, undefined, options.dryRun ? 'All' : undefined, undefined, undefined, 'Background')
        .catch(notFoundAsUndefined),
    retry,
  );
  return { kind: object.kind ?? '', name: nameOf(object), action: 'pruned' };
}

const optionNamesOf = (options: ApplyOptions) => options.optionNames ?? CLI_OPTION_NAMES;

function conflictOf(error: unknown, object: string, forceConflicts: string | undefined): ConflictError | undefined {
  if (!(error instanceof ApiException) || error.code !== 409) return undefined;
  const causes = statusOf(error)?.details?.causes ?? [];
  const conflicts = causes
    .filter((cause) => cause.reason === 'FieldManagerConflict')
    .map((cause) => ({
      manager: /"([^"]+)"/.exec(cause.message ?? '')?.[1] ?? 'another manager',
      field: cause.field ?? '',
    }));
  return conflicts.length > 0 ? new ConflictError(object, conflicts, forceConflicts) : undefined;
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

function withAnnotation(object: KubernetesObject, key: string, value: string): KubernetesObject {
  return {
    ...object,
    metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, [key]: value } },
  };
}
