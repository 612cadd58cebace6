// What an API request does to the cluster state, independent of HTTP: create, replace, apply (server-side),
// merge/JSON patches, status writes, deletes with finalizers and propagation policies. The HTTP layer
// (server.ts) and the simulated controllers both go through here, so managedFields, validation and the
// deletion flow are the same whoever writes.
import { addZeroValues, admit, applyDefaults, randomSuffix, type IpAllocator } from './defaults.js';
import { apiVersionOf, resourceByKind, type ResourceType } from './resources.js';
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
import { validate } from './validation.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface WriteOptions {
  /** The field manager (`fieldManager` query parameter; "unknown" when a client sends none). */
  manager: string;
  dryRun?: boolean;
  /** Current Kubernetes' default is Warn: unknown fields are dropped with a warning. */
  fieldValidation?: FieldValidation;
  subresource?: 'status';
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
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = `${object.metadata.generateName}${randomSuffix()}`;
    if (object.metadata.name && this.store.get(kind, object.metadata.namespace, object.metadata.name)) throw alreadyExists(type, object.metadata.name);
    return { ...this.commit(type, object, undefined, options), warnings };
  }

  /** PUT: replace the whole object (or its status), with optimistic concurrency on resourceVersion. */
  replace(kind: string, namespace: string | undefined, name: string, body: KubeObject, options: WriteOptions): WriteResult {
    const type = resourceByKind(kind);
    const { object, warnings } = this.decode(type, body, options.fieldValidation);
    checkNamespace(type, object, namespace);
    checkName(object, name);
    const live = this.store.get(kind, object.metadata.namespace, name);
    if (!live) throw notFound(type, name);
    const expected = object.metadata.resourceVersion;
    if (expected && expected !== live.metadata.resourceVersion) {
      throw conflict(type, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return { ...this.commit(type, object, live, options), warnings };
  }

  /** Server-side apply: merge the configuration by field ownership; creates the object if missing. */
  apply(kind: string, namespace: string | undefined, name: string, body: KubeObject, options: WriteOptions & { force: boolean }): WriteResult {
    const type = resourceByKind(kind);
    const problems = schemaProblems(kind, body);
    const typeProblem = problems.find((p) => p.problem === 'wrong type');
    // Go prints a GroupVersionKind as "group/version, Kind=…", so the core group shows as "/v1".
    const where = `${body.metadata?.namespace ? `${body.metadata.namespace}/` : ''}${body.metadata?.name ?? name}; ${type.group}/${type.version}, Kind=${type.kind}`;
    if (typeProblem) throw failure(500, undefined, `failed to create typed patch object (${where}): ${typeProblem.path}: expected ${typeProblem.expected}, got ${typeProblem.actual}`);
    const unknown = problems.find((p) => p.problem === 'unknown field');
    // Kubernetes 1.24 answered 500 here; current releases answer 400 BadRequest (server-side field validation).
    if (unknown) throw badRequest(`failed to create typed patch object (${where}): ${unknown.path}: field not declared in schema`);
    if (body.apiVersion !== apiVersionOf(type) || body.kind !== type.kind) {
      throw badRequest(`the apiVersion and kind of the applied object (${body.apiVersion}, ${body.kind}) do not match the request (${apiVersionOf(type)}, ${type.kind})`);
    }
    const applied = structuredClone(body);
    checkNamespace(type, applied, namespace);
    checkName(applied, name);
    const live = this.store.get(kind, applied.metadata.namespace, name);
    const result = typedApply(where, () => applyObject({ live: live as never, applied: applied as never, manager: options.manager, force: options.force, now: this.now() }));
    if (!result.ok) throw conflictError(result.conflicts);
    return { ...this.commit(type, result.object as unknown as KubeObject, live, options, true), warnings: [] };
  }

  /** JSON merge patch (RFC 7386), or strategic merge patch with lists merged by their keys. */
  mergePatch(kind: string, namespace: string | undefined, name: string, patch: Json, options: WriteOptions, strategic: boolean): WriteResult {
    const type = resourceByKind(kind);
    const live = this.store.get(kind, scope(type, namespace), name);
    if (!live) throw notFound(type, name);
    const patched = mergeValues(live, patch, strategic) as KubeObject;
    return this.replace(kind, namespace, name, { ...patched, metadata: { ...patched.metadata, resourceVersion: undefined } } as KubeObject, options);
  }

  /** JSON patch (RFC 6902). */
  jsonPatch(kind: string, namespace: string | undefined, name: string, operations: JsonPatchOperation[], options: WriteOptions): WriteResult {
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
    if (options.dryRun) return { object: withTypeMeta(type, live) };
    const marked = structuredClone(live);
    const now = this.now();
    if (kind === 'Pod') {
      // Graceful: the kubelet stops the containers, then the pod goes; 0 removes it at once.
      const grace = options.gracePeriodSeconds ?? (((live.spec as Json | undefined)?.terminationGracePeriodSeconds as number | undefined) ?? 30);
      if (grace === 0) return this.finishDelete(type, live);
      marked.metadata.deletionTimestamp ??= timestamp(new Date(this.clock().getTime() + grace * 1000));
      marked.metadata.deletionGracePeriodSeconds = grace;
      return { object: withTypeMeta(type, this.store.put(kind, marked)) };
    }
    if (kind === 'Namespace') {
      marked.metadata.deletionTimestamp ??= now;
      (marked.status as Json).phase = 'Terminating';
      return { object: withTypeMeta(type, this.store.put(kind, marked)) };
    }
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
  deleteCollection(kind: string, namespace: string | undefined, selectors: ListOptions, options: DeleteOptions = {}): KubeObject[] {
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
  private decode(type: ResourceType, body: KubeObject, validation: FieldValidation = 'Warn'): { object: KubeObject; warnings: string[] } {
    if (!body || typeof body !== 'object' || !body.metadata) throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: missing metadata`);
    const problems = schemaProblems(type.kind, body);
    const wrongType = problems.find((p) => p.problem === 'wrong type');
    if (wrongType) throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${wrongType.path.slice(1)}: expected ${wrongType.expected}, got ${wrongType.actual}`);
    const unknown = problems.filter((p) => p.problem === 'unknown field').map((p) => p.path.slice(1));
    if (unknown.length > 0 && validation === 'Strict') throw badRequest(`strict decoding error: ${unknown.map((path) => `unknown field "${path}"`).join(', ')}`);
    const object = structuredClone(body);
    for (const path of unknown) deleteField(object, path);
    return { object, warnings: validation === 'Warn' ? unknown.map((path) => `unknown field "${path}"`) : [] };
  }

  /** The common end of every write: status handling, defaults, validation, managedFields, store. */
  private commit(type: ResourceType, candidate: KubeObject, live: KubeObject | undefined, options: WriteOptions, applied = false): Omit<WriteResult, 'warnings'> {
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
      // The main resource ignores status; only /status writes it.
      if (live?.status !== undefined) next.status = structuredClone(live.status);
      else delete next.status;
    }
    if (live) {
      next.metadata.deletionTimestamp = live.metadata.deletionTimestamp;
      next.metadata.deletionGracePeriodSeconds = live.metadata.deletionGracePeriodSeconds;
      if (!next.metadata.deletionTimestamp) delete next.metadata.deletionTimestamp;
      if (next.metadata.deletionGracePeriodSeconds === undefined) delete next.metadata.deletionGracePeriodSeconds;
    }
    if (!live) namespaceGate(this.store, type, next);
    applyDefaults(kind, next, this);
    if (!applied) next = recordUpdate(live as never, next as never, options.manager, this.now(), options.subresource) as unknown as KubeObject;
    if (!live) admit(kind, next);
    addZeroValues(kind, next);
    // Validated as it would be stored, so that comparisons with the stored object see like with like.
    const causes = validate(kind, next, live);
    if (causes.length > 0) throw invalid(type, next.metadata.name, causes);
    if (live && sameJson(withoutTimes(live), withoutTimes(next))) next = { ...next, metadata: { ...next.metadata, managedFields: live.metadata.managedFields } };
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
  if (!object.metadata.deletionTimestamp || kind === 'Pod' || (object.metadata.finalizers ?? []).length > 0) return false;
  return kind !== 'Namespace' || (((object.spec as Json | undefined)?.finalizers as string[] | undefined) ?? []).length === 0;
}

/** Typing failures (list items that cannot be identified) are 500s in Kubernetes too. */
function typedApply<T>(where: string, apply: () => T): T {
  try {
    return apply();
  } catch (error) {
    if (error instanceof SchemaError) throw failure(500, undefined, `failed to create typed patch object (${where}): ${error.message}`);
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
  if (namespace.metadata.deletionTimestamp) throw namespaceTerminating(type, object.metadata.name, namespace.metadata.name);
}

function withTypeMeta(type: ResourceType, object: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = object;
  return { kind: type.kind, apiVersion: apiVersionOf(type), ...rest };
}

function withoutTimes(object: KubeObject): unknown {
  return { ...object, metadata: { ...object.metadata, managedFields: (object.metadata.managedFields ?? []).map(({ time: _t, ...entry }) => entry) } };
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
    const mergeKey = key === 'ports' && target.some((item) => (item as Json).port !== undefined) ? 'port' : STRATEGIC_MERGE_KEYS[key]!;
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
  const pointer = (path: string) => path.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const parentOf = (parts: string[]) => {
    let node: unknown = result;
    for (const part of parts.slice(0, -1)) node = (node as Json)?.[part];
    if (!node || typeof node !== 'object') throw badRequest(`the server rejected our request due to an error in our request: path ${parts.join('/')} does not exist`);
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
        if (!sameJson(read(operation.path), operation.value)) throw failure(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${operation.path} failed`);
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
