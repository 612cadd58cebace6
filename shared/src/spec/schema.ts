// The stack spec: the one source of truth for its types, its profile-independent defaults and its
// documentation (the reference in docs/spec.md is generated from the descriptions below). Profile-dependent
// values (replicas, resources, ...) come from profiles.ts, merged under the user's input before parsing.
import { z } from 'zod';
import { DNS_LABEL, LONGEST_SUFFIX, MAX_NAME_LENGTH } from '../stack/names.js';
import { COMPONENTS, type ComponentName } from './components.js';
import { isDuration, isQuantity, parseDurationMs, parseQuantity } from './quantity.js';
import { ruleGroupProblems, SINGLE_TENANT, type RuleGroup, type RuleSource } from './rules.js';
import {
  DEFAULT_INDEX_PREFIX,
  isSchemaDate,
  SCHEMA_FROM,
  SCHEMA_STORES,
  SCHEMA_VERSIONS,
} from '../stack/schema-periods.js';

export const API_VERSION = 'loki-microservices/v1alpha1';
export const KIND = 'LokiMicroservices';

/** Loki minors whose configuration keys this renderer is verified against. */
export const SUPPORTED_LOKI_MINORS = { min: 4, max: 7 } as const;
export const DEFAULT_LOKI_VERSION = '3.7.8';
export const DEFAULT_LOKI_IMAGE = 'docker.io/grafana/loki';
export const DEFAULT_OBJECT_STORE_IMAGE = 'docker.io/rustfs/rustfs:1.0.0';
/** nginx built to run as an unprivileged user (uid 101, port 8080), as Loki's Helm chart uses for its gateway. */
export const DEFAULT_GATEWAY_IMAGE = 'docker.io/nginxinc/nginx-unprivileged:1.29-alpine';
/** The official memcached image (runs as its `memcache` user, uid 11211), as Loki's caching guide recommends. */
export const DEFAULT_MEMCACHED_IMAGE = 'docker.io/library/memcached:1.6.39-alpine';

export { MAX_NAME_LENGTH } from '../stack/names.js';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const GCS_BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
const AZURE_ACCOUNT = /^[a-z0-9]{3,24}$/;
const AZURE_CONTAINER = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
const ENDPOINT = /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?\/?$/;
const IMAGE_REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const IMAGE_REFERENCE =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/;
// Loki tenant IDs: up to 150 of these characters, and not "." or "..".
const TENANT = /^[A-Za-z0-9!\-_.*'()]{1,150}$/;

function dnsLabel(what: string, maxLength = 63) {
  return z
    .string()
    .max(maxLength, `must be at most ${maxLength} characters (${what})`)
    .regex(
      DNS_LABEL,
      'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
    );
}

/** A string written into the Loki configuration: neither Loki's env expansion nor Nomad's template may act on it. */
function notEvaluated<T extends z.ZodString | z.ZodURL>(text: T) {
  return text
    .refine(
      (value) => !value.includes('$'),
      'must not contain "$": Loki expands ${…} and $VAR from its environment when it reads its configuration',
    )
    .refine(
      (value) => !value.includes('{{') && !value.includes('}}'),
      'must not contain "{{" or "}}": Nomad renders the configuration as a template and would run them',
    );
}

/**
 * A URL written into the Loki configuration. Loki reads its config with -config.expand-env (`${VAR}` and
 * `$VAR` become environment values, secrets included) and Nomad renders it as a consul-template (`{{ … }}`
 * runs, Vault reads included), so neither may appear; nor a user:password, which /config and logs would show.
 */
function configUrl(error: string) {
  return notEvaluated(z.url({ protocol: /^https?$/, error })).refine(
    (url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url),
    'must not carry a user or password ("user:password@"): the configuration is readable at /config and in logs',
  );
}

function dnsSubdomain(what: string) {
  return z
    .string()
    .max(253, `must be at most 253 characters (${what})`)
    .regex(DNS_SUBDOMAIN, `must be ${what}: a DNS subdomain of lowercase letters, digits, "-" and "."`);
}

const secretName = dnsSubdomain('a Secret name');

const quantity = (example: string) =>
  z.string().refine(isQuantity, `must be a Kubernetes quantity such as "${example}"`);

const duration = (example: string) =>
  z.string().refine(isDuration, `must be a duration such as "${example}" (units ms, s, m, h, d, w, y) or "0"`);

const labels = z.record(
  z
    .string()
    .regex(
      LABEL_KEY,
      'must be a valid label key: an optional DNS subdomain prefix and "/", then a name of up to 63 characters',
    ),
  z
    .string()
    .regex(
      LABEL_VALUE,
      'must be a valid label value: up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
    ),
);

const resourceList = z.strictObject({
  cpu: quantity('500m').optional().describe('CPU, in cores or millicores.'),
  memory: quantity('512Mi').optional().describe('Memory, in bytes with a binary suffix.'),
});

const resources = z.strictObject({
  requests: resourceList.optional().describe('What the scheduler reserves for each pod.'),
  limits: resourceList
    .optional()
    .describe(
      'Hard caps; a container above its memory limit is OOM-killed. CPU limits are left unset by the profiles to avoid throttling.',
    ),
});

const toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

const volume = z.strictObject({
  size: quantity('10Gi').describe('Size of the persistent volume claim of each replica.'),
  storageClassName: dnsSubdomain('a StorageClass name')
    .optional()
    .describe('StorageClass of the claims. Defaults to the cluster default class.'),
});

const placement = {
  nodeSelector: labels.optional().describe('Node labels the pods must match.'),
  tolerations: z
    .array(toleration)
    .optional()
    .describe('Tolerations for tainted nodes (Kubernetes `tolerations` syntax).'),
};

const replicas = z.number().int().min(1).max(100);

export const AUTOSCALING_MODES = ['hpa', 'keda'] as const;

const autoscaling = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Let an autoscaler set the replica count between `min` and `max`; `replicas` applies again once this is off.',
      ),
    min: replicas.default(1).describe('Fewest pods the autoscaler keeps.'),
    max: replicas.default(3).describe('Most pods the autoscaler starts.'),
    mode: z
      .enum(AUTOSCALING_MODES)
      .default('hpa')
      .describe(
        '`hpa`: a HorizontalPodAutoscaler on CPU (needs a CPU request); `keda`: a KEDA ScaledObject (needs KEDA installed) on the query-scheduler inflight requests for queriers, on CPU for the others.',
      ),
    targetCPU: z
      .number()
      .int()
      .min(10)
      .max(100)
      .default(75)
      .describe('Average CPU use, in percent of the request, the autoscaler aims at.'),
    keda: z
      .strictObject({
        prometheusAddress: configUrl('must be the http(s) URL of the Prometheus that scrapes this stack').describe(
          'Prometheus that scrapes this stack (its query API), which KEDA asks.',
        ),
        threshold: z
          .number()
          .positive()
          .optional()
          .describe(
            "Inflight queries per querier before KEDA adds one; default: `floor(0.75 × spec.components.querier.maxConcurrent)`, at least 1, as Loki's querier autoscaling guide advises.",
          ),
      })
      .optional()
      .describe(
        "The querier's KEDA trigger (with `mode: keda`; the others scale on CPU and take none): the Prometheus that scrapes this stack with `spec.monitoring`'s scrape config, whose `loki_stack` label the query selects on.",
      ),
  })
  .optional()
  .describe(
    'Horizontal autoscaling: the Deployment then leaves its replica count to the autoscaler, and `apply` hands the live count over so that switching it on changes no pod count. Refused for the ring members that keep state (ingester, index gateway, compactor, ruler, pattern ingester) and for the query-scheduler, which every querier connects to. Kubernetes only.',
  );

/** Components holding ring tokens or data cannot follow load: scaling them moves streams and state. */
const notAutoscaled = z
  .never({
    error:
      'not available: this component holds ring tokens or data on its volume, so an autoscaler scaling it down would move streams and lose state; set replicas instead',
  })
  .optional()
  .describe(
    'Not available for ring members with state (ingesters, index gateways, compactor, ruler, pattern ingester).',
  );

const schedulerNotAutoscaled = z
  .never({
    error:
      'not available: every query-frontend and querier connects to each scheduler, so their count is set by replicas (2 is enough)',
  })
  .optional();

function statelessComponent(name: ComponentName) {
  return z
    .strictObject({
      replicas: replicas.describe('Number of pods.'),
      autoscaling: name === 'queryScheduler' ? schedulerNotAutoscaled : autoscaling,
      resources: resources.describe(
        'Container requests and limits, merged over the profile values (`null` removes one).',
      ),
      ...placement,
    })
    .describe(`The ${COMPONENTS[name].target} Deployment.`);
}

