// Bad input is refused with exit code 2 before anything is rendered, and the message names the field.
import { runCli } from './helpers.js';

interface BadInput {
  what: string;
  /** Spec file content (YAML); omitted when the case is in the arguments only. */
  spec?: string;
  args?: string[];
  /** Field path the message must name, and words it must contain. */
  path: string;
  says?: RegExp;
}

const CASES: BadInput[] = [
  { what: 'uppercase name', spec: 'metadata: { name: Loki }', path: 'metadata.name', says: /DNS-1123/ },
  {
    what: 'name too long for derived names',
    spec: `metadata: { name: ${'a'.repeat(39)} }`,
    path: 'metadata.name',
    says: /at most 38/,
  },
  {
    what: 'name too long for the pattern ingester StatefulSet',
    spec: `metadata: { name: ${'a'.repeat(36)} }\nspec: { profile: small }`,
    path: 'metadata.name',
    says: /at most 35 characters with the pattern-ingester.*patternIngester\.enabled: false/,
  },
  { what: 'name ending in a dash', spec: 'metadata: { name: loki- }', path: 'metadata.name' },
  { what: 'namespace with underscore', spec: 'metadata: { namespace: my_ns }', path: 'metadata.namespace' },
  {
    what: 'invalid label key',
    spec: 'metadata: { labels: { "bad key": x } }',
    path: 'metadata.labels.bad key',
    says: /label key/,
  },
  { what: 'wrong apiVersion', spec: 'apiVersion: v1', path: 'apiVersion', says: /loki-microservices\/v1alpha1/ },
  { what: 'wrong kind', spec: 'kind: Deployment', path: 'kind', says: /LokiMicroservices/ },
  { what: 'unknown top-level field', spec: 'specs: {}', path: 'specs', says: /did you mean "spec"/ },
  { what: 'spec is a list', spec: 'spec: [a, b]', path: 'spec', says: /mapping/ },
  {
    what: 'unknown profile',
    spec: 'spec: { profile: large }',
    path: 'spec.profile',
    says: /"demo", "small", "production"/,
  },
  { what: 'misspelled profile', spec: 'spec: { profile: smal }', path: 'spec.profile', says: /did you mean "small"/ },
  { what: 'version latest', spec: 'spec: { version: latest }', path: 'spec.version', says: /pinned patch/ },
  { what: 'Loki 2.x', spec: 'spec: { version: "2.9.10" }', path: 'spec.version', says: /3\.x/ },
  { what: 'unverified Loki minor', spec: 'spec: { version: "3.2.0" }', path: 'spec.version', says: /3\.4 to 3\.7/ },
  { what: 'image with a tag', spec: 'spec: { image: "grafana/loki:3.7.8" }', path: 'spec.image', says: /without tag/ },
  { what: 'replication factor 0', spec: 'spec: { replicationFactor: 0 }', path: 'spec.replicationFactor', says: /≥ 1/ },
  {
    what: 'fewer ingesters than replication factor',
    spec: 'spec: { profile: small, components: { ingester: { replicas: 2 } } }',
    path: 'spec.components.ingester.replicas',
    says: /≥ replicationFactor \(3\)/,
  },
  {
    what: 'replicas as a word',
    spec: 'spec: { components: { querier: { replicas: three } } }',
    path: 'spec.components.querier.replicas',
    says: /must be a number/,
  },
  {
    what: 'fractional replicas',
    spec: 'spec: { components: { distributor: { replicas: 1.5 } } }',
    path: 'spec.components.distributor.replicas',
    says: /integer/,
  },
  {
    what: 'two compactors',
    spec: 'spec: { components: { compactor: { replicas: 2 } } }',
    path: 'spec.components.compactor.replicas',
    says: /singleton/,
  },
  {
    what: 'unknown component',
    spec: 'spec: { components: { gateway: { replicas: 1 } } }',
    path: 'spec.components.gateway',
    says: /unknown field/,
  },
  {
    what: 'misspelled component field',
    spec: 'spec: { components: { ingester: { replica: 3 } } }',
    path: 'spec.components.ingester.replica',
    says: /did you mean "replicas"/,
  },
  {
    what: 'volume on a stateless component',
    spec: 'spec: { components: { distributor: { storage: { size: 1Gi } } } }',
    path: 'spec.components.distributor.storage',
    says: /unknown field/,
  },
  {
    what: 'memory not a quantity',
    spec: 'spec: { components: { ingester: { resources: { requests: { memory: lots } } } } }',
    path: 'spec.components.ingester.resources.requests.memory',
    says: /quantity/,
  },
  {
    what: 'cpu with a unit word',
    spec: 'spec: { components: { querier: { resources: { requests: { cpu: "1 core" } } } } }',
    path: 'spec.components.querier.resources.requests.cpu',
    says: /quantity/,
  },
  {
    what: 'memory limit below request',
    spec: 'spec: { components: { ingester: { resources: { limits: { memory: 100Mi } } } } }',
    path: 'spec.components.ingester.resources.limits.memory',
    says: /≥ requests.memory/,
  },
  {
    what: 'volume size in GB',
    spec: 'spec: { components: { ingester: { storage: { size: 10GB } } } }',
    path: 'spec.components.ingester.storage.size',
    says: /quantity/,
  },
  {
    what: 'invalid toleration operator',
    spec: 'spec: { components: { ingester: { tolerations: [{ key: a, operator: Maybe }] } } }',
    path: 'spec.components.ingester.tolerations[0].operator',
    says: /"Exists", "Equal"/,
  },
  {
    what: 'invalid nodeSelector value',
    spec: 'spec: { components: { querier: { nodeSelector: { zone: "a b" } } } }',
    path: 'spec.components.querier.nodeSelector.zone',
    says: /label value/,
  },
  {
    what: 'alertmanager URL not a URL',
    spec: 'spec: { components: { ruler: { alertmanagerUrl: alertmanager } } }',
    path: 'spec.components.ruler.alertmanagerUrl',
    says: /URL/,
  },
  {
    what: 'filesystem storage',
    spec: 'spec: { storage: { type: filesystem } }',
    path: 'spec.storage.type',
    says: /cannot be shared/,
  },
  {
    what: 'minio storage type',
    spec: 'spec: { storage: { type: minio } }',
    path: 'spec.storage.type',
    says: /MinIO no longer publishes images/,
  },
  { what: 's3 without its block', spec: 'spec: { storage: { type: s3 } }', path: 'spec.storage.s3', says: /bucket/ },
  {
    what: 's3 without bucket',
    spec: 'spec: { storage: { type: s3, s3: { region: eu-west-1 } } }',
    path: 'spec.storage.s3.bucket',
    says: /required/,
  },
  {
    what: 's3 without region or endpoint',
    spec: 'spec: { storage: { type: s3, s3: { bucket: acme-loki } } }',
    path: 'spec.storage.s3.region',
    says: /endpoint/,
  },
  {
    what: 'invalid S3 bucket name',
    spec: 'spec: { storage: { type: s3, s3: { bucket: My_Bucket, region: eu-west-1 } } }',
    path: 'spec.storage.s3.bucket',
    says: /bucket name/,
  },
  {
    what: 'endpoint with an unknown scheme',
    spec: 'spec: { storage: { type: s3, s3: { bucket: acme-loki, endpoint: "ftp://store:21" } } }',
    path: 'spec.storage.s3.endpoint',
  },
  {
    what: 'block of another storage type',
    spec: `spec: { storage: { type: s3, s3: { bucket: acme-loki, region: eu-west-1 }, gcs: { bucket: x-y-z } } }`,
    path: 'spec.storage.gcs',
    says: /only used when storage.type is gcs/,
  },
  { what: 'gcs without bucket', spec: 'spec: { storage: { type: gcs } }', path: 'spec.storage.gcs', says: /bucket/ },
  {
    what: 'azure without credentials',
    spec: 'spec: { storage: { type: azure, azure: { accountName: acme, container: loki } } }',
    path: 'spec.storage.azure.secretName',
    says: /useFederatedToken/,
  },
  {
    what: 'invalid azure account',
    spec: 'spec: { storage: { type: azure, azure: { accountName: Acme-Store, container: loki, useFederatedToken: true } } }',
    path: 'spec.storage.azure.accountName',
  },
  {
    what: 'bundled image without tag',
    spec: 'spec: { storage: { type: bundled, bundled: { image: rustfs/rustfs } } }',
    path: 'spec.storage.bundled.image',
    says: /tag or digest/,
  },
  {
    what: 'production without storage choice',
    spec: 'spec: { profile: production }',
    path: 'spec.storage.type',
    says: /required for profile production/,
  },
  { what: 'retention not a duration', spec: 'spec: { retention: 7days }', path: 'spec.retention', says: /duration/ },
  { what: 'retention under a day', spec: 'spec: { retention: 12h }', path: 'spec.retention', says: /at least 24h/ },
  {
    what: 'negative ingestion rate',
    spec: 'spec: { limits: { ingestionRateMB: -1 } }',
    path: 'spec.limits.ingestionRateMB',
    says: /> 0/,
  },
  {
    what: 'query timeout not a duration',
    spec: 'spec: { limits: { queryTimeout: soon } }',
    path: 'spec.limits.queryTimeout',
    says: /duration/,
  },
  {
    what: 'tenant with a slash',
    spec: 'spec: { auth: { enabled: true, tenant: "a/b" } }',
    path: 'spec.auth.tenant',
    says: /tenant ID/,
  },
  {
    what: 'auth enabled as a string',
    spec: 'spec: { auth: { enabled: "yes" } }',
    path: 'spec.auth.enabled',
    says: /boolean/,
  },
  {
    what: 'unknown anti-affinity mode',
    spec: 'spec: { scheduling: { antiAffinity: strict } }',
    path: 'spec.scheduling.antiAffinity',
    says: /"none", "soft", "hard"/,
  },
  {
    what: 'invalid pull secret name',
    spec: 'spec: { imagePullSecrets: [Registry_Creds] }',
    path: 'spec.imagePullSecrets[0]',
    says: /Secret name: a DNS subdomain/,
  },
  { what: 'cluster domain with capitals', spec: 'spec: { clusterDomain: Cluster.Local }', path: 'spec.clusterDomain' },
  { what: 'invalid YAML', spec: 'spec: { profile: small', path: '(root)', says: /not valid YAML/ },
  {
    what: 'bad value through --set',
    args: ['--set', 'spec.components.ingester.replicas=zero'],
    path: 'spec.components.ingester.replicas',
  },
  {
    what: 'unknown field through --set',
    args: ['--set', 'spec.storage.s3.secretAccessKey=AKIAEXAMPLE'],
    path: 'spec.storage.s3.secretAccessKey',
  },
  { what: 'malformed --set', args: ['--set', 'spec.profile'], path: '--set #1', says: /path=value/ },
  {
    what: 'memcached cache below 64Mi',
    spec: 'spec: { caches: { type: memcached, results: { memory: 32Mi } } }',
    path: 'spec.caches.results.memory',
    says: /at least 64Mi/,
  },
  {
    what: 'chunks item size below two chunks',
    spec: 'spec: { caches: { type: memcached, chunks: { maxItemSize: 1Mi } } }',
    path: 'spec.caches.chunks.maxItemSize',
    says: /twice the ingester chunk target size .*set it to 4Mi/,
  },
  {
    what: 'chunks item size above an eighth of the memory',
    spec: 'spec: { caches: { type: memcached, chunks: { memory: 128Mi, maxItemSize: 32Mi } } }',
    path: 'spec.caches.chunks.maxItemSize',
    says: /at most spec\.caches\.chunks\.memory\/8 .*raise memory to at least 256Mi/,
  },
  {
    what: 'sizes with external caches',
    spec: 'spec: { caches: { type: external, external: { chunks: "m:11211", results: "m:11211" }, chunks: { replicas: 2, memory: 1Gi, maxItemSize: 4Mi } } }',
    path: 'spec.caches.chunks',
    says: /only used when caches.type is memcached \(it is external/,
  },
  {
    what: 'external caches without addresses',
    spec: 'spec: { caches: { type: external } }',
    path: 'spec.caches.external',
    says: /required when caches.type is external/,
  },
  {
    what: 'external cache address Loki would expand',
    spec: 'spec: { caches: { type: external, external: { chunks: "${MEMCACHED}:11211", results: "m:11211" } } }',
    path: 'spec.caches.external.chunks',
    says: /must not contain "\$"/,
  },
  {
    what: 'external cache address Nomad would run',
    spec: 'spec: { caches: { type: external, external: { chunks: "m:11211", results: "{{ key \\"x\\" }}" } } }',
    path: 'spec.caches.external.results',
    says: /must not contain "\{\{"/,
  },
  {
    what: 'external addresses with embedded caches',
    spec: 'spec: { caches: { type: embedded, external: { chunks: "m:11211", results: "m:11211" } } }',
    path: 'spec.caches.external',
    says: /only used when caches.type is external \(it is embedded\)/,
  },
  {
    what: 'memcached image without a tag',
    spec: 'spec: { caches: { type: memcached, image: memcached } }',
    path: 'spec.caches.image',
    says: /tag or digest/,
  },
];

test('the table covers at least 30 distinct fields', () => {
  expect(new Set(CASES.map((c) => c.path)).size).toBeGreaterThanOrEqual(30);
});

describe.each(CASES)('$what', ({ spec, args = [], path, says }) => {
  test(`exits 2 naming ${path}`, async () => {
    const fileArgs = spec === undefined ? [] : ['-f', 'spec.yaml'];
    const result = await runCli(['render', ...fileArgs, ...args], spec === undefined ? {} : { 'spec.yaml': spec });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const line = result.stderr.split('\n').find((l) => l.trimStart().startsWith(`${path}: `));
    expect({ stderr: result.stderr, line: line !== undefined }).toEqual({ stderr: result.stderr, line: true });
    if (says) expect(line).toMatch(says);
  });
});

test('every problem is reported at once, each with its path', async () => {
  const spec = `
metadata: { name: Loki }
spec:
  profile: small
  retention: forever
  components:
    ingester: { replicas: 2, replicaz: 3 }
  storage: { type: s3, s3: { bucket: acme-loki } }
`;
  const result = await runCli(['render', '-f', 'spec.yaml'], { 'spec.yaml': spec });
  expect(result.code).toBe(2);
  const paths = result.stderr
    .split('\n')
    .filter((l) => l.startsWith('  '))
    .map((l) => l.trim().split(': ')[0]);
  expect(paths.sort()).toEqual(
    [
      'metadata.name',
      'spec.retention',
      'spec.components.ingester.replicaz',
      'spec.components.ingester.replicas',
      'spec.storage.s3.region',
    ].sort(),
  );
  expect(result.stderr).toMatch(/5 problems/);
});

test('values of unknown fields are never echoed', async () => {
  const result = await runCli([
    'render',
    '--set',
    'spec.storage.s3.secretAccessKey=wJalrXUtnFEMI/K7MDENG',
    '--set',
    'wJalrXUtnFEMI-no-equals',
  ]);
  expect(result.code).toBe(2);
  expect(result.stderr).not.toContain('wJalrXUtnFEMI');
});

test('usage errors exit 2', async () => {
  expect((await runCli(['render', '--bogus'])).code).toBe(2);
  expect((await runCli(['render', 'extra-positional'])).code).toBe(2);
  expect((await runCli(['render', '-f', 'missing.yaml'])).stderr).toMatch(
    /cannot read spec file missing.yaml: no such file/,
  );
  expect((await runCli(['frobnicate'])).code).toBe(2);
  expect((await runCli([])).code).toBe(2);
});
