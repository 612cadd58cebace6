// How Loki reaches the object store: its config block, and the credentials each storage-touching pod
// gets. Credentials only ever travel as Secret references; the config holds `${VAR:-}` placeholders that
// Loki expands at start-up (-config.expand-env). Components without the env vars expand them to "".
import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { LokiStack } from '../../spec/schema.js';
import { OBJECT_STORE, objectLabels, objectName, PATHS, PORTS, serviceHost } from './common.js';

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

/** The Secret holding object-store credentials, if the stack uses one. */
export function credentialsSecretName(stack: LokiStack): string | undefined {
  const { storage } = stack.spec;
  switch (storage.type) {
    case 'bundled':
      return storage.bundled!.secretName ?? objectName(stack, OBJECT_STORE);
    case 's3':
      return storage.s3!.secretName;
    case 'gcs':
      return storage.gcs!.secretName;
    case 'azure':
      return storage.azure!.secretName;
  }
}


/** Loki's name for the store, as used by `schema_config` and `compactor.delete_request_store`. */
export function lokiObjectStore(stack: LokiStack): 's3' | 'gcs' | 'azure' {
  const type = stack.spec.storage.type;
  return type === 'bundled' ? 's3' : type;
}

/** The S3 endpoint of the bundled store, `host:port`. */
export function bundledEndpoint(stack: LokiStack): string {
  return `${serviceHost(stack, objectName(stack, OBJECT_STORE))}:${PORTS.s3.port}`;
}

/**
 * `common.storage` of the Loki config. With `credentials`, the config reads keys from the environment;
 * without, Loki uses the platform's identity (AWS credential chain, Workload Identity).
 */
export function commonStorageConfig(stack: LokiStack, credentials = credentialsSecretName(stack) !== undefined): Record<string, unknown> {
  const { storage } = stack.spec;
  const s3Credentials = {
    access_key_id: placeholder(ENV.s3AccessKeyId),
    secret_access_key: placeholder(ENV.s3SecretAccessKey),
  };
  switch (storage.type) {
    case 'bundled':
      return {
        s3: {
          endpoint: bundledEndpoint(stack),
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
  return match ? { host: match[2]!, insecure: match[1] === 'http' } : { host: endpoint.replace(/\/$/, ''), insecure: false };
}

const fromSecret = (name: string, secret: string, key: string): V1EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

/** S3 credentials of the store as the AWS SDK and curl read them. */
export function s3CredentialEnv(secret: string, names = { id: 'AWS_ACCESS_KEY_ID', key: 'AWS_SECRET_ACCESS_KEY' }): V1EnvVar[] {
  return [fromSecret(names.id, secret, SECRET_KEYS.s3AccessKeyId), fromSecret(names.key, secret, SECRET_KEYS.s3SecretAccessKey)];
}

/** What a storage-touching Loki container needs: env vars, volumes and mounts. */
export function storageAccess(stack: LokiStack): { env: V1EnvVar[]; volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const secret = credentialsSecretName(stack);
  const none = { env: [], volumes: [], mounts: [] };
  if (!secret) return none;
  switch (stack.spec.storage.type) {
    case 'bundled':
    case 's3':
      return { ...none, env: s3CredentialEnv(secret, { id: ENV.s3AccessKeyId, key: ENV.s3SecretAccessKey }) };
    case 'azure':
      return { ...none, env: [fromSecret(ENV.azureAccountKey, secret, SECRET_KEYS.azureAccountKey)] };
    case 'gcs':
      return {
        env: [{ name: 'GOOGLE_APPLICATION_CREDENTIALS', value: `${PATHS.gcsKeyDir}/${SECRET_KEYS.gcsKeyFile}` }],
        volumes: [{ name: 'gcs-key', secret: { secretName: secret, items: [{ key: SECRET_KEYS.gcsKeyFile, path: SECRET_KEYS.gcsKeyFile }] } }],
        mounts: [{ name: 'gcs-key', mountPath: PATHS.gcsKeyDir, readOnly: true }],
      };
  }
}
