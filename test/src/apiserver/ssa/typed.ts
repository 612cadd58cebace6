// Walks over JSON values with the schema in hand: structured-merge-diff's merge, compare, ToFieldSet and
// RemoveItems, reduced to plain JSON.
import { fieldSetOf, recursiveDifference, type FieldSet } from './fieldset.js';
import { fieldElement, formatPath, keyElement, valueElement, type FieldPath, type PathElement } from './path.js';
import { relationshipAt, type ListMap, type Relationship } from './schema.js';

export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Equality of JSON values (node:util's isDeepStrictEqual also compares prototypes, which differ across realms). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (isObject(a)) {
    const names = Object.keys(a);
    return (
      isObject(b) &&
      names.length === Object.keys(b).length &&
      names.every((name) => name in b && sameJson(a[name], b[name]))
    );
  }
  return a === b;
}

/** An object whose list items cannot be identified: what Kubernetes reports when typing an object fails. */
export class SchemaError extends Error {
  constructor(path: FieldPath, problem: string) {
    super(`${formatPath(path)}: ${problem}`);
    this.name = 'SchemaError';
  }
}

/** Where a walk is: the field path, and the field names the schema table matches (`containers[]` for an item). */
interface Position {
  readonly path: FieldPath;
  readonly segments: readonly string[];
}

const ROOT: Position = { path: [], segments: [] };

const fieldPosition = (at: Position, name: string): Position => ({
  path: [...at.path, fieldElement(name)],
  segments: [...at.segments, name],
});

const itemPosition = (at: Position, element: PathElement): Position => ({
  path: [...at.path, element],
  segments: [...at.segments.slice(0, -1), `${at.segments.at(-1)}[]`],
});

type AssociativeList = Extract<Relationship, { type: 'listSet' | 'listMap' }>;

function associativeListAt(at: Position): AssociativeList | undefined {
  const relationship = relationshipAt(at.segments);
  return relationship?.type === 'listSet' || relationship?.type === 'listMap' ? relationship : undefined;
}

const isAtomicAt = (at: Position): boolean => relationshipAt(at.segments)?.type === 'atomic';

type Shape =
  { readonly kind: 'leaf' } | { readonly kind: 'struct' } | { readonly kind: 'list'; readonly list: AssociativeList };

const LEAF: Shape = { kind: 'leaf' };
const STRUCT: Shape = { kind: 'struct' };

/** How the two sides of a field are walked together; null stands for an empty struct or list. */
function shapeOf(at: Position, sides: readonly unknown[]): Shape {
  const present = sides.filter((side) => side !== undefined && side !== null);
  if (present.length === 0) return LEAF;
  if (present.every(isObject)) return isAtomicAt(at) ? LEAF : STRUCT;
  const list = present.every(Array.isArray) ? associativeListAt(at) : undefined;
  return list ? { kind: 'list', list } : LEAF;
}

/** The items of an associative list by element, in list order. */
function listItems(
  list: readonly unknown[],
  relationship: AssociativeList,
  at: Position,
  rejectDuplicates: boolean,
): Map<PathElement, unknown> {
  const items = new Map<PathElement, unknown>();
  list.forEach((item, index) => {
    const element = itemElement(item, relationship, at, index);
    if (!items.has(element)) items.set(element, item);
    else if (rejectDuplicates) throw new SchemaError(at.path, `duplicate entries for key ${formatPath([element])}`);
  });
  return items;
}

function itemElement(item: unknown, relationship: AssociativeList, at: Position, index: number): PathElement {
  if (relationship.type === 'listSet') {
    if (item === null || typeof item === 'object')
      throw new SchemaError(at.path, `element ${index}: a set can only hold scalars`);
    return valueElement(item);
  }
  if (!isObject(item))
    throw new SchemaError(at.path, `element ${index}: associative list with keys may not have non-map elements`);
  return keyElement(relationship.keys.map((name) => [name, keyValue(item, name, relationship, at, index)] as const));
}

function keyValue(item: JsonObject, name: string, list: ListMap, at: Position, index: number): unknown {
  const value = name in item ? item[name] : list.keyDefaults?.[name];
  if (value === undefined) {
    throw new SchemaError(
      at.path,
      `element ${index}: associative list with keys has an element that omits key field "${name}" (and doesn't have default value)`,
    );
  }
  return value;
}

const asObject = (value: unknown): JsonObject => (isObject(value) ? value : {});
const asList = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/** The object an apply produces: the configuration merged into the live object. */
export function mergeObjects(live: JsonObject, config: JsonObject): JsonObject {
  return merge(ROOT, live, config) as JsonObject;
}

function merge(at: Position, live: unknown, config: unknown): unknown {
  const shape = shapeOf(at, [live, config]);
  switch (shape.kind) {
    case 'leaf':
      return config === undefined ? live : config;
    case 'struct': {
      const [liveFields, configFields] = [asObject(live), asObject(config)];
      const names = new Set([...Object.keys(liveFields), ...Object.keys(configFields)]);
      return Object.fromEntries(
        [...names].map((name) => [name, merge(fieldPosition(at, name), liveFields[name], configFields[name])]),
      );
    }
    case 'list':
      return mergeLists(at, shape.list, asList(live), asList(config));
  }
}

/**
 * structured-merge-diff's list merge: items only the live list has keep their place, items of both sides
 * follow the configuration's order, and new items come in where the configuration puts them relative
 * to those.
 */