function statefulComponent(
  name: ComponentName,
  replicaCount: z.ZodType<number> = replicas,
  replicasText = 'Number of pods.',
) {
  return z
    .strictObject({
      replicas: replicaCount.describe(replicasText),
      resources: resources.describe(
        'Container requests and limits, merged over the profile values (`null` removes one).',
      ),
      storage: volume.describe('Persistent volume of each pod.'),
      autoscaling: notAutoscaled,
      ...placement,
    })
    .describe(`The ${COMPONENTS[name].target} StatefulSet.`);
}

/** One description for every optional component: the reference shows the field once for all of them. */
const optionalComponentEnabled = z
  .boolean()
  .describe(
    "Deploy this optional component: the ruler evaluates LogQL alerting and recording rules; the pattern ingester finds the patterns of recent log lines for Grafana Logs Drilldown's Patterns tab (`/loki/api/v1/patterns`, off in the `demo` profile).",
  );

const components = z
  .strictObject({
    distributor: statelessComponent('distributor'),
    ingester: statefulComponent(
      'ingester',
      replicas,
      'Number of pods; with `zoneAwareness.enabled`, of each zone (each zone is a StatefulSet, and `replicationFactor` ≤ the total).',
    ),
    querier: statelessComponent('querier').extend({
      maxConcurrent: z
        .number()
        .int()
        .min(1)
        .max(256)
        .default(4)
        .describe(
          "Queries one querier runs at once (Loki's `querier.max_concurrent`, default 4); the KEDA trigger's threshold derives from it.",
        ),
    }),
    queryFrontend: statelessComponent('queryFrontend'),
    queryScheduler: statelessComponent('queryScheduler'),
    indexGateway: statefulComponent('indexGateway'),
    compactor: statefulComponent('compactor', z.literal(1, 'must be 1: the compactor is a singleton')),
    ruler: statefulComponent('ruler').extend({
      enabled: optionalComponentEnabled,
      alertmanagerUrl: configUrl('must be an http(s) URL of Alertmanager')
        .optional()
        .describe('Alertmanager the ruler sends alerts to. Without it, alerts are evaluated but not sent.'),
    }),
    patternIngester: statefulComponent('patternIngester').extend({ enabled: optionalComponentEnabled }),
  })
  .describe('Per-component settings; each component defaults to its profile values.');

const bundledStorage = z
  .strictObject({
    image: z
      .string()
      .regex(
        IMAGE_REFERENCE,
        'must be an image reference with a tag or digest, e.g. "registry.example.com/rustfs/rustfs:1.0.0"',
      )
      .default(DEFAULT_OBJECT_STORE_IMAGE)
      .describe('Image of the bundled S3-compatible store (RustFS), pinned by tag or digest.'),
    bucket: z
      .string()
      .regex(S3_BUCKET, 'must be an S3 bucket name: 3-63 lowercase letters, digits, "." or "-"')
      .default('loki')
      .describe('Bucket created for Loki before any Loki pod starts.'),
    size: quantity('10Gi').default('10Gi').describe("Size of the store's persistent volume claim."),
    storageClassName: dnsSubdomain('a StorageClass name')
      .optional()
      .describe('StorageClass of the claim. Defaults to the cluster default class.'),
    secretName: secretName
      .optional()
      .describe(
        "Existing Secret with keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` for the store's root user. Without it, `apply` creates `<name>-object-store` with random values once and never rotates it.",
      ),
    resources: resources
      .default({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } })
      .describe(
        "Requests and limits of the store's container; replace the default (100m CPU and 256Mi requested, 1Gi memory limit) as a whole.",
      ),
  })
  .describe(
    'Bundled single-pod S3-compatible store (RustFS) for test clusters. Its data lives on one volume: not for production.',
  );

const s3Storage = z
  .strictObject({
    bucket: z
      .string()
      .regex(S3_BUCKET, 'must be an S3 bucket name: 3-63 lowercase letters, digits, "." or "-"')
      .describe('Bucket for chunks, index, rules and delete requests.'),
    region: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'must be a region such as "eu-west-1"')
      .optional()
      .describe('Bucket region. Required for AWS S3 (no `endpoint`).'),
    endpoint: z
      .string()
      .regex(ENDPOINT, 'must be a host with optional port and scheme, e.g. "https://s3.example.com:9000"')
      .optional()
      .describe('S3-compatible endpoint; `http://` makes the connection plain-text. Omit for AWS S3.'),
    forcePathStyle: z
      .boolean()
      .default(false)
      .describe('Path-style bucket URLs (needed by most S3-compatible stores such as MinIO, Ceph, RustFS).'),
    secretName: secretName
      .optional()
      .describe(
        'Existing Secret with keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`. Without it, Loki uses the AWS default credential chain (IRSA, instance role).',
      ),
  })
  .describe('Amazon S3 or an S3-compatible store.');

const gcsStorage = z
  .strictObject({
    bucket: z
      .string()
      .regex(GCS_BUCKET, 'must be a GCS bucket name: 3-222 lowercase letters, digits, ".", "_" or "-"')
      .describe('Bucket for chunks, index, rules and delete requests.'),
    secretName: secretName
      .optional()
      .describe(
        'Existing Secret with a service account key under `key.json`. Without it, Loki uses Application Default Credentials (Workload Identity).',
      ),
  })
  .describe('Google Cloud Storage.');

const azureStorage = z
  .strictObject({
    accountName: z
      .string()
      .regex(AZURE_ACCOUNT, 'must be a storage account name: 3-24 lowercase letters or digits')
      .describe('Storage account.'),
    container: z
      .string()
      .regex(AZURE_CONTAINER, 'must be a container name: 3-63 lowercase letters, digits or single "-"')
      .describe('Blob container for chunks, index, rules and delete requests.'),
    endpointSuffix: dnsSubdomain('a DNS suffix such as "blob.core.windows.net"')
      .optional()
      .describe('Blob endpoint suffix for sovereign clouds.'),
    secretName: secretName
      .optional()
      .describe(
        'Existing Secret with the account key under `AZURE_STORAGE_ACCOUNT_KEY`. Required unless `useFederatedToken`.',
      ),
    useFederatedToken: z
      .boolean()
      .default(false)
      .describe('Authenticate with Azure Workload Identity instead of an account key.'),
  })
  .describe('Azure Blob Storage.');

export const STORAGE_TYPES = ['bundled', 's3', 'gcs', 'azure'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

const storage = z
  .strictObject({
    type: z
      .enum(STORAGE_TYPES)
      .describe('Object store for chunks and index: `bundled` (a RustFS pod, for tests), `s3`, `gcs` or `azure`.'),
    bundled: bundledStorage.optional(),
    s3: s3Storage.optional(),
    gcs: gcsStorage.optional(),
    azure: azureStorage.optional(),
  })
  .describe('Where Loki keeps chunks, index, rules and delete requests. Only the block named by `type` may be set.');

const limits = z
  .strictObject({
    ingestionRateMB: z
      .number()
      .positive()
      .default(4)
      .describe('Per-tenant ingestion rate, MB/s (`limits_config.ingestion_rate_mb`).'),
    ingestionBurstSizeMB: z
      .number()
      .positive()
      .default(6)
      .describe('Per-tenant ingestion burst, MB (`ingestion_burst_size_mb`).'),
    maxGlobalStreamsPerUser: z
      .number()
      .int()
      .nonnegative()
      .default(5000)
      .describe('Active streams per tenant across the cluster; 0 = unlimited.'),
    maxQuerySeries: z.number().int().positive().default(500).describe('Unique series a metric query may return.'),
    maxQueryParallelism: z
      .number()
      .int()
      .positive()
      .default(32)
      .describe('Sub-queries of one query scheduled at once.'),
    maxEntriesLimitPerQuery: z.number().int().positive().default(5000).describe('Log lines a query may return.'),
    queryTimeout: duration('1m').default('1m').describe('Timeout of one query.'),
    rejectOldSamplesMaxAge: duration('168h')
      .default('168h')
      .describe('Entries older than this are rejected at ingestion.'),
  })
  .describe('Per-tenant limits (`limits_config`).');

const auth = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Multi-tenancy: every request must carry `X-Scope-OrgID` (Loki `auth_enabled`).'),
    tenant: z
      .string()
      .regex(TENANT, "must be a Loki tenant ID: up to 150 letters, digits or !-_.*'()")
      .refine((tenant) => tenant !== '.' && tenant !== '..', 'must not be "." or ".."')
      .default('default')
      .describe('Tenant used by our own tools (smoke test, outputs) when `enabled`.'),
  })
  .describe('Tenancy.');

