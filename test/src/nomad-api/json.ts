// Job documents are free-form JSON, as Nomad's API sends and takes them; the objects this double reasons
// about (allocations, evaluations, deployments) are typed in model.ts.

export type Json = Record<string, any>;

export const clone = <T>(value: T): T => structuredClone(value);

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON with object keys sorted, so that equal documents give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isObject(item)
      ? Object.fromEntries(
          Object.keys(item)
            .sort()
            .map((key) => [key, item[key]]),
        )
      : item,
  );
}

export const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** A map with its keys in Go's order (encoding/json sorts map keys); empty maps become null, as Nomad's structs do. */
export function goMap<T>(map: Record<string, T> | null | undefined): Record<string, T> | null {
  if (!map || Object.keys(map).length === 0) return null;
  return Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((key) => [key, map[key]!]),
  );
}
