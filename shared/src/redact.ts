// The one redaction layer: every error message, log line and crash report passes through `redact` before it
// is printed, returned or logged, by any entry point. It removes what credentials look like (Authorization
// headers, bearer tokens and JWTs, passwords and keys in `key: value` or `key=value` form, PEM private keys,
// the user:password part of URLs, Secret data echoed by an API server or an admission webhook), and every
// value registered as secret by the code that read it (a kubeconfig's token, a generated password), wherever
// it appears. Browser-safe: no imports.

export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not searched for: they would match ordinary words. */
const MIN_SECRET_LENGTH = 6;
const known = new Set<string>();

/** From now on, `redact` replaces this value wherever it appears (a token, a password, a key). */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  known.add(value);
  // The same value as it shows in a Basic header or a Secret's data.
  known.add(
    btoa(Array.from(new TextEncoder().encode(value), (byte) => String.fromCharCode(byte)).join('')).replace(/=+$/, ''),
  );
}

// Field names that hold a credential, as kubeconfigs, HTTP headers, env files and JSON write them.
const SECRET_KEYS = String.raw`(?:password|passwd|pwd|token|secret|client[-_]?secret|id[-_]?token|refresh[-_]?token|access[-_]?token|api[-_]?key|secret[-_]?access[-_]?key|aws_secret_access_key|account[-_]?key|azure_storage_account_key|client[-_]?key[-_]?data|private[-_]?key|x-nomad-token|x-vault-token|consul_http_token|nomad_token|vault_token)`;
// A credential-looking word: mixed case, digits or base64 punctuation, not prose ("basic authentication").
const CREDENTIAL = String.raw`(?=[A-Za-z0-9\-._~+/]*[0-9A-Z+/=_~])[A-Za-z0-9\-._~+/]{6,}=*`;

const PATTERNS: [RegExp, string][] = [
  // PEM private keys, and their base64 form as kubeconfigs carry them (client-key-data).
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, `${REDACTED} private key`],
  [/LS0tLS1CRUdJTi[A-Za-z0-9+/=]*/g, REDACTED],
  // Authorization header values, however they are written (HTTP, JSON, a Node object dump), and JWTs.
  [
    new RegExp(String.raw`\b([Bb]earer|BEARER|[Bb]asic|BASIC|[Dd]igest|[Nn]egotiate)\s+${CREDENTIAL}`, 'g'),
    `$1 ${REDACTED}`,
  ],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // user:password@ in URLs.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]*@/gi, `$1${REDACTED}@`],
  // A Secret's data echoed back: JSON ("data":{…}), Go maps (data:map[…]), field paths (data[key]: Invalid value: "…").
  [/("?\b(?:data|stringData)"?\s*:\s*)(\{[^}]*\}|map\[[^\]]*\])/g, `$1{${REDACTED}}`],
  [/(\b(?:data|stringData)\[[^\]]*\]:\s*Invalid value:\s*)("(?:[^"\\]|\\.)*"|\S+)/g, `$1${REDACTED}`],
  // "key":"value" (JSON), and key: value or key=value with the key standing alone (not a field path such as
  // spec.gateway.passwordsSecret, whose messages must stay readable).
  [new RegExp(String.raw`("${SECRET_KEYS}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi'), `$1"${REDACTED}"`],
  [
    new RegExp(
      String.raw`((?:^|[\s{,;?&(\[])${SECRET_KEYS}\s*[:=]\s*)(?!\[REDACTED|['"]?\$\{)("(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|[^\s,;}&)\]]+)`,
      'gim',
    ),
    `$1${REDACTED}`,
  ],
];

/** The text with every credential it may carry replaced by [REDACTED]. */
export function redact(text: string): string {
  let result = text;
  for (const secret of [...known].sort((a, b) => b.length - a.length)) result = result.split(secret).join(REDACTED);
  for (const [pattern, replacement] of PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

/** An error (or anything thrown) as one redacted message: its message, or with `stack` its stack and cause. */
export function describeError(error: unknown, options: { stack?: boolean } = {}): string {
  if (!(error instanceof Error)) return redact(String(error));
  const cause = (error as { cause?: unknown }).cause;
  const text = options.stack
    ? `${error.stack ?? error.message}${cause ? `\ncaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}` : ''}`
    : error.message;
  return redact(text);
}
