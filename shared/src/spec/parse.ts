// From user input (an object, or YAML/JSON text) to a validated, profile-resolved LokiStack, or a
// SpecError listing every problem with its field path and what would be valid.
import { closest, distance } from 'fastest-levenshtein';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { SpecError, type SpecIssue } from '../errors.js';
import { schemaPeriodIssues } from '../stack/schema-periods.js';
import { memcachedPreset, presetDocument } from './profiles.js';
import { API_VERSION, PROFILES, stackSchema, type LokiStack, type ProfileName } from './schema.js';

type Json = Record<string, unknown>;
type Path = (string | number)[];

/** Extra advice for values people are known to try. */
const HINTS: Record<string, Record<string, string>> = {
  'spec.storage.type': {
    minio:
      '. MinIO no longer publishes images (removed from Docker Hub in 2026): use "bundled" for a RustFS store in the stack, or "s3" with spec.storage.s3.endpoint and forcePathStyle: true for a MinIO you run',
    filesystem: '. A filesystem store cannot be shared by several Loki pods: use "bundled" for a test cluster',
  },
};

// How many times invalid fields are set aside to let the cross-field rules run on the rest.
const MAX_PASSES = 3;

export interface ParseOptions {
  /** The time the schema periods are judged at (one must be in effect). @default the current time */
  now?: Date;
}

/** Validate a spec document and resolve its profile. Throws SpecError with every problem found. */
export function parseSpec(input: unknown, options: ParseOptions = {}): LokiStack {
  if (input === undefined || input === null) input = {};
  if (!isObject(input))
    throw new SpecError([{ path: '(root)', message: 'must be a mapping with apiVersion, kind, metadata and spec' }]);
  refuseUnsafeKeys(input);

  const document = withPreset(input);
  const issues: SpecIssue[] = [];
  const reported = new Set<string>();
  const report = (issue: SpecIssue) => {
    // One message per field; a field's own message beats "required" on the block that contains it.
    const covered =
      reported.has(issue.path) ||
      [...reported].some((path) => path.startsWith(`${issue.path}.`) || path.startsWith(`${issue.path}[`));
    if (!covered) {
      reported.add(issue.path);
      issues.push(issue);
    }
  };

  const profile = profileOf(input);
  if (profile === 'production' && getPath(document, ['spec', 'storage', 'type']) === undefined) {
    report({
      path: 'spec.storage.type',
      message:
        'required for profile production: choose s3, gcs or azure (bundled is a single-pod store meant for tests)',
    });
  }

  for (let pass = 0; pass < MAX_PASSES; pass++) {
    // Jitless: a process parses one spec or a few, and compiling zod's fast path for this schema (~10 ms) costs
    // more than those parses.
    const result = stackSchema.safeParse(document, { error: friendlyMessage, jitless: true });
    if (result.success) {
      // The schema periods are judged at a time: today's date decides which one is in effect.
      if (result.data.spec.schemas)
        for (const issue of schemaPeriodIssues(result.data.spec.schemas, result.data.spec.version, options.now))
          report(issue);
      if (issues.length === 0) return result.data;
      break;
    }
    for (const issue of result.error.issues) {
      for (const formatted of formatIssue(issue, document)) report(formatted);
      // Set the offending field aside (back to its preset value, if any) so the next pass can check the rest.
      const offending =
        issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
      for (const path of offending) resetPath(document, path as Path, input);
    }
  }
  throw new SpecError(issues);
}

/**
 * Read a spec file's text (YAML or JSON, one document) into a document for applyOverrides/parseSpec. An
 * empty file (or one of comments only) is an error: only leaving the file out means the default stack.
 */
