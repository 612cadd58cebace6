// The structured diff of two versions of a job that a plan answers with (Nomad's nomad/structs/diff.go,
// contextual as Job.Plan asks for it): primitive fields flattened (`Count`, `Meta[k]`, `Env[K]`), nested
// blocks as objects (`Config`, `Resources`, `Template`, `Service`…) whose unchanged fields are listed as
// None once one of them changed, task groups and tasks by name in name order. Then annotated with the
// scheduler's DesiredTGUpdates as scheduler/annotate.go does it.
import { specOf } from './canonicalize.js';
import { isObject, sameJson, type Json } from './json.js';

export type DiffType = 'None' | 'Added' | 'Deleted' | 'Edited';

export interface FieldDiff {
  Type: DiffType;
  Name: string;
  Old: string;
  New: string;
  Annotations: string[] | null;
}

export interface ObjectDiff {
  Type: DiffType;
  Name: string;
  Fields: FieldDiff[] | null;
  Objects: ObjectDiff[] | null;
}

export interface TaskDiff extends ObjectDiff {
  Annotations: string[] | null;
}

export interface TaskGroupDiff extends ObjectDiff {
  Tasks: TaskDiff[] | null;
  Updates: Record<string, number> | null;
}

export interface JobDiff {
  Type: DiffType;
  ID: string;
  Fields: FieldDiff[] | null;
  Objects: ObjectDiff[] | null;
  TaskGroups: TaskGroupDiff[] | null;
}

/** structs.DesiredUpdates. */
export interface DesiredUpdates {
  Ignore: number;
  Place: number;
  Migrate: number;
  Stop: number;
  InPlaceUpdate: number;
  DestructiveUpdate: number;
  Canary: number;
  Preemptions: number;
}

// scheduler/annotate.go
const UPDATE_TYPES: [keyof DesiredUpdates, string][] = [
  ['Ignore', 'ignore'],
  ['Place', 'create'],
  ['Migrate', 'migrate'],
  ['Stop', 'destroy'],
  ['InPlaceUpdate', 'in-place update'],
  ['DestructiveUpdate', 'create/destroy update'],
  ['Canary', 'canary'],
];
const FORCES_CREATE = 'forces create';
const FORCES_DESTROY = 'forces destroy';
const FORCES_IN_PLACE = 'forces in-place update';
const FORCES_DESTRUCTIVE = 'forces create/destroy update';

/** Fields Job.Diff leaves out: the server's, and Update (groups carry it). */
const JOB_FILTER = ['ID', 'Update', 'VaultToken', 'NomadTokenID', 'Status', 'StatusDescription'];
/** Nested blocks and how Nomad names their object diffs. */
const OBJECT_NAMES: Record<string, string> = {
  Datacenters: 'Datacenters',
  Constraints: 'Constraint',
  Affinities: 'Affinity',
  Spreads: 'Spread',
  Periodic: 'Periodic',
  ParameterizedJob: 'ParameterizedJob',
  Multiregion: 'Multiregion',
  RestartPolicy: 'RestartPolicy',
  ReschedulePolicy: 'ReschedulePolicy',
  EphemeralDisk: 'EphemeralDisk',
  Update: 'Update',
  Migrate: 'Migrate',
  Networks: 'Network',
  Scaling: 'Scaling',
  Services: 'Service',
  Volumes: 'Volume',
  Consul: 'Consul',
  Config: 'Config',
  Resources: 'Resources',
  LogConfig: 'LogConfig',
  Artifacts: 'Artifact',
  Vault: 'Vault',
  Templates: 'Template',
  VolumeMounts: 'VolumeMount',
  Lifecycle: 'Lifecycle',
  Identity: 'Identity',
  DispatchPayload: 'DispatchPayload',
  CSIPluginConfig: 'CSIPluginConfig',
};

const goString = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

const isPrimitive = (value: unknown) => value === null || typeof value !== 'object';

/** flatmap.Flatten: every leaf under its path (`a.b`, `list[0]`, `map[key]`). */
function flatten(value: unknown, prefix: string, out: Record<string, string> = {}): Record<string, string> {
  if (Array.isArray(value)) value.forEach((item, index) => flatten(item, `${prefix}[${index}]`, out));
  else if (isObject(value))
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, out);
  else if (value !== null && value !== undefined) out[prefix] = goString(value);
  return out;
}

