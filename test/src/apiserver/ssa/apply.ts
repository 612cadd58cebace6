// Server-side apply: an applied configuration merged into the live object, field ownership deciding what
// conflicts and which of the fields a manager stopped applying go.
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  difference,
  fieldPaths,
  intersection,
  recursiveDifference,
  union,
  withParentFieldsAsMembers,
  type FieldSet,
} from './fieldset.js';
import {
  bodyOf,
  decodeManagedFields,
  managedFieldsOf,
  managerIdentifier,
  sameManager,
  withManagers,
  withoutServerFields,
  type Manager,
  type ManagerIdentity,
} from './managers.js';
import { compareStrings, formatPath } from './path.js';
import { resetFields, zeroValue } from './schema.js';
import { compareObjects, mergeObjects, sameJson, specifiedFields, withoutFields, type JsonObject } from './typed.js';
import { recordChanges } from './update.js';

export interface ApplyInput {
  live: KubernetesObject | undefined;
  applied: KubernetesObject;
  manager: string;
  force: boolean;
  now: string;
}

/** A field another manager owns and the apply would change. */
export interface ApplyConflict {
  manager: string;
  /** `.spec.ports[port=3100,protocol="TCP"].targetPort` */
  field: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  subresource?: string;
}

export type ApplyResult = { ok: true; object: KubernetesObject } | { ok: false; conflicts: ApplyConflict[] };

/**
 * The object after `manager` applies `applied` to `live` (undefined: the apply creates it), with
 * metadata.managedFields updated. The manager's Apply entry becomes what it applied now; fields it applied
 * before and no longer does are removed unless another manager owns them. Changing a field another
 * manager owns is a conflict; `force` takes the field from that manager instead. The entry's time moves to
 * `now` when the object changes, so an apply that changes nothing gives back `live` as it was.
 *
 * Throws a SchemaError for list items that cannot be identified, and an Error for undecodable managedFields.
 */
export function applyObject({ live, applied, manager, force, now }: ApplyInput): ApplyResult {
  const config = bodyOf(applied);
  const kind = String(config.kind ?? '');
  const applier: ManagerIdentity = { manager, operation: 'Apply', apiVersion: String(config.apiVersion ?? '') };
  const ignored = resetFields(kind, undefined);
  const before = live ? bodyOf(live) : {};
  const managers = live ? managersOf(live, before, kind, applier.apiVersion, now) : [];
  const previous = managers.find((entry) => sameManager(entry, applier));
  const others = managers
    .filter((entry) => entry !== previous)
    .sort((a, b) => compareStrings(managerIdentifier(a), managerIdentifier(b)));

  // Still with the object's name: pruning must not see the metadata as nobody's.
  const configFields = recursiveDifference(specifiedFields(config), ignored);
  const merged = mergeObjects(before, config);
  const after = previous
    ? prune(
        merged,
        previous.fields,
        others.reduce((owned, other) => union(owned, other.fields), configFields),
      )
    : merged;

  const changes = compareObjects(before, after, ignored);
  const changed = union(changes.modified, changes.added);
  const conflicts = others.flatMap((other) =>
    fieldPaths(intersection(other.fields, changed)).map((path) => conflict(other, formatPath(path))),
  );
  if (conflicts.length > 0 && !force) return { ok: false, conflicts };

  const remaining = others.map((other) => ({
    ...other,
    fields: difference(difference(other.fields, changed), changes.removed),
  }));
  const time = previous && sameJson(before, after) ? previous.time : now;
  return {
    ok: true,
    object: withManagers(after, [...remaining, { ...applier, time, fields: withoutServerFields(configFields) }]),
  };
}

/** The fields of an Apply entry for this configuration. */
export function appliedFields(applied: KubernetesObject): FieldSet {
  const config = bodyOf(applied);
  return withoutServerFields(
    recursiveDifference(specifiedFields(config), resetFields(String(config.kind ?? ''), undefined)),
  );
}

/**
 * The live object's managers. An object nobody manages yet gets a `before-first-apply` manager owning
 * all it holds, so the first apply conflicts with the values already there.
 */
function managersOf(
  live: KubernetesObject,
  body: JsonObject,
  kind: string,
  apiVersion: string,
  now: string,
): Manager[] {
  const managers = decodeManagedFields(managedFieldsOf(live));
  if (managers.length > 0) return managers;
  const firstApply: ManagerIdentity = { manager: 'before-first-apply', operation: 'Update', apiVersion };
  return recordChanges(zeroValue(kind), body, [], firstApply, resetFields(kind, undefined), now);
}

/**
 * Removes what the applier owned before (`last`) and no longer applies, unless a manager (the applier's
 * new configuration included) owns it: structured-merge-diff's prune, whose three passes first remove
 * all of `last`, then put back what is owned, then put back what `last` never held.
 */
function prune(merged: JsonObject, last: FieldSet, owned: FieldSet): JsonObject {
  const fieldsOf = (value: JsonObject) => withParentFieldsAsMembers(specifiedFields(value));
  const lastFields = withParentFieldsAsMembers(last);
  const mergedFields = fieldsOf(merged);
  const withoutLast = withoutFields(merged, lastFields, 'null');
  const ownedKept = withoutFields(
    merged,
    difference(mergedFields, union(fieldsOf(withoutLast), withParentFieldsAsMembers(owned))),
    'null',
  );
  return withoutFields(merged, intersection(difference(mergedFields, fieldsOf(ownedKept)), lastFields), 'omit');
}

function conflict({ manager, operation, apiVersion, subresource }: Manager, field: string): ApplyConflict {
  return { manager, field, operation, apiVersion, ...(subresource && { subresource }) };
}
