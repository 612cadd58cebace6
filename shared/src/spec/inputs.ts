// Adapters' inline inputs (the Action's `profile:`, a scaffolder action's `storageType`) set spec fields over a
// spec document, so that they get the spec's own validation; its messages then name the input too.
import { SpecError } from '../errors.js';
import { applyOverrides } from './overrides.js';
import { parseSpec } from './parse.js';
import { STORAGE_TYPES, type LokiStack } from './schema.js';

/** One spec field an adapter input sets: `path` in the spec, `input` as the adapter calls it. */
export interface InputField {
  path: string;
  value: unknown;
  input: string;
}

/** The spec document with the fields set (as a user would have written it: no defaults filled in). */
export function withInputs(document: Record<string, unknown>, fields: InputField[]): Record<string, unknown> {
  // applyOverrides reads values as YAML; the JSON text of each value reads back as that value, typed.
  return applyOverrides(
    document,
    fields.map(({ path, value }) => `${path}=${JSON.stringify(value)}`),
  );
}

/**
 * The stack from `document` with `fields` set over it (and `prepare`d, e.g. `namingCredentialsSecret`). A
 * SpecError's issues carry the input that set each field: `spec.profile (input "profile")`.
 */
export function parseSpecWithInputs(
  document: Record<string, unknown>,
  fields: InputField[],
  prepare = (d: Record<string, unknown>) => d,
): LokiStack {
  const complete = withInputs(document, fields);
  try {
    return parseSpec(prepare(complete));
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    throw new SpecError(
      error.issues.map((issue) => {
        const input = fields.find(
          (field) => field.path === issue.path || issue.path.startsWith(`${field.path}.`),
        )?.input;
        return input ? { ...issue, path: `${issue.path} (input "${input}")` } : issue;
      }),
    );
  }
}

/**
 * The stack inputs the Action and the scaffolder both take, by the scaffolder's name (the Action's is its
 * kebab-case, `networkPolicy` → `network-policy`), and the spec field each sets. The storage inputs and the
 * replica counts have rules of their own (storageInputFields).
 */
export const STACK_INPUTS = {
  name: { path: 'metadata.name', type: 'string' },
  namespace: { path: 'metadata.namespace', type: 'string' },
  profile: { path: 'spec.profile', type: 'string' },
  version: { path: 'spec.version', type: 'string' },
  retention: { path: 'spec.retention', type: 'string' },
  networkPolicy: { path: 'spec.networkPolicy.enabled', type: 'boolean' },
  monitoring: { path: 'spec.monitoring.enabled', type: 'boolean' },
  gateway: { path: 'spec.gateway.enabled', type: 'boolean' },
  tls: { path: 'spec.tls.enabled', type: 'boolean' },
  tlsProvider: { path: 'spec.tls.provider', type: 'string' },
  patternIngester: { path: 'spec.components.patternIngester.enabled', type: 'boolean' },
  rules: { path: 'spec.rules.files', type: 'glob' },
  caches: { path: 'spec.caches.type', type: 'string' },
  zoneAwareness: { path: 'spec.zoneAwareness.enabled', type: 'boolean' },
} as const;

export type StackInputName = keyof typeof STACK_INPUTS;

/** An input's name as GitHub Actions spell them: `networkPolicy` → `network-policy`. */
export const kebabCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The fields the given stack inputs set ('' or undefined: not given); `nameOf` gives the adapter's name of an input, for messages. */
export function stackInputFields(
  values: Partial<Record<StackInputName, unknown>>,
  nameOf: (name: StackInputName) => string,
): InputField[] {
  return (Object.keys(STACK_INPUTS) as StackInputName[]).flatMap((name) => {
    const value = values[name];
    if (value === undefined || value === '') return [];
    // A glob input names one set of files: the list field it sets holds it alone.
    const fieldValue = STACK_INPUTS[name].type === 'glob' ? [value] : value;
    return [{ path: STACK_INPUTS[name].path, value: fieldValue, input: nameOf(name) }];
  });
}

/** A replica count, or the range an autoscaler (an HPA on CPU) keeps the component in. */
export type ReplicaInput = number | { min: number; max: number };

/**
 * The fields of `{ component: count | {min, max} }`, set by the input `input`: a count sets `replicas`, a range
 * switches on `autoscaling` (the spec refuses it, naming the input, for the components that may not autoscale).
 */
export function replicaFields(replicas: Record<string, ReplicaInput>, input: string): InputField[] {
  return Object.entries(replicas).map(([component, count]) =>
    typeof count === 'number'
      ? { path: `spec.components.${component}.replicas`, value: count, input }
      : { path: `spec.components.${component}.autoscaling`, value: { enabled: true, ...count }, input },
  );
}

const STORE_TYPES: readonly string[] = STORAGE_TYPES;

/** The storage inputs adapters offer, as a user gives them ('' or undefined = not given). */
export interface StorageInputs {
  type?: string;
  bucket?: string;
  region?: string;
  endpoint?: string;
  accountName?: string;
  secretName?: string;
}

/**
 * The spec fields of the storage inputs, for the store type given (or else the document's): `bucket` is the S3
 * or GCS bucket or the Azure container, and an S3 `endpoint` (an S3-compatible store) also turns on path-style
 * URLs, which MinIO, Ceph and RustFS serve. `names` are the adapter's names of the inputs; an input that does not
 * apply to the store type is a SpecError whose path is `input "<name>"`.
 */
export function storageInputFields(
  document: Record<string, unknown>,
  inputs: StorageInputs,
  names: Record<keyof StorageInputs, string>,
): InputField[] {
  const given = (key: keyof StorageInputs) => inputs[key] !== undefined && inputs[key] !== '';
  const type = given('type')
    ? inputs.type!
    : ((document.spec as { storage?: { type?: string } } | undefined)?.storage?.type ?? '');
  const input = (key: keyof StorageInputs) => `input "${names[key]}"`;
  if (given('type') && !STORE_TYPES.includes(type))
    throw new SpecError([{ path: input('type'), message: `must be one of ${STORE_TYPES.join(', ')}, not "${type}"` }]);
  const applies: [keyof StorageInputs, readonly string[]][] = [
    ['secretName', STORE_TYPES],
    ['bucket', ['s3', 'gcs', 'azure']],
    ['region', ['s3']],
    ['endpoint', ['s3']],
    ['accountName', ['azure']],
  ];
  const issues = applies
    .filter(([key, types]) => given(key) && !types.includes(type))
    .map(([key, types]) => ({
      path: input(key),
      message: `applies to storage type ${types.join(', ')}: ${type ? `not ${type}` : `set ${input('type')} (or spec.storage.type)`}`,
    }));
  if (issues.length > 0) throw new SpecError(issues);
  const paths: [keyof StorageInputs, string][] = [
    ['type', 'spec.storage.type'],
    ['bucket', type === 'azure' ? 'spec.storage.azure.container' : `spec.storage.${type}.bucket`],
    ['region', 'spec.storage.s3.region'],
    ['endpoint', 'spec.storage.s3.endpoint'],
    ['accountName', 'spec.storage.azure.accountName'],
    ['secretName', `spec.storage.${type}.secretName`],
  ];
  const fields: InputField[] = paths
    .filter(([key]) => given(key))
    .map(([key, path]) => ({ path, value: inputs[key], input: names[key] }));
  if (given('endpoint')) fields.push({ path: 'spec.storage.s3.forcePathStyle', value: true, input: names.endpoint });
  return fields;
}
