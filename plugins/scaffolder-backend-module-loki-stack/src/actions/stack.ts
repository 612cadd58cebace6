// The stack fields every loki:stack:* action takes (zod, in the scaffolder's callback form), and the stack
// they describe: set over an optional whole spec document, validated like a spec file before any cluster call.
import { InputError } from '@backstage/errors';
import type { JsonValue } from '@backstage/types';
import {
  COMPONENT_NAMES,
  parseSpecWithInputs,
  replicaFields,
  type ReplicaInput,
  SpecError,
  stackInputFields,
  storageInputFields,
  withInputs,
  type InputField,
  type LokiStack,
} from 'loki-microservices';
import type { z as zod } from 'zod/v3';

export type Z = typeof zod;

export const STACK_INPUT = {
  name: (z: Z) =>
    z
      .string()
      .optional()
      .describe('Stack name (metadata.name); every object is named <name>-<component>. Default: loki.'),
  namespace: (z: Z) => z.string().optional().describe('Namespace of the stack (metadata.namespace). Default: loki.'),
  profile: (z: Z) =>
    z
      .enum(['demo', 'small', 'production'])
      .optional()
      .describe('Size preset: demo (one replica each), small (replication factor 3, PDBs) or production.'),
  version: (z: Z) => z.string().optional().describe('Loki version, the image tag, e.g. 3.7.8.'),
  storageType: (z: Z) =>
    z
      .enum(['bundled', 's3', 'gcs', 'azure'])
      .optional()
      .describe('Object store: bundled (a RustFS pod, for tests), s3, gcs or azure.'),
  bucket: (z: Z) => z.string().optional().describe('Bucket (S3, GCS) or blob container (Azure).'),
  region: (z: Z) => z.string().optional().describe('S3 region.'),
  endpoint: (z: Z) => z.string().optional().describe('S3-compatible endpoint; also turns on path-style URLs.'),
  accountName: (z: Z) => z.string().optional().describe('Azure storage account.'),
  secretName: (z: Z) =>
    z
      .string()
      .optional()
      .describe('Existing Secret in the namespace with the object-store credentials (keys as in the spec reference).'),
  retention: (z: Z) => z.string().optional().describe('How long logs are kept, e.g. 720h; 0 keeps them forever.'),
  networkPolicy: (z: Z) =>
    z
      .boolean()
      .optional()
      .describe(
        "NetworkPolicies that deny every connection to and from the stack's pods except the flows Loki needs (spec.networkPolicy.enabled).",
      ),
  monitoring: (z: Z) =>
    z
      .boolean()
      .optional()
      .describe(
        'Also write a Prometheus scrape config and alert rules beside the manifests (spec.monitoring.enabled).',
      ),
  gateway: (z: Z) =>
    z
      .boolean()
      .optional()
      .describe(
        'An nginx gateway with basic auth per tenant in front of Loki (spec.gateway.enabled); pushUrl and queryUrl point at it.',
      ),
  ingressHost: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        'With gateway: expose it outside the cluster through an Ingress for this host, e.g. loki.example.com (spec.gateway.expose.ingress.host).',
      ),
  ingressClass: (z: Z) =>
    z.string().optional().describe("The Ingress's IngressClass, e.g. nginx (spec.gateway.expose.ingress.className)."),
  ingressTlsSecret: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        "An existing kubernetes.io/tls Secret with the host's certificate: the Ingress serves HTTPS (spec.gateway.expose.ingress.tls.secretName).",
      ),
  ingressControllerNamespace: (z: Z) =>
    z
      .string()
      .optional()
      .describe(
        "The ingress controller's namespace, the only one let through to the gateway with networkPolicy (spec.gateway.expose.controllerNamespace).",
      ),
  tls: (z: Z) => z.boolean().optional().describe('mTLS between Loki components (spec.tls.enabled).'),
  tlsProvider: (z: Z) =>
    z
      .enum(['generated', 'cert-manager'])
      .optional()
      .describe(
        'Who makes the certificates: generated (by deploy, in Secrets) or cert-manager (Certificate objects; needed for GitOps).',
      ),
  patternIngester: (z: Z) =>
    z
      .boolean()
      .optional()
      .describe(
        "A pattern ingester, for Grafana Logs Drilldown's Patterns tab (spec.components.patternIngester.enabled); unset: the profile's (off in demo).",
      ),
  caches: (z: Z) =>
    z
      .enum(['embedded', 'memcached', 'external'])
      .optional()
      .describe(
        'Chunks and results caches (spec.caches.type): embedded (per process), memcached (shared StatefulSets sized by the profile) or external (spec.caches.external).',
      ),
  zoneAwareness: (z: Z) =>
    z
      .boolean()
      .optional()
      .describe(
        'Zone-aware ingesters (spec.zoneAwareness.enabled): a StatefulSet per zone (a, b, c) on a zone-aware ring, so the 3 copies of a stream sit in 3 zones; small and production (replication factor 3).',
      ),
  replicas: (z: Z) =>
    z
      .record(z.string(), z.union([z.number().int(), z.object({ min: z.number().int(), max: z.number().int() })]))
      .optional()
      .describe(
        `Replica overrides by component (${COMPONENT_NAMES.join(', ')}), e.g. { ingester: 3 }; a range, e.g. { querier: { min: 2, max: 10 } }, lets an HPA on CPU scale the distributor, querier or query-frontend (spec.components.<component>.autoscaling).`,
      ),
  spec: (z: Z) =>
    z
      .record(z.string(), z.custom<JsonValue>())
      .optional()
      .describe('A whole LokiMicroservices spec document; the fields above override it.'),
};