/** flatmap.Flatten(…, primitiveOnly): the primitive fields, and maps of them as `Name[key]`. */
function primitives(object: Json | undefined, skip: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(object ?? {})) {
    if (skip.includes(key) || OBJECT_NAMES[key]) continue;
    if (isPrimitive(value)) {
      if (value !== null && value !== undefined) out[key] = goString(value);
    } else if (isObject(value) && Object.values(value).every(isPrimitive)) {
      for (const [name, item] of Object.entries(value)) out[`${key}[${name}]`] = goString(item);
    }
  }
  return out;
}

function fieldDiffs(before: Record<string, string>, after: Record<string, string>, contextual: boolean): FieldDiff[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names.flatMap((name): FieldDiff[] => {
    const old = before[name] ?? '';
    const now = after[name] ?? '';
    const type: DiffType = old === now ? 'None' : old === '' ? 'Added' : now === '' ? 'Deleted' : 'Edited';
    if (type === 'None' && !contextual) return [];
    return [{ Type: type, Name: name, Old: old, New: now, Annotations: null }];
  });
}

const orNull = <T>(list: T[]): T[] | null => (list.length > 0 ? list : null);

/** A block as one object: its leaves as fields (every one of them once the block changed). */
function objectDiff(name: string, before: unknown, after: unknown): ObjectDiff | undefined {
  if (sameJson(before ?? null, after ?? null)) return undefined;
  const absent = (value: unknown) => value === undefined || value === null;
  const type: DiffType = absent(before) ? 'Added' : absent(after) ? 'Deleted' : 'Edited';
  const fields = fieldDiffs(flatten(before, ''), flatten(after, ''), true);
  return { Type: type, Name: name, Fields: orNull(fields), Objects: null };
}

/** How the elements of a list block are matched between versions: templates by destination, services by name and port. */
function identity(key: string, item: unknown, index: number): string {
  if (!isObject(item)) return String(index);
  if (key === 'Templates') return `template:${item.DestPath}`;
  if (key === 'Services') return `service:${item.Name}/${item.PortLabel}`;
  if (key === 'Artifacts') return `artifact:${item.GetterSource}/${item.RelativeDest}`;
  return String(index);
}

function listDiffs(key: string, before: unknown[], after: unknown[]): ObjectDiff[] {
  const name = OBJECT_NAMES[key]!;
  if (before.every(isPrimitive) && after.every(isPrimitive) && key === 'Datacenters') {
    // stringSetDiff: one field per element added or removed.
    const fields = [
      ...before.filter((item) => !after.includes(item)).map((item) => field('Deleted', name, goString(item), '')),
      ...after.filter((item) => !before.includes(item)).map((item) => field('Added', name, '', goString(item))),
    ];
    return fields.length > 0 ? [{ Type: 'Edited', Name: name, Fields: fields, Objects: null }] : [];
  }
  const old = new Map(before.map((item, index) => [identity(key, item, index), item]));
  const now = new Map(after.map((item, index) => [identity(key, item, index), item]));
  const ids = [...new Set([...old.keys(), ...now.keys()])];
  return ids
    .map((id) => objectDiff(name, old.get(id), now.get(id)))
    .filter((diff): diff is ObjectDiff => diff !== undefined);
}

const field = (type: DiffType, name: string, old: string, now: string): FieldDiff => ({
  Type: type,
  Name: name,
  Old: old,
  New: now,
  Annotations: null,
});

/** The nested blocks of a job, group or task as object diffs, in Nomad's order (edited, added, deleted). */
function objectDiffs(before: Json | undefined, after: Json | undefined, skip: string[]): ObjectDiff[] {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].filter(
    (key) => OBJECT_NAMES[key] && !skip.includes(key),
  );
  const diffs = keys.flatMap((key) => {
    const old = before?.[key];
    const now = after?.[key];
    if (Array.isArray(old) || Array.isArray(now)) return listDiffs(key, old ?? [], now ?? []);
    if (key === 'Volumes' && (isObject(old) || isObject(now))) {
      // Group volumes are a map by name.
      return listDiffs(key, Object.values(old ?? {}), Object.values(now ?? {}));
    }
    const diff = objectDiff(OBJECT_NAMES[key]!, empty(old) ? undefined : old, empty(now) ? undefined : now);
    return diff ? [diff] : [];
  });
  const rank: Record<DiffType, number> = { Edited: 0, Added: 1, Deleted: 2, None: 3 };
  return diffs.sort((a, b) => rank[a.Type] - rank[b.Type] || a.Name.localeCompare(b.Name));
}

const empty = (value: unknown) =>
  value === undefined || value === null || (isObject(value) && !Object.keys(value).length);

