// Loki refuses to start on an unknown configuration key: these check rendered configs against Loki's own
// configuration reference (fixtures/loki-3.7-config-keys.json, v3.7.6) and its per-minor history.
import { readFileSync } from 'node:fs';
import { SUPPORTED_LOKI_MINORS } from 'loki-microservices';

interface KeyReference {
  paths: Record<string, string>;
  open_paths: string[];
  history: { paths_not_in_every_release: Record<string, string[]> };
}

const reference = JSON.parse(
  readFileSync(new URL('../fixtures/loki-3.7-config-keys.json', import.meta.url), 'utf8'),
) as KeyReference;

/** Key paths of a config in the reference's notation: `a.b`, list elements as `a.b[].c`. */
export function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value))
    return value.flatMap((item) => (item && typeof item === 'object' ? keyPaths(item, `${prefix}[]`) : []));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...(reference.open_paths.includes(path) ? [] : keyPaths(child, path))];
  });
}

/** The reference entry a path falls under: itself, a `*` map entry, or an open parent. */
function known(path: string): boolean {
  if (path in reference.paths) return true;
  const parts = path.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    const parent = parts.slice(0, i).join('.');
    if (reference.open_paths.includes(parent)) return true;
    const wildcard = [...parts.slice(0, i), '*', ...parts.slice(i + 1)].join('.');
    if (wildcard in reference.paths) return true;
  }
  return false;
}

export function unknownKeys(config: Record<string, unknown>): string[] {
  return keyPaths(config).filter((path) => !known(path));
}

/** Keys absent from some supported 3.x minor, with the minors that lack them. */
export function keysMissingInSupportedMinors(config: Record<string, unknown>): string[] {
  const supported = Array.from(
    { length: SUPPORTED_LOKI_MINORS.max - SUPPORTED_LOKI_MINORS.min + 1 },
    (_, i) => `3.${SUPPORTED_LOKI_MINORS.min + i}`,
  );
  return keyPaths(config).flatMap((path) => {
    const presentIn = reference.history.paths_not_in_every_release[path];
    const missing = presentIn ? supported.filter((minor) => !presentIn.includes(minor)) : [];
    return missing.length ? [`${path} (missing in ${missing.join(', ')})`] : [];
  });
}

/**
 * What the core ships (shared/src/stack/loki-keys.ts): per supported minor, the keys of some supported minor
 * that it lacks, each at its topmost such path, sorted. From the history of this reference.
 */
export function keysLackingByMinor(): Record<string, string[]> {
  const history = reference.history as KeyReference['history'] & {
    paths_only_in_older_3x: Record<string, { minors: string[] }>;
  };
  const presence: Record<string, string[]> = { ...history.paths_not_in_every_release };
  for (const [path, { minors }] of Object.entries(history.paths_only_in_older_3x)) presence[path] = minors;
  const supported = Array.from(
    { length: SUPPORTED_LOKI_MINORS.max - SUPPORTED_LOKI_MINORS.min + 1 },
    (_, i) => `3.${SUPPORTED_LOKI_MINORS.min + i}`,
  );
  return Object.fromEntries(
    supported.map((minor) => {
      const lacking = Object.entries(presence)
        .filter(([, minors]) => !minors.includes(minor) && supported.some((other) => minors.includes(other)))
        .map(([path]) => path);
      const topmost = lacking.filter(
        (path) =>
          !lacking.some((other) => other !== path && (path.startsWith(`${other}.`) || path.startsWith(`${other}[]`))),
      );
      return [minor, topmost.sort()];
    }),
  );
}
