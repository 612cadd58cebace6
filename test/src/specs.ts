// Spec inputs that together cover every profile, every storage type and credential style, and the
// options that change the rendered shape. Tests and benchmarks render all of them.
import { parseSpec, SpecError, type LokiStackInput, type ProfileName, type SpecIssue } from 'loki-microservices';

type StorageInput = NonNullable<LokiStackInput['spec']>['storage'];

export const STORAGE_VARIANTS: Record<string, StorageInput> = {
  bundled: { type: 'bundled' },
  'bundled-own-secret': {
    type: 'bundled',
    bundled: { secretName: 'my-store-credentials', bucket: 'logs', size: '20Gi', storageClassName: 'standard' },
  },
  s3: { type: 's3', s3: { bucket: 'acme-loki', region: 'eu-west-1', secretName: 'loki-s3' } },
  's3-irsa': { type: 's3', s3: { bucket: 'acme-loki', region: 'us-east-1' } },
  's3-compatible': {
    type: 's3',
    s3: {
      bucket: 'loki',
      endpoint: 'http://minio.storage.svc:9000',
      forcePathStyle: true,
      secretName: 'minio-credentials',
    },
  },
  gcs: { type: 'gcs', gcs: { bucket: 'acme-loki', secretName: 'loki-gcs' } },
  'gcs-workload-identity': { type: 'gcs', gcs: { bucket: 'acme-loki' } },
  azure: { type: 'azure', azure: { accountName: 'acmeloki', container: 'loki', secretName: 'loki-azure' } },
  'azure-workload-identity': {
    type: 'azure',
    azure: {
      accountName: 'acmeloki',
      container: 'loki',
      useFederatedToken: true,
      endpointSuffix: 'blob.core.usgovcloudapi.net',
    },
  },
};

/** A rule group with a recording and an alerting rule (a Prometheus template in its annotation), LogQL that parses. */
export const SHOP_RULES = {
  name: 'shop',
  interval: '1m',
  rules: [
    { record: 'shop:errors:rate5m', expr: 'sum by (app) (rate({app="shop"} |= "error" [5m]))' },
    {
      alert: 'ShopErrors',
      expr: 'sum(rate({app="shop"} |= "error" [5m])) / sum(rate({app="shop"}[5m])) > 0.05',
      for: '10m',
      labels: { severity: 'page' },
      annotations: { summary: '{{ $labels.app }} logs {{ $value }} errors/s' },
    },
  ],
};

const PROFILE_NAMES: ProfileName[] = ['demo', 'small', 'production'];

/** Every per-tenant override field and per-stream retention, for the checks of the runtime configuration. */
export const EVERY_OVERRIDE: LokiStackInput = {
  spec: {
    auth: { enabled: true, tenant: 'team-a' },
    gateway: { enabled: true, tenants: ['team-a', 'team-b'] },
    retention: '744h',
    retentionStreams: [{ selector: '{namespace="dev"}', priority: 1, period: '24h' }],
    overrides: {
      'team-a': {
        ingestionRateMB: 16,
        ingestionBurstSizeMB: 32,
        maxGlobalStreamsPerUser: 20000,
        maxQuerySeries: 1000,
        maxQueryParallelism: 64,
        maxEntriesLimitPerQuery: 10000,
        queryTimeout: '5m',
        rejectOldSamplesMaxAge: '336h',
        retention: '2160h',
        retentionStreams: [
          { selector: '{namespace="prod", level="debug"}', priority: 2, period: '48h' },
          { selector: '{app=~"audit.*"}', period: '8760h' },
        ],
        otlp: {
          resourceAttributes: {
            ignoreDefaults: true,
            attributesConfig: [
              { action: 'index_label', attributes: ['service.name', 'k8s.namespace.name'] },
              { action: 'drop', regex: 'process\\..*' },
            ],
          },
          scopeAttributes: [{ action: 'drop', attributes: ['telemetry.sdk.version'] }],
          logAttributes: [{ action: 'structured_metadata', regex: 'http\\..*' }],
        },
      },
      'team-b': { retention: '0', queryTimeout: '2m' },
    },
  },
};

