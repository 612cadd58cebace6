// Loki refuses to start on an unknown configuration key. Every key we render must be in Loki's own
// configuration reference (fixtures/loki-3.7-config-keys.json, v3.7.6), and in every older minor we accept
// in spec.version (per-minor history in the same file).
import { readFileSync } from 'node:fs';
import { SUPPORTED_LOKI_MINORS, type LokiStack } from 'loki-microservices';
import { LOKI_KEYS_LACKING, LOKI_OPEN_PATHS, lokiConfig, runtimeConfig } from 'loki-microservices/testing';
import { keyPaths, keysLackingByMinor, keysMissingInSupportedMinors, unknownKeys } from '../src/loki-keys.js';
import { render } from '../src/objects.js';
import { EVERY_OVERRIDE, specMatrix } from '../src/specs.js';

const configOf = (stack: LokiStack) => lokiConfig(stack);

describe.each(specMatrix())('$name', ({ input }) => {
  const config = configOf(render(input).stack);

  test('every key is a Loki 3.7 configuration key', () => {
    expect(keyPaths(config).length).toBeGreaterThan(60);
    expect(unknownKeys(config)).toEqual([]);
  });

  test(`every key exists in Loki 3.${SUPPORTED_LOKI_MINORS.min} to 3.${SUPPORTED_LOKI_MINORS.max}`, () => {
    expect(keysMissingInSupportedMinors(config)).toEqual([]);
  });

  test('tsdb with schema v13 on the object store, index and chunks alike', () => {
    const { schema_config, storage_config, common } = config as {
      schema_config: { configs: { store: string; schema: string; object_store: string; from: string }[] };
      storage_config: Record<string, unknown>;
      common: { storage: Record<string, unknown> };
    };
    expect(schema_config.configs).toHaveLength(1);
    const [period] = schema_config.configs;
    expect(period).toMatchObject({ store: 'tsdb', schema: 'v13' });
    expect(period!.from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.keys(common.storage)).toEqual([period!.object_store]);
    expect(Object.keys(storage_config)).not.toContain('filesystem');
    expect(Object.keys(storage_config)).not.toContain('boltdb_shipper');
  });
});

test('the key lists the core ships for the pre-flight of an upgrade are those of this reference', () => {
  expect(LOKI_KEYS_LACKING).toEqual(keysLackingByMinor());
  expect(Object.keys(LOKI_KEYS_LACKING)).toEqual(
    Array.from(
      { length: SUPPORTED_LOKI_MINORS.max - SUPPORTED_LOKI_MINORS.min + 1 },
      (_, i) => `3.${SUPPORTED_LOKI_MINORS.min + i}`,
    ),
  );
  expect(LOKI_KEYS_LACKING['3.4']).toContain('compactor.delete_request_store_db_type');
  expect([...LOKI_OPEN_PATHS].sort()).toEqual(
    (
      JSON.parse(readFileSync(new URL('../fixtures/loki-3.7-config-keys.json', import.meta.url), 'utf8')) as {
        open_paths: string[];
      }
    ).open_paths.sort(),
  );
});

test('keys that Loki 3 removed are reported', () => {
  const config = { ...configOf(render({}).stack) } as Record<string, Record<string, unknown>>;
  config.ingester = { ...config.ingester, max_transfer_retries: 0 };
  config.chunk_store_config = { ...config.chunk_store_config, max_look_back_period: '0s' };
  config.limits_config = { ...config.limits_config, enforce_metric_name: false };
  config.storage_config = { ...config.storage_config, boltdb_shipper: { shared_store: 's3' } };
  config.common = { ...config.common, instance_availability_zone: 'a' };
  expect(unknownKeys(config).sort()).toEqual([
    'chunk_store_config.max_look_back_period',
    'common.instance_availability_zone',
    'ingester.max_transfer_retries',
    'limits_config.enforce_metric_name',
    'storage_config.boltdb_shipper.shared_store',
  ]);
});

test('keys newer than the oldest supported minor are reported', () => {
  const config = { compactor: { delete_request_store_db_type: 'sqlite' } };
  expect(keysMissingInSupportedMinors(config)).toEqual(['compactor.delete_request_store_db_type (missing in 3.4)']);
});

describe('the runtime configuration (spec.overrides)', () => {
  const { stack } = render(EVERY_OVERRIDE);
  // Loki reads each tenant's entry as a limits_config block.
  const tenants = Object.entries(runtimeConfig(stack).overrides).map(([tenant, limits]) => ({
    tenant,
    config: { limits_config: limits },
  }));

  test('has an entry for every tenant of spec.overrides, and the main config points at its file', () => {
    expect(tenants.map(({ tenant }) => tenant)).toEqual(['team-a', 'team-b']);
    expect(configOf(stack).runtime_config).toEqual({ file: '/etc/loki/runtime/runtime.yaml', period: '10s' });
  });

  test('every per-tenant key is a limits_config key of Loki 3.7 and of every supported minor', () => {
    const paths = tenants.flatMap(({ config }) => keyPaths(config));
    // Every override field is rendered: the limits, retention, per-stream retention and the OTLP mapping.
    expect(paths).toEqual(
      expect.arrayContaining([
        'limits_config.ingestion_rate_mb',
        'limits_config.reject_old_samples_max_age',
        'limits_config.retention_period',
        'limits_config.retention_stream[].selector',
        'limits_config.retention_stream[].priority',
        'limits_config.retention_stream[].period',
        'limits_config.otlp_config.resource_attributes.ignore_defaults',
        'limits_config.otlp_config.resource_attributes.attributes_config[].action',
        'limits_config.otlp_config.resource_attributes.attributes_config[].attributes',
        'limits_config.otlp_config.resource_attributes.attributes_config[].regex',
        'limits_config.otlp_config.scope_attributes[].attributes',
        'limits_config.otlp_config.log_attributes[].regex',
      ]),
    );
    for (const { config } of tenants) {
      expect(unknownKeys(config)).toEqual([]);
      expect(keysMissingInSupportedMinors(config)).toEqual([]);
    }
  });

  test('spec.retentionStreams is limits_config.retention_stream of the main config', () => {
    const limits = configOf(stack).limits_config as Record<string, unknown>;
    expect(limits.retention_stream).toEqual([{ selector: '{namespace="dev"}', priority: 1, period: '24h' }]);
    expect(unknownKeys(configOf(stack))).toEqual([]);
  });
});

test('a boltdb-shipper period (an adopted bucket) renders only known keys, in every supported minor', () => {
  const { stack } = render({
    spec: {
      tls: { enabled: true },
      schemas: [
        { from: '2020-01-01', store: 'boltdb-shipper', version: 'v11' },
        { from: '2024-04-01', store: 'tsdb', version: 'v13' },
      ],
    },
  });
  const config = configOf(stack) as { storage_config: Record<string, unknown> };
  expect(Object.keys(config.storage_config)).toContain('boltdb_shipper');
  expect(keyPaths(config)).toContain(
    'storage_config.boltdb_shipper.index_gateway_client.grpc_client_config.tls_enabled',
  );
  expect(unknownKeys(config)).toEqual([]);
  expect(keysMissingInSupportedMinors(config)).toEqual([]);
});
