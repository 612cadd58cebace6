// The object-store credentials each storage-touching pod gets on Kubernetes. They only ever travel as Secret
// references, into the variables the Loki config expands (stack/object-store.ts); components without the env
// vars expand them to "".
import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { LokiStack } from '../../spec/schema.js';
import { ENV, SECRET_KEYS } from '../../stack/object-store.js';
import { OBJECT_STORE, objectName, PATHS, PORTS, serviceHost } from './common.js';

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

/** The S3 endpoint of the bundled store, `host:port`. */
export function bundledEndpoint(stack: LokiStack): string {
  return `${serviceHost(stack, objectName(stack, OBJECT_STORE))}:${PORTS.s3.port}`;
}

const fromSecret = (name: string, secret: string, key: string): V1EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

/** S3 credentials of the store as the AWS SDK and curl read them. */
export function s3CredentialEnv(
  secret: string,
  names = { id: 'AWS_ACCESS_KEY_ID', key: 'AWS_SECRET_ACCESS_KEY' },
): V1EnvVar[] {
  return [
    fromSecret(names.id, secret, SECRET_KEYS.s3AccessKeyId),
    fromSecret(names.key, secret, SECRET_KEYS.s3SecretAccessKey),
  ];
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
        volumes: [
          {
            name: 'gcs-key',
            secret: { secretName: secret, items: [{ key: SECRET_KEYS.gcsKeyFile, path: SECRET_KEYS.gcsKeyFile }] },
          },
        ],
        mounts: [{ name: 'gcs-key', mountPath: PATHS.gcsKeyDir, readOnly: true }],
      };
  }
}
