// Object-store credentials an adapter hands over (the Action's inputs fed by `secrets.*`, a Backstage task
// secret): rendered as a Secret of the stack that the storage block references by name, so the values
// travel only in that Secret, never in the spec, the Loki config or a ConfigMap.
import type { V1Secret } from '@kubernetes/client-node';
import { SpecError, type SpecIssue } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { DEFAULT_NAME, type LokiStack, type StorageType } from '../../spec/schema.js';
import { metadata } from './common.js';
import { SECRET_KEYS } from '../../stack/object-store.js';

/** Credential values by the Secret key Loki's pods read them from. */
export type StorageCredentials = Partial<Record<(typeof SECRET_KEYS)[keyof typeof SECRET_KEYS], string>>;

/** The keys each store type needs, all of them; the bundled store makes its own. */
export const CREDENTIAL_KEYS: Record<StorageType, readonly (keyof StorageCredentials)[]> = {
  bundled: [],
  s3: [SECRET_KEYS.s3AccessKeyId, SECRET_KEYS.s3SecretAccessKey],
  gcs: [SECRET_KEYS.gcsKeyFile],
  azure: [SECRET_KEYS.azureAccountKey],
};

const secretNameFor = (stackName: string) => `${stackName}-storage-credentials`;
export const credentialsSecretNameOf = (stack: LokiStack) => secretNameFor(stack.metadata.name);

/**
 * A spec document, before parsing, whose object store is to read credentials an adapter hands over: an s3,
 * gcs or azure block that names no Secret gets `<name>-storage-credentials`, so that the spec is complete
 * when parsed (Azure needs a Secret or Workload Identity) and `withStorageCredentials` then accepts it.
 */
export function namingCredentialsSecret(document: Record<string, unknown>): Record<string, unknown> {
  const result = structuredClone(document) as {
    metadata?: { name?: unknown };
    spec?: { storage?: Record<string, unknown> & { type?: unknown } };
  };
  const storage = result.spec?.storage;
  const type = storage?.type;
  if (!storage || (type !== 's3' && type !== 'gcs' && type !== 'azure')) return result;
  const block = (storage[type] ?? {}) as Record<string, unknown>;
  if (block.secretName === undefined)
    storage[type] = {
      ...block,
      secretName: secretNameFor(typeof result.metadata?.name === 'string' ? result.metadata.name : DEFAULT_NAME),
    };
  return result;
}

/**
 * The stack with its storage block pointing at the credentials Secret. Throws a SpecError (paths are the
 * Secret keys, e.g. `credentials.AWS_SECRET_ACCESS_KEY`; values are never echoed) when the credentials do not
 * fit the store type or the spec already names a Secret.
 */
export function withStorageCredentials(stack: LokiStack, credentials: StorageCredentials): LokiStack {
  const type = stack.spec.storage.type;
  const given = (Object.keys(credentials) as (keyof StorageCredentials)[]).filter((key) => credentials[key]);
  if (given.length === 0) return stack;
  for (const key of given) registerSecret(credentials[key]);
  const needed = CREDENTIAL_KEYS[type];
  const issues: SpecIssue[] = [];
  // Loki puts the value in place of a single-quoted placeholder in its YAML config (-config.expand-env).
  for (const key of given.filter((key) => key !== 'key.json' && /['\r\n]/.test(credentials[key]!))) {
    issues.push({
      path: `credentials.${key}`,
      message:
        'contains a single quote or a line break, which the Loki configuration cannot carry: use a key without them',
    });
  }
  if (type === 'bundled') {
    issues.push({
      path: 'credentials',
      message: 'the bundled store makes its own credentials; credentials are for spec.storage.type s3, gcs or azure',
    });
  } else {
    for (const key of given.filter((key) => !needed.includes(key)))
      issues.push({
        path: `credentials.${key}`,
        message: `does not apply to spec.storage.type ${type}, which takes ${needed.join(' and ')}`,
      });
    for (const key of needed.filter((key) => !credentials[key]))
      issues.push({
        path: `credentials.${key}`,
        message: `is missing: ${type} credentials need ${needed.join(' and ')}`,
      });
    const existing = stack.spec.storage[type]!.secretName;
    if (existing && existing !== credentialsSecretNameOf(stack))
      issues.push({
        path: `spec.storage.${type}.secretName`,
        message: `names the Secret "${existing}" and credentials were given too: use one or the other`,
      });
  }
  if (issues.length > 0) throw new SpecError(issues);
  const storage = {
    ...stack.spec.storage,
    [type]: { ...stack.spec.storage[type]!, secretName: credentialsSecretNameOf(stack) },
  };
  return { ...stack, spec: { ...stack.spec, storage } };
}

/** The Secret `withStorageCredentials` points the stack at. */
export function credentialsSecret(stack: LokiStack, credentials: StorageCredentials): V1Secret {
  const data = Object.fromEntries(
    CREDENTIAL_KEYS[stack.spec.storage.type].map((key) => [
      key,
      Buffer.from(credentials[key] ?? '', 'utf8').toString('base64'),
    ]),
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(stack, credentialsSecretNameOf(stack)),
    type: 'Opaque',
    data,
  };
}
