// Ownership after writes that are not applies (create, replace, patches, status updates): the writer
// takes every field it added or changed, from whoever owned it.
import type { KubernetesObject } from '@kubernetes/client-node';
import { difference, isEmpty, union, type FieldSet } from './fieldset.js';
import {
  bodyOf,
  decodeManagedFields,
  managedFieldsOf,
  sameManager,
  withManagers,
  withoutServerFields,
  type Manager,
  type ManagerIdentity,
} from './managers.js';
import { resetFields, zeroValue } from './schema.js';
import { compareObjects, isObject, type JsonObject } from './typed.js';

/**
 * `updated` with managedFields recording a write by `manager` (`live` is undefined for a create). The
 * manager's `Update` entry (one per manager, API version and subresource) gains the fields it added or
 * changed, and other entries lose them; fields it removed leave every entry. Through `/status`, the
 * fields the status strategy resets (`spec`, …) do not count; through the resource, `status` does not.
 *
 * As the API server, it keeps no record for an existing object that has none.
 */
export function recordUpdate(
  live: KubernetesObject | undefined,
  updated: KubernetesObject,
  manager: string,
  now: string,
  subresource?: 'status' | 'finalize',
): KubernetesObject {
  const body = bodyOf(updated);
  const managers = managersBefore(live, updated, subresource);
  if (live && managers.length === 0) return body as KubernetesObject;
  const kind = String(updated.kind ?? live?.kind ?? '');
  const writer: ManagerIdentity = {
    manager: manager || 'unknown',
    operation: 'Update',
    apiVersion: String(updated.apiVersion ?? live?.apiVersion ?? ''),
    ...(subresource && { subresource }),
  };
  const before = live ? bodyOf(live) : zeroValue(kind);
  return withManagers(body, recordChanges(before, body, managers, writer, resetFields(kind, subresource), now));
}

/**
 * The managers after `writer` turned `before` into `after`, `ignored` fields set aside (structured-merge-
 * diff's Update, then the API server's merge of the result into the writer's previous entry).
 */
export function recordChanges(
  before: JsonObject,
  after: JsonObject,
  managers: readonly Manager[],
  writer: ManagerIdentity,
  ignored: FieldSet,
  now: string,
): Manager[] {
  const changes = compareObjects(before, after, ignored);
  const changed = union(changes.modified, changes.added);
  const remaining = managers.map((manager) => ({
    ...manager,
    fields: difference(difference(manager.fields, changed), changes.removed),
  }));
  const previous = remaining.find((manager) => sameManager(manager, writer));
  const others = remaining.filter((manager) => manager !== previous);
  const taken = withoutServerFields(changed);
  if (isEmpty(taken)) return remaining;
  return [...others, { ...writer, time: now, fields: previous ? union(taken, previous.fields) : taken }];
}

/**
 * The managedFields a write starts from: those the request carries (a client may edit them; an empty
 * list, or one empty entry, clears them), else the live object's. A subresource write keeps the live ones.
 */
function managersBefore(
  live: KubernetesObject | undefined,
  updated: KubernetesObject,
  subresource: string | undefined,
): Manager[] {
  const liveManagers = () => decodedOrNone(managedFieldsOf(live));
  if (subresource) return liveManagers();
  const sent = managedFieldsOf(updated);
  if (isReset(sent)) return [];
  const managers = decodedOrNone(sent);
  return managers.length > 0 ? managers : liveManagers();
}

function decodedOrNone(entries: unknown): Manager[] {
  try {
    return decodeManagedFields(entries);
  } catch {
    return [];
  }
}

const isReset = (entries: unknown): boolean =>
  Array.isArray(entries) &&
  (entries.length === 0 || (entries.length === 1 && isObject(entries[0]) && Object.keys(entries[0]).length === 0));
