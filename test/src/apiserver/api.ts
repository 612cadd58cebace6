// What an API request does to the cluster state, independent of HTTP: create, replace, apply (server-side),
// merge/JSON patches, status writes, deletes with finalizers and propagation policies. The HTTP layer
// (server.ts) and the simulated controllers both go through here, so managedFields, validation and the
// deletion flow are the same whoever writes.
import { addZeroValues, admit, applyDefaults, randomSuffix, type IpAllocator } from './defaults.js';
import { apiVersionOf, qualifiedName, resourceByKind, type ResourceType } from './resources.js';
import { schemaProblems } from './schema.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { applyObject, conflictStatus, recordUpdate, sameJson, SchemaError } from './ssa/index.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  deleted,
  failure,
  invalid,
  namespaceNotFound,
  namespaceTerminating,
  notFound,
  type StatusBody,
} from './status.js';
import { timestamp, type KubeObject, type Store } from './store.js';
import { storageBytes, validate } from './validation.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface WriteOptions {
  /** The field manager (`fieldManager` query parameter; "unknown" when a client sends none). */
  manager: string;
  dryRun?: boolean;
  /** Current Kubernetes' default is Warn: unknown fields are dropped with a warning. */
  fieldValidation?: FieldValidation;
  /** `status`, or a Namespace's `finalize` (which writes everything but status; spec.finalizers is the point). */
  subresource?: 'status' | 'finalize';
  /**
   * Validating admission: called with the object as it would be stored (and the stored one for updates)
   * once it passed validation, before it is stored (dry runs included); it throws to refuse the write.
   */
  validatingAdmission?: (object: KubeObject, old: KubeObject | undefined) => void;
}

export interface WriteResult {
  object: KubeObject;
  created: boolean;
  /** Sent to the client as `Warning` headers. */
  warnings: string[];
}

export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  dryRun?: boolean;
  /** DeleteOptions.preconditions: the delete is refused (409 Conflict) unless the stored object has these. */
  preconditions?: { uid?: string | null; resourceVersion?: string | null };
  /** Validating admission of the DELETE: called with the stored object; it throws to refuse. */
  validatingAdmission?: (old: KubeObject) => void;
}

export type DeleteResult = { object: KubeObject } | { status: StatusBody };

type Json = Record<string, unknown>;

export class Api implements IpAllocator {
  private nextIp = 1;

