// How Loki reaches the object store, the same on every platform: its `common.storage` block and the names of
// the credentials. Credentials never enter the config: it holds `${VAR:-}` placeholders that Loki expands at
// start-up (-config.expand-env) from variables each platform fills from its own secret store.
import type { LokiStack } from '../spec/schema.js';

/** Keys of the Secrets that hold object-store credentials (user-provided or generated). */
export const SECRET_KEYS = {
  s3AccessKeyId: 'AWS_ACCESS_KEY_ID',
  s3SecretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  azureAccountKey: 'AZURE_STORAGE_ACCOUNT_KEY',
  gcsKeyFile: 'key.json',
} as const;

/** Environment variables Loki expands in its config. */
export const ENV = {
  s3AccessKeyId: 'LOKI_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'LOKI_S3_SECRET_ACCESS_KEY',
  azureAccountKey: 'LOKI_AZURE_ACCOUNT_KEY',
} as const;

const placeholder = (variable: string) => `\${${variable}:-}`;

/** Loki's name for the store, as used by `schema_config` and `compactor.delete_request_store`. */
export function lokiObjectStore(stack: LokiStack): 's3' | 'gcs' | 'azure' {
  const type = stack.spec.storage.type;
  return type === 'bundled' ? 's3' : type;
}

/**
 * `common.storage` of the Loki config. With `credentials`, the config reads keys from the environment;
 * without, Loki uses the platform's identity (AWS credential chain, Workload Identity). `bundledEndpoint` is where
 * the platform runs the bundled store (Kubernetes only).
 */
export function commonStorageConfig(
  stack: LokiStack,
  credentials: boolean,
  bundledEndpoint?: string,
): Record<string, unknown> {
  const { storage } = stack.spec;
  const s3Credentials = {
    access_key_id: placeholder(ENV.s3AccessKeyId),
    secret_access_key: placeholder(ENV.s3SecretAccessKey),
  };
  switch (storage.type) {
    case 'bundled':
      return {
        s3: {
          endpoint: bundledEndpoint,
          bucketnames: storage.bundled!.bucket,
          region: 'us-east-1',
          s3forcepathstyle: true,
          insecure: true,
          ...s3Credentials,
        },
      };
    case 's3': {
      const s3 = storage.s3!;
      const endpoint = s3.endpoint ? splitEndpoint(s3.endpoint) : undefined;
      return {
        s3: {
          bucketnames: s3.bucket,
          ...(s3.region ? { region: s3.region } : {}),
          ...(endpoint ? { endpoint: endpoint.host, insecure: endpoint.insecure } : {}),
          s3forcepathstyle: s3.forcePathStyle,
          ...(credentials ? s3Credentials : {}),
        },
      };
    }
    case 'gcs':
      return { gcs: { bucket_name: storage.gcs!.bucket } };
    case 'azure': {
      const azure = storage.azure!;
      return {
        azure: {
          account_name: azure.accountName,
          container_name: azure.container,
          ...(azure.endpointSuffix ? { endpoint_suffix: azure.endpointSuffix } : {}),
          ...(credentials ? { account_key: placeholder(ENV.azureAccountKey) } : { use_federated_token: true }),
        },
      };
    }
  }
}

/** `https://host:port/` → host `host:port`; plain `http://` means no TLS. */
function splitEndpoint(endpoint: string): { host: string; insecure: boolean } {
  const match = /^(https?):\/\/(.*?)\/?$/.exec(endpoint);
  return match
    ? { host: match[2]!, insecure: match[1] === 'http' }
    : { host: endpoint.replace(/\/$/, ''), insecure: false };
}