export function readSpecDocument(text: string, source = 'the spec'): Record<string, unknown> {
  const parsed = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (parsed.errors.length > 0) {
    throw new SpecError(
      parsed.errors.map((error) => ({
        path: '(root)',
        message: `${source} is not valid YAML or JSON: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  const document: unknown = parsed.toJS();
  if (document === null || document === undefined) {
    throw new SpecError([
      {
        path: '(root)',
        message: `${source} is empty: write a spec in it (at least "apiVersion: ${API_VERSION}"), or leave the file out for the default stack`,
      },
    ]);
  }
  if (!isObject(document))
    throw new SpecError([
      { path: '(root)', message: `${source} must hold one mapping with apiVersion, kind, metadata and spec` },
    ]);
  refuseUnsafeKeys(document);
  return document;
}

/** Keys that would reach an object's prototype when merged or set by path: never a spec field. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function refuseUnsafeKeys(document: Json): void {
  const issues: SpecIssue[] = [];
  const walk = (value: unknown, path: Path) => {
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...path, index]));
    else if (isObject(value)) {
      for (const key of Object.keys(value)) {
        if (UNSAFE_KEYS.has(key))
          issues.push({
            path: dotted([...path, key]),
            message: 'is not a field name (it would reach into JavaScript objects): remove it',
          });
        else walk(value[key], [...path, key]);
      }
    }
  };
  walk(document, []);
  if (issues.length > 0) throw new SpecError(issues);
}

function profileOf(input: Json): ProfileName {
  const profile = getPath(input, ['spec', 'profile']);
  return PROFILES.includes(profile as ProfileName) ? (profile as ProfileName) : 'demo';
}

function withPreset(input: Json): Json {
  const document = deepMerge(presetDocument(profileOf(input)), input);
  // The bundled store needs no settings: give its block so that its defaults apply.
  if (
    getPath(document, ['spec', 'storage', 'type']) === 'bundled' &&
    getPath(document, ['spec', 'storage', 'bundled']) === undefined
  ) {
    setPath(document, ['spec', 'storage', 'bundled'], {});
  }
  // Memcached caches are sized by the profile, whether the profile or the user chose them.
  const caches = getPath(document, ['spec', 'caches']);
  if (isObject(caches) && caches.type === 'memcached')
    setPath(document, ['spec', 'caches'], deepMerge(memcachedPreset(profileOf(input)) as unknown as Json, caches));
  return document;
}

/** Objects merge key by key; `null` removes what `base` has (as in Helm); anything else replaces it. */
export function deepMerge(base: Json, override: Json): Json {
  const merged: Json = structuredClone(base);
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    if (value === null) delete merged[key];
    else merged[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : structuredClone(value);
  }
  return merged;
}

function friendlyMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? 'required'
        : `must be ${article(TYPE_NAMES[issue.expected] ?? issue.expected)}, got ${describeValue(issue.input)}`;
    case 'invalid_key':
      return issue.issues[0]?.message;
    case 'too_small':
      return issue.origin === 'string'
        ? `must be at least ${issue.minimum} characters`
        : issue.origin === 'array'
          ? `must have at least ${issue.minimum} entries`
          : `must be ${issue.inclusive === false ? '>' : '≥'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${issue.maximum} characters`
        : `must be ${issue.inclusive === false ? '<' : '≤'} ${issue.maximum}`;
    case 'invalid_value': {
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, issue.values.map(String)) : '';
      return `must be one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${hint}`;
    }
    default:
      return undefined;
  }
}

function formatIssue(issue: z.core.$ZodIssue, document: Json): SpecIssue[] {
  const path = issue.path as Path;
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(knownFieldsAt(path) ?? {});
    return issue.keys.map((key) => ({
      path: dotted([...path, key]),
      // Never echo the value of an unknown field: it may be a credential put in the wrong place.
      message: `unknown field${didYouMean(key, known) || (known.length ? `; valid fields here: ${known.join(', ')}` : '')}`,
    }));
  }
  if (issue.code === 'invalid_type' && getPath(document, path) === undefined) {
    return [{ path: dotted(path), message: requiredMessage(path) }];
  }
  return [
    { path: dotted(path), message: issue.message + (HINTS[dotted(path)]?.[String(getPath(document, path))] ?? '') },
  ];
}

function requiredMessage(path: Path): string {
  const description = schemaAt(path)?.description;
  return description ? `required: ${description}` : 'required';
}

/** The fields the schema allows at a document path, for suggesting the one the user meant. */
function knownFieldsAt(path: Path): Record<string, unknown> | undefined {
  const schema = schemaAt(path);
  const def = schema && unwrap(schema).def;
  return def?.type === 'object' ? (def as z.core.$ZodObjectDef).shape : undefined;
}

function schemaAt(path: Path): z.ZodType | undefined {
  let schema: z.ZodType | undefined = stackSchema as unknown as z.ZodType;
  for (const key of path) {
    if (!schema) return undefined;
    const def: z.core.$ZodTypeDef = unwrap(schema).def;
    if (def.type === 'object') {
      const shape = (def as z.core.$ZodObjectDef).shape;
      schema = Object.hasOwn(shape, key) ? (shape[key as string] as z.ZodType) : undefined;
    } else if (def.type === 'record') schema = (def as z.core.$ZodRecordDef).valueType as z.ZodType;
    else if (def.type === 'array') schema = (def as z.core.$ZodArrayDef).element as z.ZodType;
    else return undefined;
  }
  return schema;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = current.def as z.core.$ZodTypeDef & { innerType?: z.ZodType; in?: z.ZodType };
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

function didYouMean(value: string, candidates: string[]): string {
  if (candidates.length === 0) return '';
  const best = closest(value, candidates);
  const close = distance(value.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(best.length / 3));
  return close ? `; did you mean "${best}"?` : '';
}

const TYPE_NAMES: Record<string, string> = { object: 'mapping', array: 'list', int: 'integer' };

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function dotted(path: Path): string {
  return (
    path.reduce<string>(
      (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${key}` : key),
      '',
    ) || '(root)'
  );
}

function resetPath(document: Json, path: Path, input: Json): void {
  if (path.length === 0) return;
  const preset = getPath(presetDocument(profileOf(input)), path);
  if (preset !== undefined) setPath(document, path, structuredClone(preset));
  else deletePath(document, path);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path`, own properties only (`toString` is not a field of a document). */
export function getPath(document: unknown, path: Path): unknown {
  let current = document;
  for (const key of path) {
    if ((!isObject(current) && !Array.isArray(current)) || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

export function setPath(document: Json, path: Path, value: unknown): void {
  let current: Json = document;
  for (const key of path.slice(0, -1)) {
    const next = current[key as string];
    if (!isObject(next)) current[key as string] = {};
    current = current[key as string] as Json;
  }
  current[path[path.length - 1] as string] = value;
}

function deletePath(document: Json, path: Path): void {
  const parent = getPath(document, path.slice(0, -1));
  if (isObject(parent)) delete parent[path[path.length - 1] as string];
  else if (Array.isArray(parent)) parent.splice(path[path.length - 1] as number, 1);
}