  constructor(
    readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  nextServiceIp(): string {
    const n = this.nextIp++;
    return `10.96.${Math.floor(n / 254)}.${(n % 254) + 1}`;
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject {
    const type = resourceByKind(kind);
    const object = this.store.get(kind, scope(type, namespace), name);
    if (!object) throw notFound(type, name);
    return withTypeMeta(type, structuredClone(object));
  }

  /** Objects of a kind in a namespace (or all namespaces), filtered by label and field selectors; copies. */
  list(kind: string, namespace: string | undefined, options: ListOptions = {}): KubeObject[] {
    const type = resourceByKind(kind);
    const byLabels = parseLabelSelector(options.labelSelector);
    const byFields = parseFieldSelector(options.fieldSelector);
    return this.store
      .list(kind, scope(type, namespace))
      .filter((object) => byLabels(object.metadata.labels) && byFields(withTypeMeta(type, object)))
      .map((object) => withTypeMeta(type, structuredClone(object)));
  }

  create(kind: string, namespace: string | undefined, body: KubeObject, options: WriteOptions): WriteResult {
    const type = resourceByKind(kind);
    const { object, warnings } = this.decode(type, body, options.fieldValidation);
    checkNamespace(type, object, namespace);
    if (!object.metadata.name && object.metadata.generateName)
      object.metadata.name = `${object.metadata.generateName}${randomSuffix()}`;
    if (object.metadata.name && this.store.get(kind, object.metadata.namespace, object.metadata.name))
      throw alreadyExists(type, object.metadata.name);
    return { ...this.commit(type, object, undefined, options), warnings };
  }

  /**
   * PUT, as the generic registry's Update does it: a missing object is created where the kind's strategy
   * allows it (Leases: 201), else 404; without metadata.resourceVersion the write is unconditional where the
   * strategy allows it, else 422 "must be specified for an update" (Leases, custom resources); a stale one
   * is 409 Conflict.
   */
  update(
    kind: string,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    options: WriteOptions,
  ): WriteResult {
    const type = resourceByKind(kind);
    if (type.createOnUpdate && !options.subresource && !this.store.get(kind, scope(type, namespace), name)) {
      const sent =
        body && typeof body === 'object' && body.metadata && typeof body.metadata === 'object' ? body : undefined;
      if (sent?.metadata.name && sent.metadata.name !== name) checkName(structuredClone(sent), name);
      const named = sent ? { ...sent, metadata: { ...sent.metadata, name, resourceVersion: undefined } } : body;
      return this.create(kind, namespace, named as KubeObject, options);
    }
    return this.replace(kind, namespace, name, body, options, type.unconditionalUpdate === false);
  }

  /**
   * Replace the whole object (or its status), with optimistic concurrency on resourceVersion: a stale one is
   * 409 Conflict; a missing one overwrites, unless `requireResourceVersion` (then 422, as for kinds whose
   * strategy does not allow unconditional updates).
   */
  replace(
    kind: string,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    options: WriteOptions,
    requireResourceVersion = false,
  ): WriteResult {
    const type = resourceByKind(kind);
    const { object, warnings } = this.decode(type, body, options.fieldValidation);
    checkNamespace(type, object, namespace);
    checkName(object, name);
    const live = this.store.get(kind, object.metadata.namespace, name);
    if (!live) throw notFound(type, name);
    const expected = object.metadata.resourceVersion;
    if (!expected && requireResourceVersion) throw resourceVersionRequired(type, name);
    if (expected && expected !== live.metadata.resourceVersion) {
      throw conflict(
        type,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    return { ...this.commit(type, object, live, options), warnings };
  }

  /** Server-side apply: merge the configuration by field ownership; creates the object if missing. */
  apply(
    kind: string,
    namespace: string | undefined,
    name: string,
    body: KubeObject,
    options: WriteOptions & { force: boolean },
  ): WriteResult {
    const type = resourceByKind(kind);
    const problems = schemaProblems(kind, body);
    const typeProblem = problems.find((p) => p.problem === 'wrong type');
    // Go prints a GroupVersionKind as "group/version, Kind=…", so the core group shows as "/v1".
    const where = `${body.metadata?.namespace ? `${body.metadata.namespace}/` : ''}${body.metadata?.name ?? name}; ${type.group}/${type.version}, Kind=${type.kind}`;
    if (typeProblem)
      throw failure(
        500,
        undefined,
        `failed to create typed patch object (${where}): ${typeProblem.path}: expected ${typeProblem.expected}, got ${typeProblem.actual}`,
      );
    const unknown = problems.find((p) => p.problem === 'unknown field');
    // Kubernetes 1.24 answered 500 here; current releases answer 400 BadRequest (server-side field validation).
    if (unknown)
      throw badRequest(`failed to create typed patch object (${where}): ${unknown.path}: field not declared in schema`);
    if (body.apiVersion !== apiVersionOf(type) || body.kind !== type.kind) {
      throw badRequest(
        `the apiVersion and kind of the applied object (${body.apiVersion}, ${body.kind}) do not match the request (${apiVersionOf(type)}, ${type.kind})`,
      );
    }
    const applied = structuredClone(body);
    normalizeMicroTimes(type, applied);
    checkNamespace(type, applied, namespace);
    checkName(applied, name);
    const live = this.store.get(kind, applied.metadata.namespace, name);
    const result = typedApply(where, () =>
      applyObject({
        live: live as never,
        applied: applied as never,
        manager: options.manager,
        force: options.force,
        now: this.now(),
      }),
    );
    if (!result.ok) throw conflictError(result.conflicts);
    return { ...this.commit(type, result.object as unknown as KubeObject, live, options, true), warnings: [] };
  }

  /** JSON merge patch (RFC 7386), or strategic merge patch with lists merged by their keys. */
  mergePatch(
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: Json,
    options: WriteOptions,
    strategic: boolean,
  ): WriteResult {
    const type = resourceByKind(kind);
    const live = this.store.get(kind, scope(type, namespace), name);
    if (!live) throw notFound(type, name);
    const patched = mergeValues(live, patch, strategic) as KubeObject;
    // A resourceVersion in the patch is a precondition (409 when stale); without one the patch applies to
    // whatever is stored.
    const precondition = (patch.metadata as Json | undefined)?.resourceVersion;
    const resourceVersion = typeof precondition === 'string' && precondition !== '' ? precondition : undefined;
    return this.replace(
      kind,
      namespace,
      name,
      { ...patched, metadata: { ...patched.metadata, resourceVersion } } as KubeObject,
      options,
    );
  }

  /** JSON patch (RFC 6902). */
  jsonPatch(
    kind: string,
    namespace: string | undefined,
    name: string,
    operations: JsonPatchOperation[],
    options: WriteOptions,
  ): WriteResult {
    const type = resourceByKind(kind);
    const live = this.store.get(kind, scope(type, namespace), name);
    if (!live) throw notFound(type, name);
    const patched = applyJsonPatch(live, operations) as KubeObject;
    return this.replace(kind, namespace, name, patched, options);
  }

  delete(kind: string, namespace: string | undefined, name: string, options: DeleteOptions = {}): DeleteResult {
    const type = resourceByKind(kind);
    const live = this.store.get(kind, scope(type, namespace), name);
    if (!live) throw notFound(type, name);
    if (kind === 'Namespace') checkNamespacePreconditions(live, options.preconditions);
    else checkPreconditions(type, live, options.preconditions);
    if (kind === 'Namespace' && live.metadata.deletionTimestamp && namespaceFinalizers(live).length > 0) {
      // The namespace REST's answer to a DELETE while its content is still being removed.
      throw conflict(
        type,
        name,
        'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
      );
    }
    options.validatingAdmission?.(withTypeMeta(type, structuredClone(live)));
    if (options.dryRun) return { object: withTypeMeta(type, live) };
    const marked = structuredClone(live);
    const now = this.now();
    if (kind === 'Pod') {
      // Graceful: the kubelet stops the containers, then the pod goes; 0 removes it at once.
      const grace =
        options.gracePeriodSeconds ??
        ((live.spec as Json | undefined)?.terminationGracePeriodSeconds as number | undefined) ??
        30;
      if (grace === 0) return this.finishDelete(type, live);
      marked.metadata.deletionTimestamp ??= timestamp(new Date(this.clock().getTime() + grace * 1000));
      marked.metadata.deletionGracePeriodSeconds = grace;
      return { object: withTypeMeta(type, this.store.put(kind, marked)) };
    }
    if (kind === 'Namespace' && !live.metadata.deletionTimestamp) {
      // The first DELETE only marks it (even without finalizers): the namespace controller takes it from there.
      marked.metadata.deletionTimestamp = now;
      (marked.status as Json).phase = 'Terminating';
      return { object: withTypeMeta(type, this.store.put(kind, marked)) };
    }
    // A later DELETE of a Namespace whose spec.finalizers are gone is an ordinary delete (the registry's).
    const policy = options.propagationPolicy ?? 'Background';
    const finalizers = new Set(live.metadata.finalizers ?? []);
    if (policy === 'Foreground') finalizers.add('foregroundDeletion');
    if (policy === 'Orphan') finalizers.add('orphan');
    if (finalizers.size === 0) return this.finishDelete(type, live);
    marked.metadata.finalizers = [...finalizers];
    marked.metadata.deletionTimestamp ??= now;
    marked.metadata.deletionGracePeriodSeconds ??= 0;
    return { object: withTypeMeta(type, this.store.put(kind, marked)) };
  }

  /** Delete every object a list with these selectors would return; answers the objects as they were. */
  deleteCollection(
    kind: string,
    namespace: string | undefined,
    selectors: ListOptions,
    options: DeleteOptions = {},
  ): KubeObject[] {
    const matching = this.list(kind, namespace, selectors);
    for (const object of matching) this.delete(kind, object.metadata.namespace, object.metadata.name, options);
    return matching;
  }

  /** Remove an object for good (no finalizers left, or a pod whose containers stopped). */
  finishDelete(type: ResourceType, live: KubeObject): { status: StatusBody } {
    this.store.remove(type.kind, live.metadata.namespace, live.metadata.name);
    return { status: deleted(type, live.metadata.name, live.metadata.uid ?? '') };
  }

  private now(): string {
    return timestamp(this.clock());
  }

  /** Decode a JSON body like the API server: unknown fields dropped with a warning, or refused under Strict. */
  private decode(
    type: ResourceType,
    body: KubeObject,
    validation: FieldValidation = 'Warn',
  ): { object: KubeObject; warnings: string[] } {
    if (!body || typeof body !== 'object' || !body.metadata)
      throw badRequest(
        `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: missing metadata`,
      );
    const problems = schemaProblems(type.kind, body);
    const wrongType = problems.find((p) => p.problem === 'wrong type');
    if (wrongType)
      throw badRequest(
        `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${wrongType.path.slice(1)}: expected ${wrongType.expected}, got ${wrongType.actual}`,
      );
    const unknown = problems.filter((p) => p.problem === 'unknown field').map((p) => p.path.slice(1));
    if (unknown.length > 0 && validation === 'Strict')
      throw badRequest(`strict decoding error: ${unknown.map((path) => `unknown field "${path}"`).join(', ')}`);
    const object = structuredClone(body);
    for (const path of unknown) deleteField(object, path);
    normalizeMicroTimes(type, object);
    return { object, warnings: validation === 'Warn' ? unknown.map((path) => `unknown field "${path}"`) : [] };
  }

  /**
   * The PersistentVolumeClaimResize admission plugin: a bound claim's storage request may grow only when its
   * StorageClass (the same before and after) has allowVolumeExpansion (every claim here is dynamically
   * provisioned, by a plugin that can resize).
   */
  private admitResize(type: ResourceType, next: KubeObject, live: KubeObject): void {
    const spec = (next.spec ?? {}) as Json;
    const liveSpec = (live.spec ?? {}) as Json;
    if (storageBytes(spec) <= storageBytes(liveSpec)) return;
    const refuse = (why: string) =>
      failure(403, 'Forbidden', `${qualifiedName(type)} "${next.metadata.name}" is forbidden: ${why}`, {
        name: next.metadata.name,
        kind: type.plural,
      });
    if ((live.status as Json | undefined)?.phase !== 'Bound')
      throw refuse('Only bound persistent volume claims can be expanded');
    const className = spec.storageClassName;
    const storageClass =
      typeof className === 'string' && className !== '' && className === liveSpec.storageClassName
        ? (this.store.get('StorageClass', undefined, className) as Json | undefined)
        : undefined;
    if (storageClass?.allowVolumeExpansion !== true)
      throw refuse(
        'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
      );
  }

  /** The common end of every write: status handling, defaults, validation, managedFields, store. */
  private commit(
    type: ResourceType,
    candidate: KubeObject,
    live: KubeObject | undefined,
    options: WriteOptions,
    applied = false,
  ): Omit<WriteResult, 'warnings'> {
    const kind = type.kind;
    const hasStatus = type.subresources.includes('status');
    let next = structuredClone(candidate);
    next.apiVersion = apiVersionOf(type);
    next.kind = kind;
    if (options.subresource === 'status') {
      // The status strategy: spec and labels stay as stored; status (and annotations, as the deployment
      // controller's revision annotation shows) come from the request.
      if (!live) throw notFound(type, candidate.metadata.name);
      next = { ...structuredClone(live), status: candidate.status };
      if (candidate.metadata.annotations) next.metadata.annotations = candidate.metadata.annotations;
    } else if (hasStatus) {
      // The main resource ignores status; only /status writes it (and namespaces/finalize keeps it too).
      if (options.subresource === 'finalize' && !live) throw notFound(type, candidate.metadata.name);
      if (live?.status !== undefined) next.status = structuredClone(live.status);
      else delete next.status;
    }
    if (kind === 'Namespace') namespaceFinalizersOnWrite(next, live, options.subresource);
    if (kind === 'Lease') dropGatedLeaseFields(next, live);
    if (live) {
      next.metadata.deletionTimestamp = live.metadata.deletionTimestamp;
      next.metadata.deletionGracePeriodSeconds = live.metadata.deletionGracePeriodSeconds;
      if (!next.metadata.deletionTimestamp) delete next.metadata.deletionTimestamp;
      if (next.metadata.deletionGracePeriodSeconds === undefined) delete next.metadata.deletionGracePeriodSeconds;
    }
    if (!live) namespaceGate(this.store, type, next);
    applyDefaults(kind, next, this);
    if (!applied)
      next = recordUpdate(
        live as never,
        next as never,
        options.manager,
        this.now(),
        options.subresource,
      ) as unknown as KubeObject;
    if (!live) admit(kind, next);
    addZeroValues(kind, next);
    // Validated as it would be stored, so that comparisons with the stored object see like with like.
    const causes = validate(kind, next, live);
    if (causes.length > 0) throw invalid(type, next.metadata.name, causes);
    if (kind === 'PersistentVolumeClaim' && live && !options.subresource) this.admitResize(type, next, live);
    options.validatingAdmission?.(
      withTypeMeta(type, structuredClone(next)),
      live && withTypeMeta(type, structuredClone(live)),
    );
    if (live && sameJson(withoutTimes(live), withoutTimes(next)))
      next = { ...next, metadata: { ...next.metadata, managedFields: live.metadata.managedFields } };
    if (options.dryRun) return { object: withTypeMeta(type, this.store.preview(kind, next)), created: !live };
    if (live && finalized(kind, next)) {
      this.finishDelete(type, next);
      return { object: withTypeMeta(type, next), created: false };
    }
    return { object: withTypeMeta(type, this.store.put(kind, next)), created: !live };
  }
}

/** Marked for deletion and nothing holds it any more (pods wait for their kubelet instead). */
function finalized(kind: string, object: KubeObject): boolean {
  if (!object.metadata.deletionTimestamp || kind === 'Pod' || (object.metadata.finalizers ?? []).length > 0)
    return false;
  return kind !== 'Namespace' || namespaceFinalizers(object).length === 0;
}

/** A Namespace's spec.finalizers (`kubernetes` until the namespace controller has emptied it). */
export function namespaceFinalizers(namespace: KubeObject): string[] {
  return ((namespace.spec as Json | undefined)?.finalizers as string[] | undefined) ?? [];
}

/**
 * The namespace strategies: on create the `kubernetes` finalizer is added (PrepareForCreate); an update of
 * the resource keeps the stored spec.finalizers (PrepareForUpdate), only namespaces/finalize changes them.
 */
function namespaceFinalizersOnWrite(
  next: KubeObject,
  live: KubeObject | undefined,
  subresource: WriteOptions['subresource'],
): void {
  const spec = (next.spec ??= {}) as Json;
  if (!live) {
    const finalizers = Array.isArray(spec.finalizers) ? (spec.finalizers as string[]) : [];
    spec.finalizers = finalizers.includes('kubernetes') ? finalizers : [...finalizers, 'kubernetes'];
  } else if (subresource !== 'finalize') {
    const stored = (live.spec as Json | undefined)?.finalizers;
    if (stored === undefined) delete spec.finalizers;
    else spec.finalizers = structuredClone(stored);
  } else if (Array.isArray(spec.finalizers) && spec.finalizers.length === 0) {
    // An empty list is not serialized (omitempty).
    delete spec.finalizers;
  }
}

/**
 * The lease strategy drops spec.strategy and spec.preferredHolder while the CoordinatedLeaderElection
 * feature gate is off (its default), unless the stored Lease already has them.
 */
function dropGatedLeaseFields(next: KubeObject, live: KubeObject | undefined): void {
  const spec = next.spec as Json | undefined;
  const stored = (live?.spec ?? {}) as Json;
  if (!spec) return;
  if (stored.strategy === undefined) delete spec.strategy;
  if (stored.preferredHolder === undefined) delete spec.preferredHolder;
}

/** metav1.MicroTime fields of the kinds that have them: RFC 3339 with exactly six fractional digits. */
const MICRO_TIME_FIELDS: Record<string, string[]> = { Lease: ['acquireTime', 'renewTime'] };
const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

/**
 * Decode MicroTime fields as the API server does (time.Parse with RFC3339Micro; anything else is a 400
 * naming Go's parse error) and write them back as it encodes them: in UTC.
 */
function normalizeMicroTimes(type: ResourceType, object: KubeObject): void {
  const spec = object.spec as Json | undefined;
  for (const field of MICRO_TIME_FIELDS[type.kind] ?? []) {
    const value = spec?.[field];
    if (typeof value !== 'string') continue;
    const parsed = parseMicroTime(value);
    if (typeof parsed === 'string')
      throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${parsed}`);
    spec![field] = parsed.utc;
  }
}

/** Go's time.Parse(RFC3339Micro, value): the UTC rendering, or Go's error message. */
export function parseMicroTime(value: string): { utc: string } | string {
  const elements: [layout: string, pattern: RegExp][] = [
    ['2006', /^\d{4}/],
    ['-', /^-/],
    ['01', /^\d{2}/],
    ['-', /^-/],
    ['02', /^\d{2}/],
    ['T', /^T/],
    ['15', /^\d{2}/],
    [':', /^:/],
    ['04', /^\d{2}/],
    [':', /^:/],
    ['05', /^\d{2}/],
    ['.000000', /^[.,]\d{6}/],
    ['Z07:00', /^(Z|[+-]\d{2}:\d{2})/],
  ];
  const parts: string[] = [];
  let rest = value;
  for (const [layout, pattern] of elements) {
    const match = pattern.exec(rest);
    if (!match)
      return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(RFC3339_MICRO)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(layout)}`;
    parts.push(match[0]);
    rest = rest.slice(match[0].length);
  }
  if (rest) return `parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(rest)}`;
  const [year, , month, , day, , hour, , minute, , second, fraction, zone] = parts;
  const ranges: [string, number, number, number][] = [
    ['month', Number(month), 1, 12],
    ['day', Number(day), 1, 31],
    ['hour', Number(hour), 0, 23],
    ['minute', Number(minute), 0, 59],
    ['second', Number(second), 0, 59],
  ];
  for (const [what, number, min, max] of ranges)
    if (number < min || number > max) return `parsing time ${JSON.stringify(value)}: ${what} out of range`;
  const offset =
    zone === 'Z' ? 0 : (zone!.startsWith('-') ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)));
  const ms = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute) - offset,
    Number(second),
  );
  if (new Date(Date.UTC(Number(year), Number(month) - 1, Number(day))).getUTCDate() !== Number(day))
    return `parsing time ${JSON.stringify(value)}: day out of range`;
  return { utc: `${new Date(ms).toISOString().slice(0, 19)}.${fraction!.slice(1)}Z` };
}

