import { lokiConfig } from '../../src/kubernetes/render/loki-config.js';
import { generatedSecrets } from '../../src/kubernetes/render/generated-secrets.js';
import { parseSpec } from '../../src/spec/parse.js';
import type { LokiStackInput } from '../../src/spec/schema.js';

type Config = Record<string, Record<string, unknown>>;
const config = (input: LokiStackInput) => lokiConfig(parseSpec(input)) as Config;
const s3 = (s3: Record<string, unknown>) => ({
  spec: { storage: { type: 's3' as const, s3: { bucket: 'acme-loki', ...s3 } } },
});

test('the compactor always runs retention and deletes; only a retention period makes logs expire', () => {
  const forever = config({});
  expect(forever.compactor).toEqual({
    working_directory: '/var/loki/compactor',
    compaction_interval: '10m',
    retention_enabled: true,
    retention_delete_delay: '2h',
    delete_request_store: 's3',
  });
  expect(forever.limits_config!.retention_period).toBeUndefined();
  expect(config({ spec: { retention: '30d' } }).limits_config!.retention_period).toBe('30d');
  expect(
    config({ spec: { storage: { type: 'gcs', gcs: { bucket: 'acme-loki' } } } }).compactor!.delete_request_store,
  ).toBe('gcs');
});

test('S3 endpoints: the scheme decides TLS, no endpoint means AWS, no Secret means the default credential chain', () => {
  expect(config(s3({ endpoint: 'http://minio.storage:9000', secretName: 'c' })).common!.storage).toEqual({
    s3: {
      bucketnames: 'acme-loki',
      endpoint: 'minio.storage:9000',
      insecure: true,
      s3forcepathstyle: false,
      access_key_id: '${LOKI_S3_ACCESS_KEY_ID:-}',
      secret_access_key: '${LOKI_S3_SECRET_ACCESS_KEY:-}',
    },
  });
  expect(config(s3({ endpoint: 'https://s3.example.com/' })).common!.storage).toEqual({
    s3: { bucketnames: 'acme-loki', endpoint: 's3.example.com', insecure: false, s3forcepathstyle: false },
  });
  expect(config(s3({ region: 'eu-west-1' })).common!.storage).toEqual({
    s3: { bucketnames: 'acme-loki', region: 'eu-west-1', s3forcepathstyle: false },
  });
});

test('GCS and Azure use their own blocks and the matching object_store name', () => {
  const gcs = config({ spec: { storage: { type: 'gcs', gcs: { bucket: 'acme-loki' } } } });
  expect(gcs.common!.storage).toEqual({ gcs: { bucket_name: 'acme-loki' } });
  expect((gcs.schema_config!.configs as { object_store: string }[])[0]!.object_store).toBe('gcs');
  const azure = config({
    spec: { storage: { type: 'azure', azure: { accountName: 'acme', container: 'loki', useFederatedToken: true } } },
  });
  expect(azure.common!.storage).toEqual({
    azure: { account_name: 'acme', container_name: 'loki', use_federated_token: true },
  });
  const azureKey = config({
    spec: { storage: { type: 'azure', azure: { accountName: 'acme', container: 'loki', secretName: 'k' } } },
  });
  expect(azureKey.common!.storage).toEqual({
    azure: { account_name: 'acme', container_name: 'loki', account_key: '${LOKI_AZURE_ACCOUNT_KEY:-}' },
  });
});

test('multi-tenancy, ruler and Alertmanager', () => {
  expect(config({ spec: { auth: { enabled: true } } }).auth_enabled).toBe(true);
  expect(config({}).ruler).toEqual({
    enable_api: true,
    enable_sharding: true,
    rule_path: '/var/loki/rules-temp',
    wal: { dir: '/var/loki/ruler-wal' },
  });
  expect(
    config({ spec: { components: { ruler: { alertmanagerUrl: 'http://am:9093' } } } }).ruler!.alertmanager_url,
  ).toBe('http://am:9093');
  expect(config({ spec: { components: { ruler: { enabled: false } } } }).ruler).toBeUndefined();
});

test('the pattern ingester: enabled for every target (distributors tee to it, queriers ask it) only when it runs', () => {
  expect(config({}).pattern_ingester).toBeUndefined();
  expect(config({ spec: { profile: 'small' } }).pattern_ingester).toEqual({
    enabled: true,
    lifecycler: { min_ready_duration: '15s' },
  });
  expect(config({ spec: { components: { patternIngester: { enabled: true } } } }).pattern_ingester).toEqual({
    enabled: true,
    lifecycler: { min_ready_duration: '1s' },
  });
  expect(
    config({ spec: { profile: 'small', components: { patternIngester: { enabled: false } } } }).pattern_ingester,
  ).toBeUndefined();
});

test('WAL replay is bounded by half the ingester memory limit', () => {
  expect((config({}).ingester!.wal as Record<string, unknown>).replay_memory_ceiling).toBe('536MB');
  const unlimited = config({ spec: { components: { ingester: { resources: { limits: { memory: null } } } } } });
  expect((unlimited.ingester!.wal as Record<string, unknown>).replay_memory_ceiling).toBeUndefined();
});

test('apply generates credentials only for the bundled store without a named Secret', () => {
  expect(generatedSecrets(parseSpec({})).map((s) => [s.name, s.keys])).toEqual([
    ['loki-object-store', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']],
  ]);
  expect(
    generatedSecrets(parseSpec({ spec: { storage: { type: 'bundled', bundled: { secretName: 'mine' } } } })),
  ).toEqual([]);
  expect(generatedSecrets(parseSpec(s3({ region: 'eu-west-1' })))).toEqual([]);
});

test('apply generates the gateway passwords, one per tenant and the admin, unless the spec names a Secret', () => {
  const gateway = (extra: Record<string, unknown>) =>
    parseSpec({ spec: { ...s3({ region: 'eu-west-1' }).spec, gateway: { enabled: true, ...extra } } });
  expect(generatedSecrets(gateway({})).map((s) => [s.name, s.keys])).toEqual([
    ['loki-gateway-passwords', ['default', 'admin']],
  ]);
  expect(generatedSecrets(gateway({ tenants: ['a', 'b'], adminUser: 'ops' })).map((s) => s.keys)).toEqual([
    ['a', 'b', 'ops'],
  ]);
  expect(generatedSecrets(gateway({ passwordsSecret: 'mine' }))).toEqual([]);
});
