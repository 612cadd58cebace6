// The bundled object store: one RustFS pod (S3-compatible, Apache-2.0, actively released) on one volume.
// MinIO stopped publishing images in October 2025 and removed them from Docker Hub in September 2026.
// Its root credentials come from a Secret that `apply` generates once (or the user names); Loki pods
// create the bucket in an init container before Loki starts, so the bucket exists before Loki needs it.
import type {
  KubernetesObject,
  V1Container,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Service,
} from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import {
  hardenedContainer,
  imagePullSecrets,
  metadata,
  OBJECT_STORE,
  objectLabels,
  objectName,
  podSecurityContext,
  PORTS,
  resourceRequirements,
  selectorLabels,
  tmpVolume,
} from '../common.js';
import { bundledEndpoint, credentialsSecretName, s3CredentialEnv } from '../storage.js';

export function objectStore(stack: LokiStack): KubernetesObject[] {
  return stack.spec.storage.type === 'bundled' ? [service(stack), claim(stack), deployment(stack)] : [];
}

function service(stack: LokiStack): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(stack, objectName(stack, OBJECT_STORE), OBJECT_STORE),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(stack, OBJECT_STORE),
      ports: [{ name: PORTS.s3.name, port: PORTS.s3.port, targetPort: PORTS.s3.name, protocol: 'TCP' }],
    },
  };
}

function claim(stack: LokiStack): V1PersistentVolumeClaim {
  const bundled = stack.spec.storage.bundled!;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: metadata(stack, objectName(stack, OBJECT_STORE), OBJECT_STORE),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: bundled.size } },
      ...(bundled.storageClassName ? { storageClassName: bundled.storageClassName } : {}),
    },
  };
}

function deployment(stack: LokiStack): V1Deployment {
  const bundled = stack.spec.storage.bundled!;
  const tmp = tmpVolume();
  // As RustFS's own Helm chart: ready when storage is usable, alive while the server answers.
  const probe = (path: string) => ({ httpGet: { path, port: PORTS.s3.name }, periodSeconds: 10, timeoutSeconds: 2 });
  const rustfs: V1Container = hardenedContainer(stack, {
    name: 'rustfs',
    image: bundled.image,
    env: [
      { name: 'RUSTFS_ADDRESS', value: `:${PORTS.s3.port}` },
      { name: 'RUSTFS_VOLUMES', value: '/data' },
      { name: 'RUSTFS_CONSOLE_ENABLE', value: 'false' },
      // Empty: log to stdout (kubectl logs) instead of files on the read-only root filesystem.
      { name: 'RUSTFS_OBS_LOG_DIRECTORY', value: '' },
      ...s3CredentialEnv(credentialsSecretName(stack)!, { id: 'RUSTFS_ACCESS_KEY', key: 'RUSTFS_SECRET_KEY' }),
    ],
    ports: [{ name: PORTS.s3.name, containerPort: PORTS.s3.port, protocol: 'TCP' }],
    resources: resourceRequirements(bundled.resources),
    readinessProbe: { ...probe('/health/ready'), initialDelaySeconds: 5, failureThreshold: 3 },
    livenessProbe: { ...probe('/health'), initialDelaySeconds: 30, failureThreshold: 6 },
    volumeMounts: [{ name: 'data', mountPath: '/data' }, tmp.mount],
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(stack, objectName(stack, OBJECT_STORE), OBJECT_STORE),
    spec: {
      replicas: 1,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(stack, OBJECT_STORE) },
      // One volume, mounted read-write once: the old pod must be gone before the new one starts.
      strategy: { type: 'Recreate' },
      template: {
        metadata: { labels: objectLabels(stack, OBJECT_STORE) },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(),
          ...imagePullSecrets(stack),
          containers: [rustfs],
          volumes: [
            { name: 'data', persistentVolumeClaim: { claimName: objectName(stack, OBJECT_STORE) } },
            tmp.volume,
          ],
        },
      },
    },
  };
}

/**
 * Init container for Loki pods that use the bundled store: waits for the store and creates the bucket
 * if it is missing (idempotent, so every such pod may run it). It reuses the RustFS image, which ships curl
 * with AWS SigV4 signing, so no extra image is pulled.
 */
/** SHA-256 of an empty payload, as SigV4 requires in `x-amz-content-sha256`. */
const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function ensureBucketContainer(stack: LokiStack): V1Container {
  const bundled = stack.spec.storage.bundled!;
  const url = `http://${bundledEndpoint(stack)}/${bundled.bucket}`;
  const script = [
    'set -u',
    `url='${url}'`,
    // Credentials go on curl's command line, visible only inside this container. S3 wants the payload
    // hash signed; both requests have an empty body.
    `s3() { curl --silent --output /dev/null --write-out '%{http_code}' --max-time 10 --aws-sigv4 'aws:amz:us-east-1:s3' --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" --header 'x-amz-content-sha256: ${EMPTY_PAYLOAD_SHA256}' "$@" "$url"; }`,
    'until [ "$(s3 --head)" = 200 ]; do',
    `  code=$(s3 --request PUT --header 'Content-Length: 0')`,
    `  echo "bucket ${bundled.bucket}: not there yet (create answered HTTP \${code}), retrying in 2s"`,
    '  sleep 2',
    'done',
    `echo "bucket ${bundled.bucket} is ready"`,
  ].join('\n');
  return hardenedContainer(stack, {
    name: 'ensure-bucket',
    image: bundled.image,
    command: ['/bin/sh', '-c', script],
    env: s3CredentialEnv(credentialsSecretName(stack)!),
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
  });
}