/** DeleteOptions.preconditions, as rest.BeforeDelete checks them (every kind but Namespace). */
function checkPreconditions(type: ResourceType, live: KubeObject, preconditions: DeleteOptions['preconditions']): void {
  const { uid, resourceVersion } = preconditions ?? {};
  // BeforeDelete names the resource by its kind ("Deployment.apps", "Lease.coordination.k8s.io").
  const details = { name: live.metadata.name, ...(type.group ? { group: type.group } : {}), kind: type.kind };
  const what = `${type.kind}${type.group ? `.${type.group}` : ''} ${JSON.stringify(live.metadata.name)}`;
  if (uid !== undefined && uid !== null && uid !== live.metadata.uid) {
    throw failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${what}: the UID in the precondition (${uid}) does not match the UID in record (${live.metadata.uid}). The object might have been deleted and then recreated`,
      details,
    );
  }
  if (resourceVersion !== undefined && resourceVersion !== null && resourceVersion !== live.metadata.resourceVersion) {
    throw failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${what}: the ResourceVersion in the precondition (${resourceVersion}) does not match the ResourceVersion in record (${live.metadata.resourceVersion}). The object might have been modified`,
      details,
    );
  }
}

/** The namespace REST's own precondition checks (pkg/registry/core/namespace/storage). */
function checkNamespacePreconditions(live: KubeObject, preconditions: DeleteOptions['preconditions']): void {
  const { uid, resourceVersion } = preconditions ?? {};
  const type = resourceByKind('Namespace');
  if (uid !== undefined && uid !== null && uid !== live.metadata.uid) {
    throw conflict(
      type,
      live.metadata.name,
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${live.metadata.uid}`,
    );
  }
  if (resourceVersion !== undefined && resourceVersion !== null && resourceVersion !== live.metadata.resourceVersion) {
    throw conflict(
      type,
      live.metadata.name,
      `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion}`,
    );
  }
}

/** The registry's answer to a PUT without resourceVersion for a kind that allows no unconditional update. */
function resourceVersionRequired(type: ResourceType, name: string) {
  // NewInvalid with the GroupKind {group, resource}: the resource's plural stands where the kind would.
  const cause = {
    reason: 'FieldValueInvalid',
    message: 'Invalid value: 0x0: must be specified for an update',
    field: 'metadata.resourceVersion',
  };
  return failure(
    422,
    'Invalid',
    `${qualifiedName(type)} ${JSON.stringify(name)} is invalid: metadata.resourceVersion: ${cause.message}`,
    {
      name,
      ...(type.group ? { group: type.group } : {}),
      kind: type.plural,
      causes: [cause],
    },
  );
}

/** Typing failures (list items that cannot be identified) are 500s in Kubernetes too. */
function typedApply<T>(where: string, apply: () => T): T {
  try {
    return apply();
  } catch (error) {
    if (error instanceof SchemaError)
      throw failure(500, undefined, `failed to create typed patch object (${where}): ${error.message}`);
    throw error;
  }
}

function conflictError(conflicts: { manager: string; field: string }[]) {
  const status = conflictStatus(conflicts) as StatusBody;
  return failure(status.code ?? 409, status.reason, status.message ?? 'Apply failed', status.details);
}

/** Namespaced objects live in the URL's namespace; cluster objects in none. */
function scope(type: ResourceType, namespace: string | undefined): string | undefined {
  return type.namespaced ? namespace : undefined;
}

function checkNamespace(type: ResourceType, object: KubeObject, namespace: string | undefined): void {
  if (!type.namespaced) {
    delete object.metadata.namespace;
    return;
  }
  if (object.metadata.namespace && object.metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  object.metadata.namespace = namespace;
}

function checkName(object: KubeObject, name: string): void {
  if (object.metadata.name && object.metadata.name !== name) {
    throw badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
  }
  object.metadata.name = name;
}

/** Namespaced creates need a namespace that exists and is not being deleted. */
function namespaceGate(store: Store, type: ResourceType, object: KubeObject): void {
  if (!type.namespaced) return;
  const namespace = store.get('Namespace', undefined, object.metadata.namespace ?? '');
  if (!namespace) throw namespaceNotFound(object.metadata.namespace ?? '');
  if (namespace.metadata.deletionTimestamp)
    throw namespaceTerminating(type, object.metadata.name, namespace.metadata.name);
}

function withTypeMeta(type: ResourceType, object: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = object;
  return { kind: type.kind, apiVersion: apiVersionOf(type), ...rest };
}

function withoutTimes(object: KubeObject): unknown {
  return {
    ...object,
    metadata: {
      ...object.metadata,
      managedFields: (object.metadata.managedFields ?? []).map(({ time: _t, ...entry }) => entry),
    },
  };
}

function deleteField(object: Json, path: string): void {
  const keys = path.split(/\.|\[(\d+)\]/).filter((key) => key !== undefined && key !== '');
  let node: unknown = object;
  for (const key of keys.slice(0, -1)) node = node && typeof node === 'object' ? (node as Json)[key] : undefined;
  if (node && typeof node === 'object') delete (node as Json)[keys[keys.length - 1]!];
}

// ---- patches ----------------------------------------------------------------------------------------

/** Keys by which strategic merge patch merges lists of objects (Kubernetes' patchMergeKey). */
const STRATEGIC_MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  ports: 'containerPort',
};

function mergeValues(target: unknown, patch: unknown, strategic: boolean, key = ''): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch) && Array.isArray(target) && strategic && STRATEGIC_MERGE_KEYS[key]) {
    const mergeKey =
      key === 'ports' && target.some((item) => (item as Json).port !== undefined) ? 'port' : STRATEGIC_MERGE_KEYS[key]!;
    const result = [...target] as Json[];
    for (const item of patch as Json[]) {
      const index = result.findIndex((existing) => existing[mergeKey] === item[mergeKey]);
      if (index >= 0) result[index] = mergeValues(result[index], item, strategic) as Json;
      else result.push(item);
    }
    return result;
  }
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const result: Json = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [field, value] of Object.entries(patch as Json)) {
    const merged = mergeValues(result[field], value, strategic, field);
    if (merged === undefined) delete result[field];
    else result[field] = merged;
  }
  return result;
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

function applyJsonPatch(document: Json, operations: JsonPatchOperation[]): Json {
  const result = structuredClone(document);
  const pointer = (path: string) =>
    path
      .split('/')
      .slice(1)
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const parentOf = (parts: string[]) => {
    let node: unknown = result;
    for (const part of parts.slice(0, -1)) node = (node as Json)?.[part];
    if (!node || typeof node !== 'object')
      throw badRequest(
        `the server rejected our request due to an error in our request: path ${parts.join('/')} does not exist`,
      );
    return node as Json | unknown[];
  };
  const read = (path: string) => pointer(path).reduce<unknown>((node, part) => (node as Json)?.[part], result);
  for (const operation of operations) {
    const parts = pointer(operation.path);
    const last = parts[parts.length - 1]!;
    const parent = parentOf(parts);
    const put = (value: unknown) => {
      if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, structuredClone(value));
      else parent[last] = structuredClone(value);
    };
    switch (operation.op) {
      case 'add':
        put(operation.value);
        break;
      case 'replace':
        if (Array.isArray(parent)) parent[Number(last)] = structuredClone(operation.value);
        else parent[last] = structuredClone(operation.value);
        break;
      case 'remove':
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
      case 'test':
        if (!sameJson(read(operation.path), operation.value))
          throw failure(
            422,
            'Invalid',
            `the server rejected our request due to an error in our request: testing value ${operation.path} failed`,
          );
        break;
      case 'copy':
        put(read(operation.from ?? ''));
        break;
      case 'move': {
        const value = read(operation.from ?? '');
        const fromParts = pointer(operation.from ?? '');
        const fromParent = parentOf(fromParts);
        if (Array.isArray(fromParent)) fromParent.splice(Number(fromParts[fromParts.length - 1]), 1);
        else delete fromParent[fromParts[fromParts.length - 1]!];
        put(value);
        break;
      }
    }
  }
  return result;
}
