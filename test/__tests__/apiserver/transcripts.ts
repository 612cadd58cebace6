// Reading the recorded exchanges (fixtures/k8s-api-transcripts) and comparing the double's answers with
// them: same status, and bodies of the same shape, where a placeholder such as `<uid>` or `<rv>` stands
// for any value of that form (in values and in keys, e.g. `k:{"uid":"<uid>"}` in managedFields).
import { readdirSync, readFileSync } from 'node:fs';

export interface Transcript {
  file: string;
  title: string;
  why: string;
  note?: string;
  request: { method: string; path: string; headers: Record<string, string>; body?: unknown };
  response: { status: number; headers: Record<string, string>; body?: unknown; streamEnd?: string };
}

const DIRECTORY = new URL('../../fixtures/k8s-api-transcripts/', import.meta.url);

export function transcript(number: number): Transcript {
  const file = readdirSync(DIRECTORY).find((name) => name.startsWith(`${String(number).padStart(2, '0')}-`));
  if (!file) throw new Error(`no transcript ${number}`);
  return { file, ...(JSON.parse(readFileSync(new URL(file, DIRECTORY), 'utf8')) as Omit<Transcript, 'file'>) };
}

const PLACEHOLDERS: Record<string, string> = {
  '<uid>': '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
  '<uid8>': '[0-9a-f]{8}',
  '<rv>': '\\d+',
  '<time>': '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ',
  '<continue>': '[A-Za-z0-9+/=_-]+',
  '<clusterIP>': '\\d+\\.\\d+\\.\\d+\\.\\d+',
  '<podIP>': '\\d+\\.\\d+\\.\\d+\\.\\d+',
  '<suffix>': '[a-z0-9]{5}',
  '<hex>': '[0-9a-f]+',
  '<ca-cert-pem>': '-----BEGIN CERTIFICATE-----[\\s\\S]+',
  // Not from the recordings: stands for the hashes Kubernetes derives from a pod template (pod-template-hash,
  // controller-revision-hash). The double hashes templates its own way (see withHashPlaceholders).
  '<hash>': '[a-z0-9]{8,10}',
};
const PLACEHOLDER = /<(uid8?|rv|time|continue|clusterIP|podIP|suffix|hex|ca-cert-pem|hash)>/g;

/** The recording's template hashes, replaced by `<hash>`: Kubernetes' hash of a Go struct cannot be reproduced. */
export function withHashPlaceholders(value: unknown, hashes: string[]): unknown {
  return JSON.parse(hashes.reduce((text, hash) => text.replaceAll(hash, '<hash>'), JSON.stringify(value)));
}

/** A recorded string with placeholders as a pattern; undefined when it has none. */
function pattern(recorded: string): RegExp | undefined {
  if (!PLACEHOLDER.test(recorded)) return undefined;
  PLACEHOLDER.lastIndex = 0;
  const parts = recorded.split(PLACEHOLDER);
  // split with a capture group alternates literal text and placeholder names.
  const source = parts
    .map((part, i) => (i % 2 === 0 ? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : PLACEHOLDERS[`<${part}>`]))
    .join('');
  return new RegExp(`^${source}$`);
}

function sameScalar(recorded: unknown, actual: unknown): boolean {
  if (typeof recorded === 'string') {
    const regex = pattern(recorded);
    if (regex) return typeof actual === 'string' && regex.test(actual);
  }
  return recorded === actual;
}

/**
 * Differences between a recorded body and an actual one, as `path: what` lines. Paths listed in `ignore`
 * (exact, or a prefix ending in `*`) are skipped; each use of `ignore` in a test says why.
 */
export function shapeDifferences(recorded: unknown, actual: unknown, ignore: string[] = [], path = ''): string[] {
  const ignored = (at: string) => ignore.some((rule) => ruleMatches(rule, at));
  if (ignored(path)) return [];
  if (Array.isArray(recorded)) {
    if (!Array.isArray(actual)) return [`${path}: expected a list, got ${JSON.stringify(actual)?.slice(0, 80)}`];
    if (recorded.length !== actual.length) return [`${path}: expected ${recorded.length} items, got ${actual.length}`];
    return recorded.flatMap((item, i) => shapeDifferences(item, actual[i], ignore, `${path}[${i}]`));
  }
  if (recorded && typeof recorded === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual))
      return [`${path}: expected an object, got ${JSON.stringify(actual)?.slice(0, 80)}`];
    const actualKeys = Object.keys(actual);
    const used = new Set<string>();
    const differences: string[] = [];
    for (const [key, value] of Object.entries(recorded)) {
      const regex = pattern(key);
      const match = regex ? actualKeys.find((k) => !used.has(k) && regex.test(k)) : key in actual ? key : undefined;
      if (match === undefined) {
        if (!ignored(`${path}.${key}`)) differences.push(`${path}.${key}: missing`);
        continue;
      }
      used.add(match);
      differences.push(
        ...shapeDifferences(value, (actual as Record<string, unknown>)[match], ignore, `${path}.${key}`),
      );
    }
    for (const key of actualKeys) {
      if (!used.has(key) && !ignored(`${path}.${key}`)) differences.push(`${path}.${key}: not in the recording`);
    }
    return differences;
  }
  return sameScalar(recorded, actual)
    ? []
    : [`${path}: expected ${JSON.stringify(recorded)}, got ${JSON.stringify(actual)}`];
}

/** An ignore rule: a path where `[*]` stands for any list index, and a trailing `*` for anything below. */
function ruleMatches(rule: string, path: string): boolean {
  const below = rule.endsWith('*') && !rule.endsWith('[*]');
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const source = (below ? rule.slice(0, -1) : rule).split('[*]').map(escape).join('\\[\\d+\\]');
  return new RegExp(`^${source}${below ? '.*' : ''}$`).test(path);
}
