// metadata.managedFields: who owns which fields, decoded to field sets and encoded back the way the API
// server writes them.
import type { KubernetesObject } from '@kubernetes/client-node';
import { difference, fieldSetOf, fromFieldsV1, isEmpty, toFieldsV1, type FieldSet } from './fieldset.js';
import { compareStrings, fieldElement } from './path.js';
import { isObject, type JsonObject } from './typed.js';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** What tells managers apart: an applier is one manager whatever version it applies with. */
export interface ManagerIdentity {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
}

export interface Manager extends ManagerIdentity {
  /** Absent only on an entry stored without one. */
  time: string | undefined;
  fields: FieldSet;
}

/** The API server's manager identifier (BuildManagerIdentifier), also the order conflicts are reported in. */
export function managerIdentifier({ manager, operation, apiVersion, subresource }: ManagerIdentity): string {
  return JSON.stringify({
    manager,
    operation,
    ...(operation === 'Update' && { apiVersion }),
    ...(subresource && { subresource }),
  });
}

export const sameManager = (a: ManagerIdentity, b: ManagerIdentity): boolean =>
  managerIdentifier(a) === managerIdentifier(b);

/** The managers of an object; an entry repeating an earlier one's identity replaces it. */
export function decodeManagedFields(entries: unknown): Manager[] {
  const managers = new Map<string, Manager>();
  for (const [index, entry] of (Array.isArray(entries) ? entries : []).entries()) {
    const manager = decodeEntry(isObject(entry) ? entry : {}, index);
    managers.set(managerIdentifier(manager), manager);
  }
  return [...managers.values()];
}

function decodeEntry(entry: JsonObject, index: number): Manager {
  const { manager, operation, apiVersion, time, fieldsType, fieldsV1, subresource } = entry;
  const invalid = (problem: string) => new Error(`failed to decode managed fields: ${problem}`);
  if (operation !== 'Apply' && operation !== 'Update') throw invalid('operation must be `Apply` or `Update`');
  if (typeof apiVersion !== 'string' || apiVersion === '') throw invalid('apiVersion must not be empty');
  if (fieldsType !== 'FieldsV1')
    throw invalid(`invalid fieldsType ${JSON.stringify(fieldsType ?? '')} in managed fields entry ${index}`);
  return {
    manager: typeof manager === 'string' ? manager : '',
    operation,
    apiVersion,
    ...(typeof subresource === 'string' && subresource !== '' && { subresource }),
    time: typeof time === 'string' ? time : undefined,
    fields: fromFieldsV1(isObject(fieldsV1) ? fieldsV1 : {}),
  };
}

/** Entries in the API server's order: Apply before Update, then oldest first, then by manager. */
function encodeManagedFields(managers: readonly Manager[]): ManagedFieldsEntry[] {
  return [...managers].sort(compareManagers).map(
    ({ manager, operation, apiVersion, time, subresource, fields }) =>
      ({
        manager,
        operation,
        apiVersion,
        ...(time !== undefined && { time }),
        fieldsType: 'FieldsV1',
        fieldsV1: toFieldsV1(fields),
        ...(subresource && { subresource }),
      }) as ManagedFieldsEntry,
  );
}

function compareManagers(a: Manager, b: Manager): number {
  return (
    compareStrings(a.operation, b.operation) ||
    seconds(a.time) - seconds(b.time) ||
    compareStrings(a.manager, b.manager) ||
    compareStrings(a.apiVersion, b.apiVersion) ||
    compareStrings(a.subresource ?? '', b.subresource ?? '')
  );
}

const seconds = (time: string | undefined): number => Math.floor((Date.parse(time ?? '') || 0) / 1000);

/** Never owned by anyone: the type, and the metadata that names the object or that the server sets. */
const SERVER_METADATA = [
  'name',
  'namespace',
  'creationTimestamp',
  'selfLink',
  'uid',
  'clusterName',
  'generation',
  'managedFields',
  'resourceVersion',
];
const SERVER_FIELDS = fieldSetOf(
  [['apiVersion'], ['kind'], ['metadata'], ...SERVER_METADATA.map((name) => ['metadata', name])].map((path) =>
    path.map(fieldElement),
  ),
);

export const withoutServerFields = (fields: FieldSet): FieldSet => difference(fields, SERVER_FIELDS);

export const managedFieldsOf = (object: KubernetesObject | undefined): unknown => object?.metadata?.managedFields;

/** A private copy of the object without its managedFields. */
export function bodyOf(object: KubernetesObject): JsonObject {
  const body = structuredClone(object) as unknown as JsonObject;
  if (isObject(body.metadata)) delete body.metadata.managedFields;
  return body;
}

/** The object with managedFields encoded from `managers` (none at all when nobody owns anything). */
export function withManagers(body: JsonObject, managers: readonly Manager[]): KubernetesObject {
  const { managedFields: _previous, ...metadata } = isObject(body.metadata) ? body.metadata : {};
  const entries = encodeManagedFields(managers.filter((manager) => !isEmpty(manager.fields)));
  return {
    ...body,
    metadata: entries.length > 0 ? { ...metadata, managedFields: entries } : metadata,
  } as KubernetesObject;
}
