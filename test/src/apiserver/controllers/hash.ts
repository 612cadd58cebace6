// Names the controllers derive from content: the pod-template-hash of a ReplicaSet and the revision hash
// of a ControllerRevision. Kubernetes takes an FNV-1a 32-bit hash and spells its decimal digits with a
// vowel-free alphabet (rand.SafeEncodeString), which is why such names look like `77844cbfb6`. The input
// here is the object as canonical JSON rather than Go's struct dump, so the values differ from a real
// cluster's while keeping their shape and stability.

/** JSON with object keys sorted, so that equal objects hash alike whatever order their keys were written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character replaced by one from an alphabet without vowels (no words by accident). */
function safeEncode(text: string): string {
  return [...text].map((char) => ALPHANUMS[char.charCodeAt(0) % ALPHANUMS.length]).join('');
}

/** A stable 10-character name part for a value (zero-padded, where Kubernetes' can be 9 characters long). */
export function contentHash(value: unknown): string {
  return safeEncode(String(fnv32a(canonicalJson(value))).padStart(10, '0'));
}

/**
 * Equality of JSON content. util.isDeepStrictEqual also compares prototypes, which differ between
 * objects from structuredClone and literals when the code runs in a VM context (jest's ESM mode).
 */
export const sameJson = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
