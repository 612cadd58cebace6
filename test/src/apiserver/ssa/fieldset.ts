// Sets of field paths, shaped like structured-merge-diff's fieldpath.Set: the elements directly in the set
// (members) and, per element, the set of paths below it (children). A path can be both a member and a
// parent: a list item someone owns as a whole and whose fields they own too.
import { canonicalElement, compareElements, type FieldPath, type PathElement } from './path.js';

export interface FieldSet {
  readonly members: ReadonlySet<PathElement>;
  /** Never holds an empty set. */
  readonly children: ReadonlyMap<PathElement, FieldSet>;
}

interface Building {
  members: Set<PathElement>;
  children: Map<PathElement, Building>;
}

/** Built in place (a union per path would copy the top level once per path: quadratic on big objects). */
export function fieldSetOf(paths: Iterable<FieldPath>): FieldSet {
  const root: Building = { members: new Set(), children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const [index, element] of path.entries()) {
      if (index === path.length - 1) {
        node.members.add(element);
        break;
      }
      let child = node.children.get(element);
      if (!child) node.children.set(element, (child = { members: new Set(), children: new Map() }));
      node = child;
    }
  }
  return root;
}

export const isEmpty = (set: FieldSet): boolean => set.members.size === 0 && set.children.size === 0;

export function union(a: FieldSet, b: FieldSet): FieldSet {
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  const children = new Map(a.children);
  for (const [element, child] of b.children) {
    const mine = children.get(element);
    children.set(element, mine ? union(mine, child) : child);
  }
  return { members: new Set([...a.members, ...b.members]), children };
}

export function intersection(a: FieldSet, b: FieldSet): FieldSet {
  const children = new Map<PathElement, FieldSet>();
  for (const [element, child] of a.children) {
    const other = b.children.get(element);
    if (other) setIfNotEmpty(children, element, intersection(child, other));
  }
  return { members: new Set([...a.members].filter((member) => b.members.has(member))), children };
}

/** Removes the paths of `b`; a member of `b` does not remove what `a` holds below it. */
export function difference(a: FieldSet, b: FieldSet): FieldSet {
  const children = new Map<PathElement, FieldSet>();
  for (const [element, child] of a.children) {
    const other = b.children.get(element);
    setIfNotEmpty(children, element, other ? difference(child, other) : child);
  }
  return { members: new Set([...a.members].filter((member) => !b.members.has(member))), children };
}

/** Removes the paths of `b` and everything below them. */
export function recursiveDifference(a: FieldSet, b: FieldSet): FieldSet {
  const children = new Map<PathElement, FieldSet>();
  for (const [element, child] of a.children) {
    if (b.members.has(element)) continue;
    const other = b.children.get(element);
    setIfNotEmpty(children, element, other ? recursiveDifference(child, other) : child);
  }
  return { members: new Set([...a.members].filter((member) => !b.members.has(member))), children };
}

/**
 * Also counts as members the fields that only have members below them (structured-merge-diff's
 * EnsureNamedFieldsAreMembers), so that pruning can drop a whole struct nobody owns anything in.
 * List items are not added: owning something inside an item does not keep the item.
 */
export function withParentFieldsAsMembers(set: FieldSet): FieldSet {
  const children = new Map(
    [...set.children].map(([element, child]) => [element, withParentFieldsAsMembers(child)] as const),
  );
  const parentFields = [...set.children.keys()].filter((element) => element.startsWith('f:'));
  return { members: new Set([...set.members, ...parentFields]), children };
}

/** Every member path, in structured-merge-diff's order: a level's members, then its children's. */
export function fieldPaths(set: FieldSet, prefix: FieldPath = []): FieldPath[] {
  return [
    ...sorted(set.members).map((member) => [...prefix, member]),
    ...sorted(set.children.keys()).flatMap((element) => fieldPaths(set.children.get(element)!, [...prefix, element])),
  ];
}

/** The managedFields encoding: `{}` for a member, `".": {}` for a member that also has children. */
export function toFieldsV1(set: FieldSet): Record<string, unknown> {
  const elements = sorted(new Set([...set.members, ...set.children.keys()]));
  return Object.fromEntries(
    elements.map((element) => {
      const child = set.children.get(element);
      if (!child) return [element, {}];
      return [element, set.members.has(element) ? { '.': {}, ...toFieldsV1(child) } : toFieldsV1(child)];
    }),
  );
}

export function fromFieldsV1(fields: Record<string, unknown>): FieldSet {
  const members = new Set<PathElement>();
  const children = new Map<PathElement, FieldSet>();
  for (const [key, value] of Object.entries(fields)) {
    // Element kinds this version does not know are dropped, as structured-merge-diff drops them.
    if (!/^[fkv]:/.test(key)) continue;
    const element = canonicalElement(key);
    const content = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
    const child = fromFieldsV1(content);
    if ('.' in content || isEmpty(child)) members.add(element);
    setIfNotEmpty(children, element, child);
  }
  return { members, children };
}

function setIfNotEmpty(children: Map<PathElement, FieldSet>, element: PathElement, child: FieldSet): void {
  if (!isEmpty(child)) children.set(element, child);
}

const sorted = (elements: Iterable<PathElement>): PathElement[] => [...elements].sort(compareElements);