const scheduling = z
  .strictObject({
    antiAffinity: z
      .enum(['none', 'soft', 'hard'])
      .describe(
        'Spread pods of a component over nodes: `soft` prefers distinct nodes, `hard` requires them (pods stay Pending when nodes are short).',
      ),
    zoneSpread: z
      .boolean()
      .describe(
        'Prefer to spread the pods of a component over `topology.kubernetes.io/zone` (`ScheduleAnyway`). It does not make the ingester ring zone-aware: all copies of a stream can still sit in one zone (see `zoneAwareness`).',
      ),
  })
  .describe('Pod placement.');

export const DEFAULT_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';

const zoneAwareness = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Run the ingesters as one StatefulSet per zone with a zone-aware ring: Loki then keeps the `replicationFactor` copies of a stream in distinct zones, so that losing a whole zone loses no write and no recent data (Kubernetes only).',
      ),
    zones: z
      .array(dnsLabel('a short DNS label such as "a"').max(12, 'must be at most 12 characters'))
      .min(2)
      .max(5)
      .default(['a', 'b', 'c'])
      .describe(
        'The zones, as they appear in object names (`<name>-ingester-zone-<zone>`) and, with `placement: physical`, as the values of the topology label of the nodes. As many as `replicationFactor`.',
      ),
    placement: z
      .enum(['logical', 'physical'])
      .default('logical')
      .describe(
        '`physical` pins the pods of each zone to the nodes whose `topologyKey` label has the zone as its value; `logical` only tells Loki the zones (one failure domain per StatefulSet, not per data centre zone).',
      ),
    topologyKey: z
      .string()
      .min(1)
      .default(DEFAULT_TOPOLOGY_KEY)
      .describe('The node label whose values are the zones, for `placement: physical`.'),
  })
  .describe('Zone-aware replication of the ingesters (see docs/kubernetes.md, "Zone-aware ingesters").');

const retention = z
  .preprocess(
    (value) => (value === 0 ? '0' : value),
    duration('168h').refine((value) => {
      const ms = isDuration(value) ? parseDurationMs(value) : 0;
      return ms === 0 || ms >= 24 * 3_600_000;
    }, 'must be "0" (keep forever) or at least 24h: Loki deletes whole daily index periods'),
  )
  .default('0')
  .describe('How long logs are kept; the compactor deletes older ones. `0` keeps them forever.');

/** Refuses `{{` and `}}`: Nomad renders the runtime configuration as a template and would run them. */
const noTemplate = (value: string) => !value.includes('{{') && !value.includes('}}');
const NO_TEMPLATE =
  'must not contain "{{" or "}}": Nomad renders the runtime configuration as a template and would run them';

// A LogQL stream selector, checked minimally: braces around at least one `label op "value"` matcher.
const STREAM_SELECTOR = /^\{\s*[A-Za-z_][A-Za-z0-9_]*\s*(=|!=|=~|!~)\s*"[^]*\}$/;

const streamRetention = z.strictObject({
  selector: z
    .string()
    .regex(STREAM_SELECTOR, 'must be a LogQL stream selector such as \'{namespace="dev"}\'')
    .refine(noTemplate, NO_TEMPLATE)
    .describe('LogQL stream selector of the streams the rule applies to.'),
  priority: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('When several rules match a stream, the highest priority wins.'),
  period: duration('24h')
    .refine(
      (value) => parseDurationMs(value) >= 24 * 3_600_000,
      'must be at least 24h: Loki deletes whole daily index periods',
    )
    .describe('How long the matching streams are kept.'),
});

const retentionStreams = z
  .array(streamRetention)
  .default([])
  .describe(
    'Per-stream retention (`limits_config.retention_stream`): a list of `{selector, priority, period}`; a stream matching a rule is kept for its `period` instead of `retention`.',
  );

/** The fields of an object schema without their defaults: a tenant override sets only what it names. */
function withoutDefaults<T extends Record<string, z.ZodDefault<z.ZodType>>>(shape: T) {
  return Object.fromEntries(
    Object.entries(shape).map(([key, field]) => [
      key,
      field
        .unwrap()
        .optional()
        .describe(field.description ?? ''),
    ]),
  ) as { [K in keyof T]: z.ZodOptional<T[K]['def']['innerType']> };
}

const otlpAttributes = z
  .strictObject({
    action: z
      .enum(['index_label', 'structured_metadata', 'drop'])
      .describe('`index_label`, `structured_metadata` or `drop`.'),
    attributes: z
      .array(z.string().min(1).refine(noTemplate, NO_TEMPLATE))
      .min(1)
      .optional()
      .describe('Attribute names the action applies to.'),
    regex: z
      .string()
      .min(1)
      .refine(noTemplate, NO_TEMPLATE)
      .optional()
      .describe('Or: a regular expression (Go RE2 syntax) the attribute names match.'),
  })
  // On the rule, not a field: an invalid regex set aside by parseSpec must not read as a missing one.
  .refine(
    (rule) => (rule.attributes === undefined) !== (rule.regex === undefined),
    'must set exactly one of attributes and regex: list the attribute names, or match them with a regex',
  );

/** Rules for scope or log attributes: Loki indexes only resource attributes. */
const otlpRules = z
  .array(
    otlpAttributes.refine((rule) => rule.action !== 'index_label', {
      message: 'must be structured_metadata or drop: Loki makes index labels of resource attributes only',
      path: ['action'],
    }),
  )
  .optional();

const otlp = z
  .strictObject({
    resourceAttributes: z
      .strictObject({
        ignoreDefaults: z
          .boolean()
          .optional()
          .describe("Drop Loki's default resource attributes as index labels (`service.name`, `k8s.*`…)."),
        attributesConfig: z
          .array(otlpAttributes)
          .optional()
          .describe(
            'Rules `{action, attributes | regex}` for resource attributes; `action` is `index_label`, `structured_metadata` or `drop`.',
          ),
      })
      .optional()
      .describe('Resource attributes (`resource_attributes`).'),
    scopeAttributes: otlpRules.describe(
      'Rules `{action, attributes | regex}` for scope attributes; `action` is `structured_metadata` or `drop`.',
    ),
    logAttributes: otlpRules.describe(
      'Rules `{action, attributes | regex}` for log attributes; `action` is `structured_metadata` or `drop`.',
    ),
  })
  .describe('How OTLP attributes map to index labels and structured metadata (`otlp_config`).');

const tenantOverride = z
  .strictObject({
    ...withoutDefaults(limits.shape),
    retention: z
      .preprocess(
        (value) => (value === 0 ? '0' : value),
        duration('744h').refine((value) => {
          const ms = isDuration(value) ? parseDurationMs(value) : 0;
          return ms === 0 || ms >= 24 * 3_600_000;
        }, 'must be "0" (keep forever) or at least 24h: Loki deletes whole daily index periods'),
      )
      .optional()
      .describe("The tenant's retention (`retention_period`); `0` keeps its logs forever."),
    retentionStreams: z
      .array(streamRetention)
      .optional()
      .describe(
        "The tenant's per-stream retention (`retention_stream`), a list of `{selector, priority, period}`; it replaces `spec.retentionStreams` for the tenant.",
      ),
    otlp: otlp.optional(),
  })
  .describe('Limits of one tenant, over `spec.limits`.');

const overrides = z
  .record(
    z
      .string()
      .regex(TENANT, "must be a Loki tenant ID: up to 150 letters, digits or !-_.*'()")
      .refine((tenant) => tenant !== '.' && tenant !== '..', 'must not be "." or ".."'),
    tenantOverride,
  )
  .default({})
  .describe(
    'Per-tenant limits by tenant ID (needs `spec.auth.enabled`): the `spec.limits` fields, `retention`, `retentionStreams` and `otlp`. Rendered into a runtime configuration file Loki re-reads every 10 s: changing it restarts no pod.',
  );

const schemaPeriod = z.strictObject({
  from: z
    .string()
    .refine(isSchemaDate, 'must be a date written YYYY-MM-DD, e.g. "2027-01-01"')
    .describe('First day of the period (00:00 UTC), YYYY-MM-DD.'),
  store: z
    .enum(SCHEMA_STORES)
    .describe('Index store: `tsdb`, or `boltdb-shipper` for an older period of a bucket being adopted.'),
  version: z
    .enum(SCHEMA_VERSIONS)
    .describe('Schema version: tsdb takes v12 or v13, boltdb-shipper v11 to v13; the newest period must be tsdb v13.'),
  indexPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-", e.g. "index_"')
    .default(DEFAULT_INDEX_PREFIX)
    .describe("Prefix of the period's daily index tables in the bucket."),
});

const schemas = z
  .array(schemaPeriod)
  .min(1)
  .optional()
  .describe(
    `Schema periods (\`schema_config\`), oldest first; one must be in effect today (UTC), and the newest must be tsdb v13. Without it: tsdb v13 from ${SCHEMA_FROM}, prefix \`index_\`. A period in effect never changes: append a new one dated ahead (\`loki-microservices schema next\` prints one) — apply refuses a change to a period in effect, a new period within 2 h, and one within 24 h without \`--allow-near-schema\`.`,
  );

const version = z
  .string()
  .regex(/^3\.\d+\.\d+$/, `must be a Loki 3.x release such as "${DEFAULT_LOKI_VERSION}" (a pinned patch, not "latest")`)
  .refine((value) => {
    const minor = Number(value.split('.')[1]);
    return Number.isNaN(minor) || (minor >= SUPPORTED_LOKI_MINORS.min && minor <= SUPPORTED_LOKI_MINORS.max);
  }, `must be Loki 3.${SUPPORTED_LOKI_MINORS.min} to 3.${SUPPORTED_LOKI_MINORS.max}: the generated configuration is verified against those releases`)
  .default(DEFAULT_LOKI_VERSION)
  .describe('Loki release, used as the image tag.');

// htpasswd entries Traefik accepts: bcrypt, Apache MD5 or SHA-1 hashes, never a plain-text password.
const HTPASSWD_ENTRY =
  /^[^:\s]+:(\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}|\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}|\{SHA\}[A-Za-z0-9+/]{27}=)$/;
