import { changedPaths, lokiWarnings } from '../../src/stack/plan-loki.js';
import { formatPlanMarkdown, formatPlanText, planSummary } from '../../src/stack/plan-format.js';
import type { StackPlan } from '../../src/stack/plan-model.js';

const base = {
  auth_enabled: false,
  common: {
    replication_factor: 1,
    storage: { s3: { bucketnames: 'chunks', endpoint: 'minio:9000', secret_access_key: 'x' } },
  },
  schema_config: { configs: [{ from: '2024-04-01', store: 'tsdb', schema: 'v13', object_store: 's3' }] },
  limits_config: { retention_period: '744h', ingestion_rate_mb: 4 },
  compactor: { retention_delete_delay: '2h' },
};
const side = (config: object, ingesters = 1) => ({
  config: structuredClone(config) as Record<string, unknown>,
  ingesters,
});

test('changedPaths names the leaves that differ, entering objects and lists', () => {
  expect(changedPaths({ a: { b: 1, c: [1, 2] } }, { a: { b: 2, c: [1, 3, 4] }, d: true })).toEqual([
    'a.b',
    'a.c[1]',
    'a.c[2]',
    'd',
  ]);
  expect(changedPaths(base, structuredClone(base))).toEqual([]);
});

test('an unchanged config warns of nothing', () => {
  expect(lokiWarnings(side(base), side(base))).toEqual([]);
});

test.each([
  [
    'SchemaChanged',
    {
      ...base,
      schema_config: { configs: [...base.schema_config.configs, { from: '2027-01-01', store: 'tsdb', schema: 'v13' }] },
    },
    /adds tsdb v13 from 2027-01-01/,
  ],
  ['ReplicationFactorChanged', { ...base, common: { ...base.common, replication_factor: 3 } }, /from 1 to 3/],
  [
    'StorageChanged',
    { ...base, common: { ...base.common, storage: { s3: { ...base.common.storage.s3, bucketnames: 'other' } } } },
    /common\.storage\.s3\.bucketnames\): existing data is not migrated/,
  ],
  [
    'RetentionShortened',
    { ...base, limits_config: { retention_period: '168h' } },
    /from 744h to 168h: data older than 168h is deleted after the compactor's delete delay \(2h\)/,
  ],
  ['AuthToggled', { ...base, auth_enabled: true }, /logs pushed so far belong to tenant "fake"/],
])('%s', (code, next, message) => {
  expect(lokiWarnings(side(base), side(next))).toEqual([{ code, message: expect.stringMatching(message) }]);
});

test('credentials changing is not a storage change, and is never shown', () => {
  const rotated = {
    ...base,
    common: { ...base.common, storage: { s3: { ...base.common.storage.s3, secret_access_key: 'y' } } },
  };
  expect(lokiWarnings(side(base), side(rotated))).toEqual([]);
});

test('retention: forever to a period shortens it; a longer one or forever does not', () => {
  const forever = { ...base, limits_config: {} };
  expect(lokiWarnings(side(forever), side(base)).map((w) => w.code)).toEqual(['RetentionShortened']);
  expect(lokiWarnings(side(base), side(forever))).toEqual([]);
  expect(lokiWarnings(side(base), side({ ...base, limits_config: { retention_period: '1000h' } }))).toEqual([]);
});

test('ingesters scaled below the replication factor: pushes fail', () => {
  const rf3 = { ...base, common: { ...base.common, replication_factor: 3 } };
  const [warning] = lokiWarnings(side(rf3, 3), side(rf3, 2));
  expect(warning).toEqual({
    code: 'IngestersScaledDown',
    message: expect.stringMatching(/from 3 to 2: .*fewer ingesters than the replication factor \(3\) pushes fail/),
  });
  expect(lokiWarnings(side(rf3, 3), side(rf3, 4))).toEqual([]);
});

const plan: StackPlan = {
  apiVersion: 'loki-microservices/v1alpha1',
  kind: 'StackPlan',
  name: 'loki',
  namespace: 'logs',
  target: 'kubernetes',
  hasChanges: true,
  changes: [
    { kind: 'ConfigMap', name: 'loki-config', impact: 'in-place', fields: ['data.config.yaml'] },
    { kind: 'StatefulSet', name: 'loki-ingester', impact: 'rolls', fields: ['a', 'b', 'c', 'd', 'e', 'f'] },
    { kind: 'PersistentVolumeClaim', name: 'loki-object-store', impact: 'keep', fields: [] },
  ],
  rolls: [{ component: 'ingester', workload: 'StatefulSet loki-ingester', pods: 3, reasons: ['config: a|b'] }],
  blockers: [],
  warnings: [{ code: 'AuthToggled', message: 'multi-tenancy turns on' }],
};

test('the plan as text and Markdown: summary, changes, rolls and warnings; pipes escaped in tables', () => {
  expect(planSummary(plan)).toBe('3 changes (1 kept (holds data), 1 in place, 1 rolls pods); 3 pods roll');
  const text = formatPlanText(plan);
  expect(text).toContain('stack logs/loki: 3 changes');
  expect(text).toMatch(/↻ StatefulSet loki-ingester\s+rolls pods\s+a, b, c, d and 2 more/);
  expect(text).toContain('  ingester: 3 pods (StatefulSet loki-ingester): config: a|b');
  expect(text).toContain('  AuthToggled: multi-tenancy turns on');
  const markdown = formatPlanMarkdown(plan);
  expect(markdown).toContain('| ingester | 3 | config: a\\|b |');
  expect(markdown).toContain('| in place | `ConfigMap loki-config` | data.config.yaml |');
  expect(markdown).toContain('- **AuthToggled**: multi-tenancy turns on');
  expect(planSummary({ ...plan, hasChanges: false, changes: [], rolls: [] })).toBe('no changes');
});
