// Field paths as structured-merge-diff spells them. A path element is kept in its managedFields form,
// which is canonical (key fields sorted, JSON as Go encodes it), so equal elements are equal strings:
//   f:<name>           a field of a struct or a key of a map
//   k:{"name":"x"}     the item of an associative list whose key fields have these values
//   v:"value"          the item of a set (a list of scalars)

export type PathElement = string;
export type FieldPath = readonly PathElement[];

export const fieldElement = (name: string): PathElement => `f:${name}`;

/** The element of a list-map item; fields are sorted by name, as structured-merge-diff sorts them. */
export function keyElement(fields: Iterable<readonly [string, unknown]>): PathElement {
  const sorted = [...fields].sort(([a], [b]) => compareStrings(a, b));
  return `k:{${sorted.map(([name, value]) => `${goJson(name)}:${goJson(value)}`).join(',')}}`;
}

export const valueElement = (value: unknown): PathElement => `v:${goJson(value)}`;

/** Rewrites an element read from stored managedFields into the canonical form. */
export function canonicalElement(element: string): PathElement {
  switch (element.slice(0, 2)) {
    case 'k:':
      return keyElement(Object.entries(JSON.parse(element.slice(2)) as Record<string, unknown>));
    case 'v:':
      return valueElement(JSON.parse(element.slice(2)));
    default:
      return element;
  }
}

/** structured-merge-diff's order: fields, then keys, then values, each by content. */
export function compareElements(a: PathElement, b: PathElement): number {
  const rank = KIND_RANK.indexOf(a[0] ?? '') - KIND_RANK.indexOf(b[0] ?? '');
  if (rank !== 0) return rank;
  const [left, right] = [a.slice(2), b.slice(2)];
  switch (a[0]) {
    case 'k':
      return compareKeys(Object.entries(JSON.parse(left) as object), Object.entries(JSON.parse(right) as object));
    case 'v':
      return compareValues(JSON.parse(left), JSON.parse(right));
    default:
      return compareStrings(left, right);
  }
}

/** Kubernetes' notation in conflict messages: `.spec.ports[port=80,protocol="TCP"].targetPort`. */
export function formatPath(path: FieldPath): string {
  return path.map(formatElement).join('');
}

function formatElement(element: PathElement): string {
  const content = element.slice(2);
  switch (element[0]) {
    case 'f':
      return `.${content}`;
    case 'k':
      return `[${Object.entries(JSON.parse(content) as object)
        .map(([name, value]) => `${name}=${formatValue(value)}`)
        .join(',')}]`;
    default:
      return `[=${formatValue(JSON.parse(content))}]`;
  }
}

/** Go's `%v` of a value, strings quoted (`%q`). */
const formatValue = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

const KIND_RANK = ['f', 'k', 'v'];

/** Go's strings.Compare: by UTF-8 bytes. */
export const compareStrings = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function compareKeys(a: [string, unknown][], b: [string, unknown][]): number {
  for (const [i, [name, value]] of a.entries()) {
    const [otherName, otherValue] = b[i]!;
    const order = compareStrings(name, otherName) || compareValues(value, otherValue);
    if (order !== 0) return order;
  }
  return 0;
}

/** Numbers by value (structured-merge-diff's order of scalars); key values of one list share a type. */
const compareValues = (a: unknown, b: unknown): number =>
  typeof a === 'number' && typeof b === 'number' ? a - b : compareStrings(String(a), String(b));

/** JSON as Go's encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