// A Nomad attribute reference or a plain host, with a port: what a task uses to reach its Consul agent.
const CONSUL_ADDRESS = /^(\$\{(attr|meta|node)\.[A-Za-z0-9._-]+\}|[A-Za-z0-9.-]+):\d{1,5}$/;
const VAULT_PATH = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)+$/;

const nomadCredentials = z
  .strictObject({
    source: z
      .enum(['vault', 'nomadVariable'])
      .describe(
        '`vault` reads a KV v2 secret; `nomadVariable` a Nomad Variable (tasks read `nomad/jobs/<job>` without extra ACL policy).',
      ),
    path: z
      .string()
      .regex(VAULT_PATH, 'must be a path such as "kv/data/loki/s3" (Vault KV v2) or "nomad/jobs/loki" (Nomad Variable)')
      .describe(
        'Where the keys live: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (s3), `AZURE_STORAGE_ACCOUNT_KEY` (azure) or `key.json` (gcs), as in the Kubernetes Secret.',
      ),
  })
  .describe(
    "Object-store credentials, rendered by a `template` into the task's secrets directory and never written into the job.",
  );

const nomad = z
  .strictObject({
    namespace: dnsLabel('a Nomad namespace').default('default').describe('Nomad namespace of the job (it must exist).'),
    region: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'must be a Nomad region name such as "global"')
      .optional()
      .describe('Nomad region; defaults to the region of the agent the job is sent to.'),
    datacenters: z
      .array(z.string().regex(/^[A-Za-z0-9*_.-]+$/, 'must be a datacenter name or a glob such as "dc*"'))
      .min(1)
      .default(['*'])
      .describe('Datacenters the job may run in (globs allowed).'),
    serviceProvider: z
      .enum(['consul', 'nomad'])
      .default('consul')
      .describe(
        "Where services are registered: Consul (rings kept in Consul KV) or Nomad's native service discovery (rings gossip over memberlist).",
      ),
    consulAddress: z
      .string()
      .regex(
        CONSUL_ADDRESS,
        'must be host:port, or a node attribute reference with a port such as "${attr.unique.network.ip-address}:8500"',
      )
      .default('${attr.unique.network.ip-address}:8500')
      .describe(
        'Consul HTTP API as a task reaches it (rings live in Consul KV); `${attr.…}` is interpolated by Nomad on each node.',
      ),
    volumes: z
      .enum(['ephemeral', 'csi'])
      .default('ephemeral')
      .describe(
        "Data of the stateful components: `ephemeral` (sticky, migrating ephemeral disk of the components' `storage.size`) or `csi` (per-allocation CSI volumes `<name>-<component>[N]` you create beforehand).",
      ),
    credentials: nomadCredentials.optional(),
    vaultRole: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'must be a Vault role name')
      .optional()
      .describe("Vault role of the tasks (workload identity); without it, Nomad's default role."),
    tls: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe('mTLS on gRPC between components, with certificates issued by Vault PKI.'),
        pkiIssuePath: z
          .string()
          .regex(VAULT_PATH, 'must be a Vault PKI issue path such as "pki/issue/loki"')
          .default('pki/issue/loki')
          .describe('Vault PKI `issue` endpoint (mount and role).'),
        serverName: dnsSubdomain('a DNS name the PKI role allows')
          .optional()
          .describe(
            'Common name of every certificate and the name clients verify. Defaults to `<name>.service.consul`.',
          ),
        ttl: duration('240h')
          .default('240h')
          .describe('Certificate lifetime; Nomad renews it before expiry and restarts the task.'),
      })
      .default({ enabled: false, pkiIssuePath: 'pki/issue/loki', ttl: '240h' })
      .describe('gRPC mTLS between components.'),
    traefik: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'Traefik routers for the push path (distributor) and the query API (query-frontend), both behind basic auth.',
          ),
        entrypoints: z
          .array(z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a Traefik entrypoint name'))
          .min(1)
          .default(['web'])
          .describe('Traefik entrypoints of the routers.'),
        host: dnsSubdomain('a host name').optional().describe('Host the routers match; without it, any host.'),
        basicAuthUsers: z
          .array(
            z
              .string()
              .regex(
                HTPASSWD_ENTRY,
                'must be an htpasswd entry "user:<hash>" with a bcrypt, apr1 or SHA hash (htpasswd -nbB user password), never a plain-text password',
              ),
          )
          .default([])
          .describe('htpasswd entries allowed through both routers; required when `enabled`.'),
      })
      .default({ enabled: false, entrypoints: ['web'], basicAuthUsers: [] })
      .describe("Ingress through Traefik's Consul catalog (or Nomad) provider."),
  })
  .describe('Settings used only by `render --target nomad` and the Nomad commands.');

const networkPeer = z
  .strictObject({
    namespaceSelector: z
      .strictObject({ matchLabels: labels })
      .optional()
      .describe('Namespaces whose pods may connect (`{}`: every namespace).'),
    podSelector: z
      .strictObject({ matchLabels: labels })
      .optional()
      .describe("Pods that may connect (in the stack's namespace unless `namespaceSelector` is set)."),
    ipBlock: z
      .strictObject({ cidr: z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'must be a CIDR such as "10.0.0.0/8"') })
      .optional()
      .describe('Addresses that may connect.'),
  })
  .describe('A NetworkPolicy peer (Kubernetes `NetworkPolicyPeer` syntax).');

const networkPolicy = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "NetworkPolicies: deny every connection to and from the stack's pods except the flows the stack needs (gRPC between components, memberlist among ring members, HTTP to the compactor and queriers, the object store, DNS) and the entry points below.",
      ),
    allowFrom: z
      .array(networkPeer)
      .optional()
      .describe(
        "Who may reach the push (distributor) and query (query-frontend) HTTP port. Without it, anyone may (the API server's service proxy included, which the smoke test uses).",
      ),
    allowMetricsFrom: z
      .array(networkPeer)
      .default([])
      .describe(
        'Who may scrape `/metrics` on every component (e.g. the namespace of Prometheus). Empty: nobody beyond `allowFrom` on the entry points.',
      ),
  })
  .describe("Network isolation of the stack's pods.");

const monitoring = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Metrics and alerts: a scrape job finding the Loki pods by Kubernetes service discovery (labels `component`, `instance`), and alerts on request errors, ingestion rate limiting, ingester flush failures and panics. As files beside the manifests (`render -o DIR`: `prometheus-scrape.yaml`, `prometheus-rules.yaml`), or as Prometheus Operator objects with `prometheusOperator`.',
      ),
    prometheusOperator: z
      .boolean()
      .default(false)
      .describe(
        "Render a PodMonitor and a PrometheusRule (monitoring.coreos.com/v1) with the stack instead of the files; the cluster needs the Prometheus Operator's CRDs.",
      ),
    labels: labels
      .default({})
      .describe(
        'Extra labels on the PodMonitor and PrometheusRule, for the `podMonitorSelector` and `ruleSelector` of your Prometheus (e.g. `release: kube-prometheus-stack`).',
      ),
  })
  .describe('Metrics and alerts for Prometheus.');

const gatewayUser = z
  .string()
  .regex(TENANT, "must be a Loki tenant ID: up to 150 letters, digits or !-_.*'()")
  .refine((user) => user !== '.' && user !== '..', 'must not be "." or ".."');

/** A cert-manager Issuer or ClusterIssuer. */
const issuerRef = z.strictObject({
  name: dnsSubdomain('an issuer name').describe('Issuer or ClusterIssuer name.'),
  kind: z
    .enum(['Issuer', 'ClusterIssuer'])
    .default('Issuer')
    .describe("`Issuer` (in the stack's namespace) or `ClusterIssuer`."),
});