function mergeLists(
  at: Position,
  relationship: AssociativeList,
  live: readonly unknown[],
  config: readonly unknown[],
): unknown[] {
  const liveItems = listItems(live, relationship, at, true);
  const configItems = listItems(config, relationship, at, true);
  const [liveOrder, configOrder] = [[...liveItems.keys()], [...configItems.keys()]];
  const shared = configOrder.filter((element) => liveItems.has(element));
  const out: unknown[] = [];
  const take = (element: PathElement) =>
    out.push(merge(itemPosition(at, element), liveItems.get(element), configItems.get(element)));
  let [l, c, nextShared] = [0, 0, 0];
  while (l < liveOrder.length || c < configOrder.length) {
    const [liveElement, configElement] = [liveOrder[l], configOrder[c]];
    if (liveElement !== undefined && liveElement === configElement) {
      take(liveElement);
      [l, c, nextShared] = [l + 1, c + 1, nextShared + 1];
    } else if (liveElement !== undefined && configItems.has(liveElement) && shared[nextShared] !== liveElement) {
      l++; // comes later, in the configuration's order
    } else if (liveElement !== undefined && !configItems.has(liveElement)) {
      take(liveElement);
      l++;
    } else if (configElement !== undefined) {
      take(configElement);
      if (shared[nextShared] === configElement) nextShared++;
      c++;
    }
  }
  return out;
}

export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/** What changed from `before` to `after`, leaving out the `ignored` fields and everything below them. */
export function compareObjects(before: JsonObject, after: JsonObject, ignored: FieldSet): Comparison {
  const found = { added: [] as FieldPath[], modified: [] as FieldPath[], removed: [] as FieldPath[] };
  compare(ROOT, before, after, found);
  const collect = (paths: FieldPath[]) => recursiveDifference(fieldSetOf(paths), ignored);
  return { added: collect(found.added), modified: collect(found.modified), removed: collect(found.removed) };
}

function compare(at: Position, before: unknown, after: unknown, found: Record<keyof Comparison, FieldPath[]>): void {
  const shape = shapeOf(at, [before, after]);
  if (shape.kind === 'struct') {
    const [beforeFields, afterFields] = [asObject(before), asObject(after)];
    for (const name of new Set([...Object.keys(beforeFields), ...Object.keys(afterFields)])) {
      compare(fieldPosition(at, name), beforeFields[name], afterFields[name], found);
    }
  } else if (shape.kind === 'list') {
    const beforeItems = listItems(asList(before), shape.list, at, false);
    const afterItems = listItems(asList(after), shape.list, at, false);
    for (const element of new Set([...beforeItems.keys(), ...afterItems.keys()])) {
      compare(itemPosition(at, element), beforeItems.get(element), afterItems.get(element), found);
    }
  }
  if (before === undefined) found.added.push(at.path);
  else if (after === undefined) found.removed.push(at.path);
  else if (shape.kind === 'leaf' && !sameJson(before, after)) found.modified.push(at.path);
}

/**
 * The fields a value specifies (structured-merge-diff's ToFieldSet): its scalars, atomic fields, list
 * items, and fields set to null or `{}`. A struct holding fields is not itself a member.
 */
export function specifiedFields(value: JsonObject): FieldSet {
  const paths: FieldPath[] = [];
  specified(ROOT, value, paths);
  return fieldSetOf(paths);
}

function specified(at: Position, value: unknown, paths: FieldPath[]): void {
  const list = Array.isArray(value) ? associativeListAt(at) : undefined;
  if (Array.isArray(value) && list) {
    for (const [element, item] of listItems(value, list, at, false)) {
      const position = itemPosition(at, element);
      specified(position, item, paths);
      paths.push(position.path);
    }
  } else if (isObject(value) && !isAtomicAt(at)) {
    for (const [name, child] of Object.entries(value)) {
      const position = fieldPosition(at, name);
      specified(position, child, paths);
      if (isObject(child) && Object.keys(child).length === 0) paths.push(position.path);
    }
  } else {
    paths.push(at.path);
  }
}

/**
 * The value without the paths of `set`, each with everything below it (structured-merge-diff's
 * RemoveItems). A field the removal empties becomes null there, which still counts as specified; with
 * `emptied: 'omit'` it goes as well, as it does from the typed object Kubernetes converts the result into.
 * A list item the removal empties goes in both cases.
 */
export function withoutFields(value: JsonObject, set: FieldSet, emptied: 'null' | 'omit'): JsonObject {
  return without(ROOT, value, set, emptied) as JsonObject;
}

function without(at: Position, value: unknown, set: FieldSet, emptied: 'null' | 'omit'): unknown {
  const list = Array.isArray(value) ? associativeListAt(at) : undefined;
  if (Array.isArray(value) && list) {
    return value.flatMap((item, index) => {
      const element = itemElement(item, list, at, index);
      if (set.members.has(element)) return [];
      const child = set.children.get(element);
      const kept = child ? without(itemPosition(at, element), item, child, emptied) : item;
      return child && isEmptyContainer(kept) ? [] : [kept];
    });
  }
  if (isObject(value) && !isAtomicAt(at)) {
    const kept: JsonObject = {};
    for (const [name, field] of Object.entries(value)) {
      const element = fieldElement(name);
      if (set.members.has(element)) continue;
      const child = set.children.get(element);
      const remaining = child ? without(fieldPosition(at, name), field, child, emptied) : field;
      if (!child || !isEmptyContainer(remaining)) kept[name] = remaining;
      else if (emptied === 'null') kept[name] = null;
    }
    return kept;
  }
  return value;
}

const isEmptyContainer = (value: unknown): boolean =>
  Array.isArray(value) ? value.length === 0 : isObject(value) && Object.keys(value).length === 0;