function typeOf(before: unknown, after: unknown): DiffType {
  if (before === undefined) return 'Added';
  if (after === undefined) return 'Deleted';
  return sameJson(before, after) ? 'None' : 'Edited';
}

function taskDiff(before: Json | undefined, after: Json | undefined): TaskDiff {
  const type = typeOf(before, after);
  const fields = fieldDiffs(primitives(before, ['Name']), primitives(after, ['Name']), false);
  const objects = type === 'None' ? [] : objectDiffs(before, after, []);
  return {
    Type: type,
    Name: (after ?? before)!.Name,
    Fields: orNull(type === 'None' ? [] : fields),
    Objects: orNull(objects),
    Annotations: null,
  };
}

function byName<T extends Json>(before: T[], after: T[]): [T | undefined, T | undefined][] {
  const names = [...new Set([...before, ...after].map((item) => item.Name as string))].sort();
  return names.map((name) => [before.find((item) => item.Name === name), after.find((item) => item.Name === name)]);
}

function groupDiff(before: Json | undefined, after: Json | undefined): TaskGroupDiff {
  const type = typeOf(before, after);
  const fields = fieldDiffs(primitives(before, ['Name', 'Tasks']), primitives(after, ['Name', 'Tasks']), false);
  return {
    Type: type,
    Name: (after ?? before)!.Name,
    Fields: orNull(type === 'None' ? [] : fields),
    Objects: orNull(type === 'None' ? [] : objectDiffs(before, after, ['Tasks'])),
    Tasks: orNull(byName<Json>(before?.Tasks ?? [], after?.Tasks ?? []).map(([old, now]) => taskDiff(old, now))),
    Updates: null,
  };
}

/** Job.Diff(other, contextual=true): `before` undefined for a job Nomad does not have. */
export function jobDiff(before: Json | undefined, after: Json): JobDiff {
  const strip = (job: Json | undefined) => {
    if (!job) return undefined;
    const spec = specOf(job);
    for (const key of JOB_FILTER) if (key !== 'ID') delete spec[key];
    return spec;
  };
  const old = strip(before);
  const now = strip(after)!;
  const fields = fieldDiffs(
    primitives(old, [...JOB_FILTER, 'TaskGroups']),
    primitives(now, [...JOB_FILTER, 'TaskGroups']),
    false,
  );
  const objects = objectDiffs(old, now, ['TaskGroups', 'Update']);
  const groups = byName<Json>(old?.TaskGroups ?? [], now.TaskGroups ?? []).map(([a, b]) => groupDiff(a, b));
  const edited = [...fields, ...objects, ...groups].some((diff) => diff.Type !== 'None');
  return {
    Type: old === undefined ? 'Added' : edited ? 'Edited' : 'None',
    ID: now.ID,
    Fields: orNull(fields),
    Objects: orNull(objects),
    TaskGroups: orNull(groups),
  };
}

/** scheduler.Annotate: each group's updates from the plan, the count's direction, and what each task change forces. */
export function annotate(diff: JobDiff, desired: Record<string, DesiredUpdates>): JobDiff {
  for (const group of diff.TaskGroups ?? []) {
    const updates = desired[group.Name];
    if (updates) {
      group.Updates = Object.fromEntries(
        UPDATE_TYPES.filter(([key]) => updates[key] !== 0).map(([key, name]) => [name, updates[key]]),
      );
    }
    const count = group.Fields?.find((candidate) => candidate.Name === 'Count');
    if (count) {
      const old = Number(count.Old || 0);
      const now = Number(count.New || 0);
      if (old !== now) count.Annotations = [now > old ? FORCES_CREATE : FORCES_DESTROY];
    }
    for (const task of group.Tasks ?? []) {
      if (task.Type === 'None') continue;
      if ((group.Type === 'Added' || group.Type === 'Deleted') && task.Type !== 'Edited') {
        task.Annotations = [task.Type === 'Added' ? FORCES_CREATE : FORCES_DESTROY];
        continue;
      }
      // Every primitive field but KillTimeout, and every object but logs, services and constraints, is destructive.
      const destructive =
        (task.Fields ?? []).some((candidate) => candidate.Name !== 'KillTimeout') ||
        (task.Objects ?? []).some((object) => !['LogConfig', 'Service', 'Constraint'].includes(object.Name));
      task.Annotations = [destructive ? FORCES_DESTRUCTIVE : FORCES_IN_PLACE];
    }
  }
  return diff;
}