// Ingress hosts and Gateway API hostnames: a DNS subdomain, or "*." and one (a wildcard covers one label).
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const hostname = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(HOSTNAME, 'must be a DNS name such as "loki.example.com", or a wildcard such as "*.example.com"');

/** Annotations that would put the ingress controller between the client and the gateway's auth, or fight issuerRef. */
const REFUSED_INGRESS_ANNOTATION =
  /(^nginx\.ingress\.kubernetes\.io\/(.*-snippet|auth-.*|default-backend)$)|^cert-manager\.io\//;

const exposeIngress = z
  .strictObject({
    className: dnsSubdomain('an IngressClass name')
      .optional()
      .describe("The IngressClass (e.g. `nginx`). Without it, the cluster's default class."),
    host: hostname.describe('The host clients use, e.g. `loki.example.com`; `*.` covers one label.'),
    tls: z
      .strictObject({
        secretName: secretName
          .optional()
          .describe(
            "A Secret of type kubernetes.io/tls with the host's certificate; with `issuerRef`, where cert-manager writes it (default `<name>-gateway-external-tls`).",
          ),
        issuerRef: issuerRef
          .optional()
          .describe(
            'cert-manager issues the certificate: the Ingress gets the annotation `cert-manager.io/issuer` or `cert-manager.io/cluster-issuer` (the cluster needs cert-manager and its ingress-shim).',
          ),
      })
      .refine(
        (tls) => tls.secretName || tls.issuerRef,
        'set secretName (an existing certificate) or issuerRef (cert-manager)',
      )
      .optional()
      .describe('HTTPS on the Ingress. Without it, the Ingress serves plain HTTP.'),
    annotations: z
      .record(
        z
          .string()
          .regex(
            LABEL_KEY,
            'must be a valid annotation key: an optional DNS subdomain prefix and "/", then a name of up to 63 characters',
          )
          .refine(
            (key) => !REFUSED_INGRESS_ANNOTATION.test(key),
            "is refused: snippets, auth-* and default-backend would bypass or replace the gateway's auth, and cert-manager annotations come from tls.issuerRef",
          ),
        z.string(),
      )
      .default({})
      .describe(
        "Extra annotations for the ingress controller (e.g. `nginx.ingress.kubernetes.io/proxy-body-size`). Refused: ingress-nginx's `*-snippet`, `auth-*` and `default-backend`, which would bypass or replace the gateway's auth, and `cert-manager.io/*` (from `tls.issuerRef`).",
      ),
  })
  .describe('An Ingress (networking.k8s.io/v1) to the gateway Service.');

const parentRef = z
  .strictObject({
    group: dnsSubdomain('an API group').optional().describe('Default `gateway.networking.k8s.io`.'),
    kind: z
      .string()
      .regex(/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, 'must be a Kind such as "Gateway"')
      .max(63)
      .optional()
      .describe('Default `Gateway`.'),
    namespace: dnsLabel('a namespace').optional().describe("The Gateway's namespace; default the stack's."),
    name: dnsSubdomain('a Gateway name').describe('The Gateway.'),
    sectionName: dnsSubdomain('a listener name').optional().describe('One listener of the Gateway.'),
    port: z.number().int().min(1).max(65535).optional().describe('One port of the Gateway.'),
  })
  .describe('A Gateway API `ParentReference`.');

const exposeHttpRoute = z
  .strictObject({
    parentRefs: z.array(parentRef).min(1).max(32).describe('The Gateways (listeners) the route attaches to.'),
    hostnames: z
      .array(hostname)
      .max(16)
      .default([])
      .describe("The route's hostnames; the first one without a wildcard makes the external URLs."),
  })
  .describe(
    'An HTTPRoute (gateway.networking.k8s.io/v1) to the gateway Service. TLS terminates on the Gateway that parentRefs name (its listener certificate); the external URLs say https.',
  );

const expose = z
  .strictObject({
    ingress: exposeIngress.optional(),
    httpRoute: exposeHttpRoute.optional(),
    controllerNamespace: dnsLabel('a namespace')
      .optional()
      .describe(
        "The namespace of the ingress controller's or Gateway's pods: with `spec.networkPolicy.enabled` it is required, and the only one besides `allowFrom` that may reach the gateway.",
      ),
  })
  .describe(
    'Expose the gateway (never Loki itself) outside the cluster, through an Ingress, an HTTPRoute or both (e.g. while moving from one to the other); the external URLs come from the Ingress when both are set. Needs `enabled: true`.',
  );

const gateway = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'An nginx gateway in front of the push, query, tail, rules and delete APIs, with HTTP basic auth per tenant; the push and query URLs point at it, and the smoke test goes through it.',
      ),
    replicas: replicas.describe('Number of gateway pods.'),
    autoscaling,
    resources: resources.describe('Requests and limits of the gateway container, merged over the profile values.'),
    image: z
      .string()
      .regex(
        IMAGE_REFERENCE,
        'must be an image reference with a tag or digest, e.g. "registry.example.com/nginxinc/nginx-unprivileged:1.29-alpine"',
      )
      .default(DEFAULT_GATEWAY_IMAGE)
      .describe('An unprivileged nginx image (uid 101, listening on 8080), pinned by tag or digest.'),
    tenants: z
      .array(gatewayUser)
      .default([])
      .describe(
        'Basic-auth users, one per tenant: with `spec.auth.enabled`, a user writes and reads as the tenant of its name (the gateway sets `X-Scope-OrgID`, whatever the client sent). Empty: one user, `spec.auth.tenant`.',
      ),
    adminUser: gatewayUser
      .default('admin')
      .describe(
        'The one user who may open the ring, config and service pages (`/ring`, `/config`, `/services`, `/memberlist`…); tenants cannot.',
      ),
    passwordsSecret: secretName
      .optional()
      .describe(
        "Existing Secret with each user's password under the user's name (every tenant and `adminUser`). Without it, `apply` creates `<name>-gateway-passwords` with random passwords, adds one for each new user, and never changes one.",
      ),
    expose: expose.optional(),
    ...placement,
  })
  .describe('HTTP gateway with basic auth in front of Loki.');

const tls = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "mTLS between Loki components: every gRPC server verifies its clients' certificates, every gRPC client block and memberlist present one and verify the server's. HTTP (3100: APIs, probes, metrics) stays plain; put the gateway in front.",
      ),
    provider: z
      .enum(['generated', 'cert-manager'])
      .default('generated')
      .describe(
        '`generated`: `apply` creates a CA and a certificate per component in Secrets and renews them (`validity`); `cert-manager`: Certificate objects that cert-manager issues and renews (the cluster needs cert-manager).',
      ),
    validity: duration('2160h')
      .refine((value) => parseDurationMs(value) >= 3_600_000, 'must be at least 1h')
      .default('2160h')
      .describe(
        'Lifetime of each component certificate (90 days by default). `apply` renews a certificate past 80% of its life and rolls the pods that use it; cert-manager renews at the same point.',
      ),
    issuerRef: issuerRef
      .optional()
      .describe(
        'With `provider: cert-manager`: the issuer of the component certificates. Without it, the stack gets its own self-signed CA (a selfSigned Issuer, a CA Certificate and a CA Issuer).',
      ),
  })
  .describe('gRPC and memberlist mTLS between components.');

const tenantId = z
  .string()
  .regex(TENANT, "must be a Loki tenant ID: up to 150 letters, digits or !-_.*'()")
  .refine((tenant) => tenant !== '.' && tenant !== '..', 'must not be "." or ".."');

// Checked as a whole by ruleGroupProblems, so that each message names the file or tenant and the group.
const ruleGroups = z
  .array(z.custom<RuleGroup>())
  .describe(
    'Rule groups as in a Prometheus rule file: `[{name, interval, limit, rules: [{alert|record, expr, for, labels, annotations}]}]`, LogQL in `expr`.',
  );

/** The label a ConfigMap carries to be discovered, unless spec.rules.discovery.labelSelector says otherwise. */
export const DEFAULT_DISCOVERY_LABEL = { 'loki-rules': 'true' };

const rulesDiscovery = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Run the discovery sidecar in the ruler pods (Kubernetes only; needs `spec.components.ruler.enabled`).',
      ),
    labelSelector: labels
      .refine((selector) => Object.keys(selector).length === 1, {
        message: 'must hold exactly one label (`{key: value}`): the sidecar matches a single label',
      })
      .default(DEFAULT_DISCOVERY_LABEL)
      .describe('The one label (`{key: value}`) a ConfigMap carries to be collected.'),
    namespaces: z
      .array(dnsLabel('a namespace name'))
      .default([])
      .describe(
        "Namespaces whose labelled ConfigMaps are collected, each given a Role and RoleBinding for the sidecar (read ConfigMaps only); empty: the stack's own. Each must exist.",
      ),
  })
  .describe(
    "Rules collected at run time from labelled ConfigMaps (kiwigrid/k8s-sidecar in the ruler pods), each ConfigMap naming its tenant in the annotation `loki-microservices/rules-tenant`; a tenant's rules come either from the spec or from discovery.",
  );