/** The outputs render and deploy set for a stack whose gateway is exposed (spec.gateway.expose). */
export const EXTERNAL_URL_OUTPUT = {
  externalPushUrl: (z: Z) =>
    z.string().optional().describe('With the gateway exposed: the push API outside the cluster (basic auth).'),
  externalQueryUrl: (z: Z) =>
    z.string().optional().describe('With the gateway exposed: the query API root outside the cluster (basic auth).'),
};

export interface StackInput {
  name?: string;
  namespace?: string;
  profile?: string;
  version?: string;
  storageType?: string;
  bucket?: string;
  region?: string;
  endpoint?: string;
  accountName?: string;
  secretName?: string;
  retention?: string;
  networkPolicy?: boolean;
  monitoring?: boolean;
  gateway?: boolean;
  ingressHost?: string;
  ingressClass?: string;
  ingressTlsSecret?: string;
  ingressControllerNamespace?: string;
  tls?: boolean;
  tlsProvider?: string;
  patternIngester?: boolean;
  caches?: string;
  zoneAwareness?: boolean;
  replicas?: Record<string, ReplicaInput>;
  spec?: Record<string, unknown>;
}

const STORAGE_INPUT_NAMES = {
  type: 'storageType',
  bucket: 'bucket',
  region: 'region',
  endpoint: 'endpoint',
  accountName: 'accountName',
  secretName: 'secretName',
};

/** The spec fields of the Ingress inputs, which only the scaffolder takes. */
const INGRESS_INPUT_PATHS = {
  ingressHost: 'spec.gateway.expose.ingress.host',
  ingressClass: 'spec.gateway.expose.ingress.className',
  ingressTlsSecret: 'spec.gateway.expose.ingress.tls.secretName',
  ingressControllerNamespace: 'spec.gateway.expose.controllerNamespace',
} as const;

function ingressFields(input: StackInput): InputField[] {
  return (Object.keys(INGRESS_INPUT_PATHS) as (keyof typeof INGRESS_INPUT_PATHS)[]).flatMap((name) =>
    input[name] ? [{ path: INGRESS_INPUT_PATHS[name], value: input[name], input: name }] : [],
  );
}

function fieldsOf(input: StackInput): InputField[] {
  const { storageType: type, bucket, region, endpoint, accountName, secretName } = input;
  return [
    ...stackInputFields(input, (name) => name),
    ...storageInputFields(
      input.spec ?? {},
      { type, bucket, region, endpoint, accountName, secretName },
      STORAGE_INPUT_NAMES,
    ),
    ...replicaFields(input.replicas ?? {}, 'replicas'),
    ...ingressFields(input),
  ];
}

/** The validated stack; any problem (storage inputs that do not fit included) is an InputError naming the field and the input. */
export function stackFromInput(input: StackInput): LokiStack {
  try {
    return parseSpecWithInputs(input.spec ?? {}, fieldsOf(input));
  } catch (error) {
    if (error instanceof SpecError) throw new InputError(error.message);
    throw error;
  }
}

/** The spec document as the user gave it (fields set over `spec`), for writing next to the manifests. */
export function specDocumentOf(input: StackInput): Record<string, unknown> {
  return withInputs(input.spec ?? {}, fieldsOf(input));
}