/** Options beyond profile and storage, each of which changes some rendered object. */
const OPTIONS: Record<string, LokiStackInput> = {
  'all-options': {
    metadata: {
      name: 'logs',
      namespace: 'observability',
      labels: { 'backstage.io/kubernetes-id': 'logs', team: 'platform' },
    },
    spec: {
      profile: 'small',
      version: '3.6.2',
      image: 'registry.example.com/mirror/grafana/loki',
      imagePullPolicy: 'Always',
      imagePullSecrets: ['registry-credentials'],
      clusterDomain: 'k8s.example.internal',
      retention: '720h',
      auth: { enabled: true, tenant: 'team-a' },
      limits: { ingestionRateMB: 16, ingestionBurstSizeMB: 32, maxQuerySeries: 2000, queryTimeout: '2m' },
      scheduling: { antiAffinity: 'hard', zoneSpread: true },
      serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/loki' } },
      storage: { type: 'bundled', bundled: { image: 'registry.example.com/mirror/rustfs/rustfs:1.0.0' } },
      components: {
        ingester: {
          replicas: 5,
          storage: { size: '20Gi', storageClassName: 'fast-ssd' },
          nodeSelector: { 'node-role/logs': 'true' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'logs', effect: 'NoSchedule' }],
        },
        querier: { replicas: 4, resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '3Gi' } } },
        ruler: { alertmanagerUrl: 'http://alertmanager.monitoring.svc:9093' },
      },
    },
  },
  'ruler-disabled': { spec: { components: { ruler: { enabled: false } } } },
  'autoscaling-hpa': {
    spec: {
      profile: 'small',
      gateway: { enabled: true, autoscaling: { enabled: true, min: 2, max: 6 } },
      components: {
        distributor: { autoscaling: { enabled: true, min: 2, max: 10, targetCPU: 70 } },
        queryFrontend: { autoscaling: { enabled: true, max: 4 } },
      },
    },
  },
  'autoscaling-keda': {
    spec: {
      monitoring: { enabled: true },
      components: {
        querier: {
          maxConcurrent: 8,
          autoscaling: {
            enabled: true,
            min: 2,
            max: 20,
            mode: 'keda',
            keda: { prometheusAddress: 'http://prometheus.monitoring.svc:9090' },
          },
        },
        distributor: { autoscaling: { enabled: true, max: 5, mode: 'keda' } },
      },
    },
  },
  overrides: EVERY_OVERRIDE,
  'network-policy': {
    spec: {
      profile: 'small',
      networkPolicy: {
        enabled: true,
        allowFrom: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'promtail' } } },
          { podSelector: { matchLabels: { app: 'grafana' } } },
        ],
        allowMetricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      },
      components: { ruler: { alertmanagerUrl: 'http://alertmanager.monitoring.svc:9093' } },
    },
  },
  'network-policy-s3-compatible': {
    spec: {
      networkPolicy: { enabled: true },
      storage: {
        type: 's3',
        s3: {
          bucket: 'loki',
          endpoint: 'http://minio.storage.svc:9000',
          forcePathStyle: true,
          secretName: 'minio-credentials',
        },
      },
    },
  },
  'no-anti-affinity': { spec: { scheduling: { antiAffinity: 'none', zoneSpread: false } } },
  gateway: {
    spec: {
      profile: 'small',
      auth: { enabled: true, tenant: 'team-a' },
      gateway: { enabled: true, tenants: ['team-a', 'team-b'] },
    },
  },
  'network-policy-gateway': {
    spec: {
      gateway: { enabled: true, passwordsSecret: 'gateway-passwords' },
      networkPolicy: {
        enabled: true,
        allowFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'promtail' } } }],
      },
    },
  },
  // Exposed through both an Ingress and an HTTPRoute, the ingress controller's namespace let through to the gateway.
  'network-policy-gateway-exposed': {
    spec: {
      gateway: {
        enabled: true,
        expose: {
          ingress: {
            className: 'nginx',
            host: 'loki.example.com',
            tls: { secretName: 'loki-example-tls' },
            annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '16m' },
          },
          httpRoute: {
            parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
            hostnames: ['loki.example.com'],
          },
          controllerNamespace: 'ingress-nginx',
        },
      },
      networkPolicy: {
        enabled: true,
        allowFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'promtail' } } }],
      },
    },
  },
  'gateway-exposed-cert-manager': {
    spec: {
      gateway: {
        enabled: true,
        expose: {
          ingress: { host: 'logs.example.org', tls: { issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' } } },
        },
      },
    },
  },
  'tls-generated': { spec: { profile: 'small', tls: { enabled: true }, components: { ruler: { enabled: true } } } },
  'tls-cert-manager': {
    metadata: { name: 'logs', namespace: 'observability' },
    spec: { clusterDomain: 'k8s.example.internal', tls: { enabled: true, provider: 'cert-manager', validity: '720h' } },
  },
  'tls-cert-manager-issuer': {
    spec: {
      tls: { enabled: true, provider: 'cert-manager', issuerRef: { name: 'corporate-ca', kind: 'ClusterIssuer' } },
    },
  },
  'monitoring-operator': {
    spec: { monitoring: { enabled: true, prometheusOperator: true, labels: { release: 'kube-prometheus-stack' } } },
  },
  // Rule files as the CLI reads them (loadedFiles), inline groups, a tenant that is no object name, remote write.
  'network-policy-rules': {
    spec: {
      profile: 'small',
      auth: { enabled: true, tenant: 'team-a' },
      networkPolicy: { enabled: true },
      components: { ruler: { alertmanagerUrl: 'http://alertmanager.monitoring.svc:9093' } },
      rules: {
        loadedFiles: [
          {
            file: 'rules/shop.yaml',
            tenant: 'team-b',
            groups: [SHOP_RULES],
          },
          {
            file: 'rules/team-a.yaml',
            groups: [{ name: 'a-files', rules: [{ alert: 'A', expr: 'count_over_time({job="a"}[5m]) > 0' }] }],
          },
        ],
        inline: {
          'team-a': [{ name: 'a-inline', rules: [{ alert: 'Quiet', expr: 'absent_over_time({job="a"}[15m])' }] }],
          'Ops.Team(*)': [
            { name: 'ops', rules: [{ record: 'ops:lines', expr: 'sum(count_over_time({job="ops"}[1m]))' }] },
          ],
        },
        remoteWrite: {
          url: 'https://prometheus.example.com:9443/api/v1/write',
          headers: {
            Authorization: { secretName: 'remote-write', key: 'authorization' },
            'X-Scope-OrgID': { secretName: 'remote-write', key: 'org' },
          },
        },
      },
    },
  },
  'network-policy-caches-memcached': {
    spec: {
      caches: { type: 'memcached', chunks: { memory: '256Mi', maxItemSize: '8Mi' }, results: { replicas: 2 } },
      monitoring: { enabled: true },
      networkPolicy: {
        enabled: true,
        allowMetricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      },
    },
  },
  'network-policy-caches-external': {
    spec: {
      caches: {
        type: 'external',
        external: {
          chunks: 'dnssrvnoa+_memcache._tcp.chunks-cache.example.internal',
          results: 'memcached-0.caches:11311,memcached-1.caches:11311',
        },
      },
      networkPolicy: { enabled: true },
    },
  },
  // Discovery beside declared rules: the sidecar, its token, its Roles in two other namespaces, API egress.
  'network-policy-rules-discovery': {
    metadata: { namespace: 'logs' },
    spec: {
      auth: { enabled: true, tenant: 'team-a' },
      networkPolicy: { enabled: true },
      rules: {
        inline: {
          'team-a': [{ name: 'a-inline', rules: [{ alert: 'Quiet', expr: 'absent_over_time({job="a"}[15m])' }] }],
        },
        discovery: {
          enabled: true,
          labelSelector: { 'example.com/loki-rules': 'yes' },
          namespaces: ['team-a', 'team-b'],
        },
      },
    },
  },
  // Zone-aware ingesters pinned to labelled nodes: a StatefulSet and headless Service per zone, with TLS names
  // for each zone's pods, isolation, and sync waves that keep the zones apart.
  'network-policy-zone-aware': {
    spec: {
      profile: 'production',
      storage: STORAGE_VARIANTS['s3-compatible'],
      replicationFactor: 3,
      zoneAwareness: { enabled: true, zones: ['a', 'b', 'c'], placement: 'physical' },
      components: { ingester: { replicas: 2 } },
      tls: { enabled: true },
      networkPolicy: { enabled: true },
      gitops: { syncWaves: true },
    },
  },
  'everything-on': {
    spec: {
      profile: 'small',
      caches: { type: 'memcached' },
      auth: { enabled: true },
      gateway: { enabled: true },
      tls: { enabled: true },
      monitoring: { enabled: true, prometheusOperator: true },
      networkPolicy: {
        enabled: true,
        allowMetricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      },
    },
  },
};

export interface NamedSpec {
  name: string;
  input: LokiStackInput;
}

export function specMatrix(): NamedSpec[] {
  const specs: NamedSpec[] = [];
  for (const profile of PROFILE_NAMES) {
    for (const [storageName, storage] of Object.entries(STORAGE_VARIANTS)) {
      specs.push({ name: `${profile}/${storageName}`, input: { spec: { profile, storage } } });
    }
  }
  for (const [name, input] of Object.entries(OPTIONS)) specs.push({ name, input });
  return specs;
}

/** The problems parseSpec finds in `input`, none when it is valid. */
export function issuesOf(input: LokiStackInput): SpecIssue[] {
  try {
    parseSpec(input);
  } catch (error) {
    if (error instanceof SpecError) return error.issues;
    throw error;
  }
  return [];
}