const rules = z
  .strictObject({
    files: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Rule files, as globs relative to the spec file (`rules/*.yaml`), read by the CLI and the Action: each a Prometheus-style rule file (`groups: [...]`) with an optional top-level `tenant:` (default: `spec.auth.tenant` with auth, else `fake`).',
      ),
    loadedFiles: z
      .array(z.strictObject({ file: z.string().min(1), tenant: tenantId.optional(), groups: ruleGroups }))
      .optional()
      .describe(
        'The content of `files`, filled in by the CLI and the Action when they read them (`[{file, tenant, groups}]`); a program that gives the library a spec object may set it instead of `files`.',
      ),
    inline: z
      .record(tenantId, ruleGroups)
      .default({})
      .describe("Rule groups by tenant ID (`fake` without `spec.auth.enabled`), as in a rule file's `groups`."),
    remoteWrite: z
      .strictObject({
        url: configUrl('must be the http(s) URL of a Prometheus remote-write endpoint').describe(
          'Where recording rules write their samples, e.g. `http://prometheus:9090/api/v1/write`.',
        ),
        headers: z
          .record(
            z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name such as "Authorization"'),
            z.strictObject({
              secretName: secretName.describe("Secret in the stack's namespace."),
              key: z
                .string()
                .regex(/^[-._a-zA-Z0-9]{1,253}$/, 'must be a Secret key')
                .describe('Key of the header value in the Secret.'),
            }),
          )
          .default({})
          .describe(
            "Headers sent with every write, by header name, each value read from a Secret key into the ruler's environment (never into a ConfigMap); a value must not hold a single quote or a line break (Loki reads it into its YAML configuration).",
          ),
      })
      .optional()
      .describe("The ruler's remote write (`ruler.remote_write`), with its WAL on the ruler's volume."),
    discovery: rulesDiscovery.default({ enabled: false, labelSelector: DEFAULT_DISCOVERY_LABEL, namespaces: [] }),
  })
  .describe(
    'Alerting and recording rules the ruler evaluates, from files and inline, one ConfigMap per tenant mounted into the ruler (`ruler.storage.type: local`); a change reaches the ruler within a minute, without a restart.',
  );

export const CACHE_TYPES = ['embedded', 'memcached', 'external'] as const;
export type CacheType = (typeof CACHE_TYPES)[number];

const memcachedAddresses = notEvaluated(z.string().min(1)).refine(
  (value) =>
    value.split(',').every((address) => /^(dns\+|dnssrv\+|dnssrvnoa\+)?[A-Za-z0-9_.-]+(:\d{1,5})?$/.test(address)),
  'must be memcached addresses separated by ",": host:port, or with a dns+, dnssrv+ or dnssrvnoa+ prefix (e.g. "dnssrvnoa+_memcache._tcp.memcached.cache.svc.cluster.local")',
);

const cacheSize = {
  replicas: replicas.describe('Number of memcached pods; keys are spread over them by consistent hashing.'),
  memory: quantity('1Gi')
    .refine((value) => parseQuantity(value) >= 64 * 2 ** 20, 'must be at least 64Mi')
    .describe(
      "Memory each pod gives memcached for items (`-m`); the container's memory request and limit add headroom for connections.",
    ),
};

const caches = z
  .strictObject({
    type: z
      .enum(CACHE_TYPES)
      .describe(
        '`embedded`: a cache in each querier and query-frontend process (per pod, lost on restart); `memcached`: `<name>-chunks-cache` and `<name>-results-cache` StatefulSets shared by every pod; `external`: memcached servers you run (`external`).',
      ),
    chunks: z
      .strictObject({
        ...cacheSize,
        maxItemSize: quantity('4Mi').describe(
          "Largest item memcached stores (`-I`, and Loki's `max_item_size`): at least twice the ingester chunk target size (1.5 MiB), at most `memory`/8.",
        ),
      })
      .optional()
      .describe('With `memcached`: the chunks cache (ingesters write flushed chunks, queriers and rulers read them).'),
    results: z
      .strictObject(cacheSize)
      .optional()
      .describe('With `memcached`: the results cache of the query-frontends.'),
    image: z
      .string()
      .regex(
        IMAGE_REFERENCE,
        'must be an image reference with a tag or digest, e.g. "registry.example.com/library/memcached:1.6.39-alpine"',
      )
      .optional()
      .describe(
        `With \`memcached\`: the memcached image, pinned by tag or digest. Default \`${DEFAULT_MEMCACHED_IMAGE}\`.`,
      ),
    external: z
      .strictObject({
        chunks: memcachedAddresses.describe('Addresses of the chunks cache.'),
        results: memcachedAddresses.describe('Addresses of the results cache.'),
      })
      .optional()
      .describe('With `external`: the memcached servers Loki uses, nothing rendered for them.'),
  })
  .describe(
    'Chunks and query-results caches. Profiles: `embedded` for demo and small, `memcached` for production, sized by the profile (fields given here win).',
  );

export const PROFILES = ['demo', 'small', 'production'] as const;
export type ProfileName = (typeof PROFILES)[number];

const stackSpec = z
  .strictObject({
    profile: z
      .enum(PROFILES)
      .default('demo')
      .describe(
        'Size preset: `demo` (one replica each, fits a single-node kind cluster), `small` (replication factor 3, PodDisruptionBudgets), `production` (bigger requests, zone spread). Explicit fields override it.',
      ),
    version,
    schemas,
    image: z
      .string()
      .regex(
        IMAGE_REPOSITORY,
        'must be an image repository without tag, e.g. "registry.example.com/grafana/loki"; the tag is `version`',
      )
      .default(DEFAULT_LOKI_IMAGE)
      .describe('Loki image repository (for mirrors); the tag is `version`.'),
    imagePullPolicy: z
      .enum(['IfNotPresent', 'Always', 'Never'])
      .default('IfNotPresent')
      .describe('Pull policy of every container.'),
    imagePullSecrets: z.array(secretName).default([]).describe('Secrets for pulling images from private registries.'),
    replicationFactor: z
      .number()
      .int()
      .min(1)
      .max(5)
      .describe('Copies of each stream kept by the ingesters; writes need a quorum of them.'),
    clusterDomain: dnsSubdomain('a DNS domain such as "cluster.local"')
      .default('cluster.local')
      .describe('Cluster DNS domain used in service addresses.'),
    components,
    storage,
    retention,
    retentionStreams,
    limits: limits.default(limits.parse({})),
    overrides,
    auth: auth.default(auth.parse({})),
    rules: rules.default({
      files: [],
      inline: {},
      discovery: { enabled: false, labelSelector: DEFAULT_DISCOVERY_LABEL, namespaces: [] },
    }),
    scheduling,
    zoneAwareness: zoneAwareness.default(zoneAwareness.parse({})),
    networkPolicy: networkPolicy.default(networkPolicy.parse({})),
    monitoring: monitoring.default({ enabled: false, prometheusOperator: false, labels: {} }),
    gateway,
    caches,
    tls: tls.default({ enabled: false, provider: 'generated', validity: '2160h' }),
    nomad: nomad.default(nomad.parse({})),
    serviceAccount: z
      .strictObject({
        annotations: z
          .record(z.string(), z.string())
          .default({})
          .describe(
            "Annotations of the stack's ServiceAccount, e.g. `eks.amazonaws.com/role-arn` for IRSA or `iam.gke.io/gcp-service-account`.",
          ),
      })
      .default({ annotations: {} })
      .describe('The ServiceAccount every Loki pod runs as.'),
    gitops: z
      .strictObject({
        syncWaves: z
          .boolean()
          .default(false)
          .describe(
            "Annotate every rendered object with `argocd.argoproj.io/sync-wave`, so that Argo CD applies the stack in apply's rollout order: `0` for everything but the Loki and gateway workloads, then each workload in its wave, servers before clients (compactor, index-gateway, ingester, pattern-ingester, query-scheduler, querier, query-frontend, ruler, distributor, gateway; `1` for the first the stack runs). Argo CD applies a wave once the ones before it are healthy.",
          ),
      })
      .default({ syncWaves: false })
      .describe('For teams that render the stack and let a GitOps tool apply it (Kubernetes only).'),
  })
  .describe('The stack.');

/** Labels that set a namespace's Pod Security admission level: never taken from a spec. */
const POD_SECURITY_PREFIX = 'pod-security.kubernetes.io/';

/** `metadata.name` and `metadata.namespace` when the spec leaves them out. */
export const DEFAULT_NAME = 'loki';

const stackDocument = z
  .strictObject({
    apiVersion: z
      .literal(API_VERSION, `must be "${API_VERSION}"`)
      .default(API_VERSION)
      .describe('Spec format version.'),
    kind: z.literal(KIND, `must be "${KIND}"`).default(KIND).describe('Always `LokiMicroservices`.'),
    metadata: z
      .strictObject({
        name: dnsLabel(`so that "<name>${LONGEST_SUFFIX}" fits in 63`, MAX_NAME_LENGTH)
          .default(DEFAULT_NAME)
          .describe(`Stack name; every object is named \`<name>-<component>\`. At most ${MAX_NAME_LENGTH} characters.`),
        namespace: dnsLabel('a namespace name').default(DEFAULT_NAME).describe('Namespace of every object.'),
        labels: labels
          .refine(
            (given) => !Object.keys(given).some((key) => key.startsWith(POD_SECURITY_PREFIX)),
            `must not set ${POD_SECURITY_PREFIX}* labels: they would change the Pod Security level of the namespace; set those on the namespace yourself`,
          )
          .default({})
          .describe(
            'Extra labels on every object, e.g. `backstage.io/kubernetes-id`. Not `pod-security.kubernetes.io/*`.',
          ),
      })
      .default({ name: DEFAULT_NAME, namespace: DEFAULT_NAME, labels: {} })
      .describe('Identity of the stack.'),
    spec: stackSpec,
  })
  .describe('A Loki microservices stack.');

/** A parsed, profile-resolved stack: what every renderer and cluster operation takes. */
export type LokiStack = z.output<typeof stackDocument>;
/** What users write: every field optional (defaults and the profile fill them in), `null` to remove a profile value; validated by parseSpec. */
export type LokiStackInput = DeepPartial<z.input<typeof stackDocument>>;
type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | null }
    : T;

// Cross-field rules assume every field is individually valid, so they wait until no issue is left.
export const stackSchema = stackDocument.superRefine(checkCrossFieldRules, {
  when: (payload) => payload.issues.length === 0,
});
export type ComponentSpec = LokiStack['spec']['components'][ComponentName];
export type Resources = z.output<typeof resources>;

export const AZURE_CREDENTIALS_REQUIRED =
  'required: name a Secret holding AZURE_STORAGE_ACCOUNT_KEY, or set useFederatedToken: true for Workload Identity (on Nomad, set spec.nomad.credentials instead)';

/** Rules that span several fields; run once every field is individually valid. */
function checkCrossFieldRules(stack: LokiStack, ctx: z.RefinementCtx): void {
  const { spec } = stack;
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  const zones = spec.zoneAwareness.enabled ? spec.zoneAwareness.zones : [];
  if (zones.length > 0 && zones.length !== spec.replicationFactor) {
    issue(
      ['spec', 'zoneAwareness', 'zones'],
      `must name as many zones as replicationFactor (${spec.replicationFactor}), one copy of each stream per zone: it names ${zones.length}; set spec.replicationFactor: ${zones.length} (the profiles small and production have 3) or list ${spec.replicationFactor} zones`,
    );
  }
  if (new Set(zones).size !== zones.length) {
    issue(['spec', 'zoneAwareness', 'zones'], 'must not name a zone twice');
  }
  if (zones.length === 0 && spec.components.ingester.replicas < spec.replicationFactor) {
    issue(
      ['spec', 'components', 'ingester', 'replicas'],
      `must be ≥ replicationFactor (${spec.replicationFactor}): set it to at least ${spec.replicationFactor} or lower spec.replicationFactor`,
    );
  }

  const type = spec.storage.type;
  // parseSpec gives the bundled store its (all-default) block; the others need the user's settings.
  const whatToSet = { s3: 'bucket and region (or endpoint)', gcs: 'bucket', azure: 'accountName and container' };
  if (type !== 'bundled' && !spec.storage[type]) {
    issue(
      ['spec', 'storage', type],
      `required when storage.type is ${type}: set spec.storage.${type} with ${whatToSet[type]}`,
    );
  }
  for (const other of STORAGE_TYPES) {
    if (other !== type && spec.storage[other]) {
      issue(
        ['spec', 'storage', other],
        `only used when storage.type is ${other} (it is ${type}): remove this block or change spec.storage.type`,
      );
    }
  }
  if (type === 's3' && spec.storage.s3 && !spec.storage.s3.region && !spec.storage.s3.endpoint) {
    issue(
      ['spec', 'storage', 's3', 'region'],
      'required for AWS S3: set the bucket region, or set spec.storage.s3.endpoint for an S3-compatible store',
    );
  }
  // On Nomad the key comes from spec.nomad.credentials; renderKubernetes still insists on one of the two.
  if (
    type === 'azure' &&
    spec.storage.azure &&
    !spec.storage.azure.secretName &&
    !spec.storage.azure.useFederatedToken &&
    !spec.nomad.credentials
  ) {
    issue(['spec', 'storage', 'azure', 'secretName'], AZURE_CREDENTIALS_REQUIRED);
  }

  if (spec.monitoring.prometheusOperator && !spec.monitoring.enabled) {
    issue(
      ['spec', 'monitoring', 'prometheusOperator'],
      'takes effect only with spec.monitoring.enabled: true: set that too, or remove this',
    );
  }
  if (spec.tls.issuerRef && spec.tls.provider !== 'cert-manager') {
    issue(
      ['spec', 'tls', 'issuerRef'],
      'only used with tls.provider cert-manager: remove it, or set spec.tls.provider to cert-manager',
    );
  }
  const tenants = spec.gateway.tenants;
  tenants.forEach((tenant, index) => {
    if (tenants.indexOf(tenant) !== index)
      issue(['spec', 'gateway', 'tenants', index], `"${tenant}" is listed twice: list each tenant once`);
  });
  if (tenants.includes(spec.gateway.adminUser)) {
    issue(
      ['spec', 'gateway', 'adminUser'],
      `must differ from every tenant ("${spec.gateway.adminUser}" is one): the admin user sees every tenant's ring and config pages`,
    );
  }
  if (spec.gateway.enabled && spec.auth.enabled && tenants.length > 0 && !tenants.includes(spec.auth.tenant)) {
    issue(
      ['spec', 'gateway', 'tenants'],
      `must include spec.auth.tenant ("${spec.auth.tenant}"), the tenant the smoke test and the outputs use: add it, or set spec.auth.tenant to one of them`,
    );
  }

  checkExpose(spec, issue);

  if (Object.keys(spec.overrides).length > 0 && !spec.auth.enabled) {
    issue(
      ['spec', 'overrides'],
      'takes effect only with spec.auth.enabled: true (without it every request is one tenant, "fake"): set spec.auth.enabled: true, or set these values in spec.limits',
    );
  }

  checkRules(spec, issue);

  if (spec.nomad.traefik.enabled && spec.nomad.traefik.basicAuthUsers.length === 0) {
    issue(
      ['spec', 'nomad', 'traefik', 'basicAuthUsers'],
      'required when traefik is enabled, or the push and query routes are open to anyone: add an entry made with `htpasswd -nbB <user> <password>`',
    );
  }

  for (const [name, component] of Object.entries(spec.components)) {
    checkLimitsCoverRequests(component.resources, ['spec', 'components', name, 'resources'], issue);
  }
  checkLimitsCoverRequests(spec.gateway.resources, ['spec', 'gateway', 'resources'], issue);
  for (const [path, scaled] of autoscaledParts(spec)) checkAutoscaling(scaled, path, spec.monitoring.enabled, issue);
  if (spec.gateway.autoscaling?.enabled && !spec.gateway.enabled)
    issue(['spec', 'gateway', 'autoscaling', 'enabled'], 'requires spec.gateway.enabled: true, or set it to false');
  checkCaches(spec.caches, issue);
  if (spec.storage.bundled)
    checkLimitsCoverRequests(spec.storage.bundled.resources, ['spec', 'storage', 'bundled', 'resources'], issue);
}

function checkExpose(spec: LokiStack['spec'], issue: (path: (string | number)[], message: string) => void): void {
  const { expose } = spec.gateway;
  if (!expose) return;
  const path = ['spec', 'gateway', 'expose'];
  if (!spec.gateway.enabled)
    issue(
      path,
      'needs the gateway, so that exposing never bypasses auth: set spec.gateway.enabled: true, or remove this',
    );
  if (!expose.ingress && !expose.httpRoute) issue(path, 'exposes nothing: set ingress, httpRoute or both');
  if (spec.networkPolicy.enabled && !expose.controllerNamespace)
    issue(
      [...path, 'controllerNamespace'],
      "required with spec.networkPolicy.enabled: name the namespace of the ingress controller's (or the Gateway's) pods, the only one let through to the gateway",
    );
}

/** The rule groups of the stack by where they come from, tenants resolved: what the ruler gets. */
export function ruleSources(spec: LokiStack['spec']): RuleSource[] {
  const defaultTenant = spec.auth.enabled ? spec.auth.tenant : SINGLE_TENANT;
  return [
    ...(spec.rules.loadedFiles ?? []).map((file) => ({
      source: file.file,
      tenant: file.tenant ?? defaultTenant,
      groups: file.groups,
    })),
    ...Object.entries(spec.rules.inline).map(([tenant, groups]) => ({
      source: `spec.rules.inline.${tenant}`,
      tenant,
      groups,
    })),
  ];
}

function checkRules(spec: LokiStack['spec'], issue: (path: (string | number)[], message: string) => void): void {
  const sources = ruleSources(spec);
  const pathOf = (source: RuleSource) =>
    source.source.startsWith('spec.rules.inline.')
      ? ['spec', 'rules', 'inline', source.tenant]
      : ['spec', 'rules', 'files'];
  const where = (source: RuleSource) => (source.source.startsWith('spec.') ? '' : `${source.source}, `);
  if (sources.length > 0 && !spec.components.ruler.enabled)
    issue(['spec', 'rules'], 'needs the ruler: set spec.components.ruler.enabled: true, or remove the rules');
  const groupsOf = new Map<string, string>();
  for (const source of sources) {
    if (!spec.auth.enabled && source.tenant !== SINGLE_TENANT)
      issue(
        pathOf(source),
        `${where(source)}tenant "${source.tenant}": without spec.auth.enabled every rule runs as the one tenant "${SINGLE_TENANT}": set spec.auth.enabled: true for several tenants, or declare the rules for "${SINGLE_TENANT}"`,
      );
    for (const problem of ruleGroupProblems(source.groups)) issue(pathOf(source), `${where(source)}${problem}`);
    for (const group of source.groups) {
      const key = `${source.tenant}/${group.name}`;
      const first = groupsOf.get(key);
      if (first !== undefined && first !== source.source)
        issue(
          pathOf(source),
          `${where(source)}group "${group.name}" is declared for tenant "${source.tenant}" in ${first} already: group names must be unique per tenant`,
        );
      else groupsOf.set(key, source.source);
    }
  }
  checkRulesDiscovery(spec, issue);
  if (spec.rules.files.length > 0 && spec.rules.loadedFiles === undefined)
    issue(
      ['spec', 'rules', 'files'],
      'were not read: the CLI and the Action read them relative to the spec file; a spec given as an object must set spec.rules.loadedFiles (or use spec.rules.inline)',
    );
}

function checkRulesDiscovery(
  spec: LokiStack['spec'],
  issue: (path: (string | number)[], message: string) => void,
): void {
  const { discovery } = spec.rules;
  if (discovery.enabled && !spec.components.ruler.enabled)
    issue(
      ['spec', 'rules', 'discovery', 'enabled'],
      'needs the ruler: set spec.components.ruler.enabled: true, or spec.rules.discovery.enabled: false',
    );
  discovery.namespaces.forEach((namespace, index) => {
    if (discovery.namespaces.indexOf(namespace) !== index)
      issue(
        ['spec', 'rules', 'discovery', 'namespaces', index],
        `"${namespace}" is listed twice: list each namespace once`,
      );
  });
}

export type Autoscaling = NonNullable<z.output<typeof autoscaling>>;

/** The parts that autoscale, with their spec paths: the components that may, and the gateway. */
export function autoscaledParts(
  spec: LokiStack['spec'],
): [string[], { autoscaling: Autoscaling; resources: Resources }][] {
  const parts: [string[], { autoscaling?: Autoscaling; resources: Resources }][] = [
    ...(['distributor', 'querier', 'queryFrontend'] as const).map(
      (name) =>
        [['spec', 'components', name], spec.components[name]] as [string[], (typeof spec.components)[typeof name]],
    ),
    ...(spec.gateway.enabled ? [[['spec', 'gateway'], spec.gateway] as [string[], typeof spec.gateway]] : []),
  ];
  return parts.filter((part): part is [string[], { autoscaling: Autoscaling; resources: Resources }] =>
    Boolean(part[1].autoscaling?.enabled),
  );
}

function checkAutoscaling(
  { autoscaling, resources }: { autoscaling: Autoscaling; resources: Resources },
  path: string[],
  scraped: boolean,
  issue: (path: string[], message: string) => void,
): void {
  const at = [...path, 'autoscaling'];
  if (autoscaling.min > autoscaling.max)
    issue([...at, 'min'], `must be ≤ autoscaling.max (${autoscaling.max}): raise max or lower min`);
  const onInflight = path.at(-1) === 'querier' && autoscaling.mode === 'keda';
  if (autoscaling.keda && !onInflight)
    issue(
      [...at, 'keda'],
      'only for the querier with mode: keda (the others scale on CPU, which needs no Prometheus): remove the keda block',
    );
  if (onInflight && !autoscaling.keda)
    issue(
      [...at, 'keda'],
      'required for the querier with mode: keda: set keda.prometheusAddress to the Prometheus that scrapes this stack',
    );
  if (onInflight && !scraped)
    issue(
      ['spec', 'monitoring', 'enabled'],
      `required by ${at.join('.')}.mode: keda: the trigger's query selects the scheduler's series by the loki_stack label that the stack's scrape config adds; set it to true and let that Prometheus scrape the stack`,
    );
  // KEDA's trigger for the others is CPU too; both compare usage with the request.
  if (!onInflight && !resources.requests?.cpu)
    issue(
      [...path, 'resources', 'requests', 'cpu'],
      `required when autoscaling on CPU: utilization is a share of the request; set ${path.join('.')}.resources.requests.cpu`,
    );
}

function checkLimitsCoverRequests(
  resources: Resources,
  path: string[],
  issue: (path: string[], message: string) => void,
): void {
  for (const resource of ['cpu', 'memory'] as const) {
    const request = resources.requests?.[resource];
    const limit = resources.limits?.[resource];
    if (request && limit && parseQuantity(limit) < parseQuantity(request)) {
      issue(
        [...path, 'limits', resource],
        `must be ≥ requests.${resource} (${request}); Kubernetes rejects a limit below the request`,
      );
    }
  }
}

/** Loki's ingester chunk target size (`ingester.chunk_target_size`): a flushed chunk is about this big. */
export const CHUNK_TARGET_SIZE_BYTES = 1_572_864;

type Caches = z.output<typeof caches>;

function checkCaches(given: Caches, issue: (path: string[], message: string) => void): void {
  const path = (...keys: string[]) => ['spec', 'caches', ...keys];
  const sizeFields = ['chunks', 'results', 'image'] as const;
  if (given.type === 'external') {
    if (!given.external)
      issue(path('external'), 'required when caches.type is external: set spec.caches.external.chunks and .results');
    for (const field of sizeFields)
      if (given[field] !== undefined)
        issue(
          path(field),
          `only used when caches.type is memcached (it is external, nothing is rendered): remove spec.caches.${field}`,
        );
    return;
  }
  if (given.external)
    issue(
      path('external'),
      `only used when caches.type is external (it is ${given.type}): remove this block or set spec.caches.type: external`,
    );
  if (given.type === 'embedded') {
    for (const field of sizeFields)
      if (given[field] !== undefined)
        issue(
          path(field),
          `only used when caches.type is memcached (it is embedded): remove spec.caches.${field} or set spec.caches.type: memcached`,
        );
    return;
  }
  for (const cache of ['chunks', 'results'] as const)
    if (!given[cache])
      issue(path(cache), `required when caches.type is memcached: set spec.caches.${cache}.replicas and .memory`);
  const chunks = given.chunks;
  if (!chunks) return;
  const itemBytes = parseQuantity(chunks.maxItemSize);
  const minimum = 2 * CHUNK_TARGET_SIZE_BYTES;
  if (itemBytes < minimum)
    issue(
      path('chunks', 'maxItemSize'),
      `must be at least ${minimum / 2 ** 20}Mi, twice the ingester chunk target size (${CHUNK_TARGET_SIZE_BYTES} bytes), or memcached refuses chunks as "object too large": set it to 4Mi`,
    );
  else if (itemBytes > parseQuantity(chunks.memory) / 8)
    issue(
      path('chunks', 'maxItemSize'),
      `must be at most spec.caches.chunks.memory/8 (${chunks.memory}/8): memcached needs room for several slabs of each size; raise memory to at least ${Math.ceil((itemBytes * 8) / 2 ** 20)}Mi or lower maxItemSize`,
    );
}
