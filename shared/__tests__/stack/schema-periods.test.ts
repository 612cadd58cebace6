// Schema periods, as the Loki Operator validates them: at render time (a spec's list, judged at a time) and at
// apply time (the list about to be applied against the live stack's).
import { describe, expect, test } from '@jest/globals';
import { SpecError } from '../../src/errors.js';
import { parseSpec } from '../../src/spec/parse.js';
import { lokiConfigText } from '../../src/stack/loki-config.js';
import {
  activeSchemaPeriod,
  checkSchemaChange,
  DEFAULT_SCHEMA_PERIODS,
  nextSafeSchemaDate,
  SchemaChangeError,
  schemaChangeIssues,
  schemaPeriodsOf,
  type SchemaPeriod,
} from '../../src/stack/schema-periods.js';
import { lokiConfig } from '../../src/testing.js';

const NOW = new Date('2026-12-07T10:00:00Z');
const tsdb = (from: string, version: SchemaPeriod['version'] = 'v13'): SchemaPeriod => ({
  from,
  store: 'tsdb',
  version,
  indexPrefix: 'index_',
});
const bolt = (from: string, version: SchemaPeriod['version'] = 'v11'): SchemaPeriod => ({
  from,
  store: 'boltdb-shipper',
  version,
  indexPrefix: 'index_',
});
const LIVE = [tsdb('2024-04-01')];

describe('apply-time rules against the live periods', () => {
  test.each<[string, SchemaPeriod[], SchemaPeriod[], { allowWithin24h?: boolean }, string[]]>([
    ['valid future append', LIVE, [...LIVE, tsdb('2026-12-09')], {}, []],
    ['the same periods again', LIVE, LIVE, {}, []],
    [
      'retroactive add (a new period already started)',
      LIVE,
      [...LIVE, tsdb('2026-12-01')],
      {},
      ['spec.schemas[1].from: 2026-12-01 is already past'],
    ],
    [
      'retroactive change (version of the period in effect)',
      LIVE,
      [tsdb('2024-04-01', 'v12')],
      {},
      ['spec.schemas[0].version: is "v13" on the live stack'],
    ],
    [
      'retroactive change (store and prefix of the period in effect)',
      [bolt('2020-01-01'), tsdb('2024-04-01')],
      [{ ...bolt('2020-01-01'), store: 'tsdb', version: 'v12', indexPrefix: 'loki_' }, tsdb('2024-04-01')],
      {},
      [
        'spec.schemas[0].store: is "boltdb-shipper" on the live stack',
        'spec.schemas[0].version: is "v11" on the live stack',
        'spec.schemas[0].indexPrefix: is "index_" on the live stack',
      ],
    ],
    [
      'removal of a period in effect',
      [bolt('2020-01-01'), tsdb('2024-04-01')],
      [tsdb('2024-04-01')],
      {},
      ['spec.schemas: must keep the period v11 (boltdb-shipper, prefix "index_") from 2020-01-01'],
    ],
    [
      'moving the period in effect to another day',
      LIVE,
      [tsdb('2024-04-02')],
      {},
      ['spec.schemas: must keep the period v13 (tsdb, prefix "index_") from 2024-04-01', 'spec.schemas[0].from'],
    ],
    [
      'new period within 2 h (midnight is 1 h away)',
      LIVE,
      [...LIVE, tsdb('2026-12-08')],
      {},
      ['spec.schemas[1].from: 2026-12-08 is less than 2 h away'],
    ],
    [
      'new period within 24 h without the flag',
      LIVE,
      [...LIVE, tsdb('2026-12-08')],
      {},
      ['spec.schemas[1].from: 2026-12-08 starts in less than 24 h'],
    ],
    ['new period within 24 h with the flag', LIVE, [...LIVE, tsdb('2026-12-08')], { allowWithin24h: true }, []],
    [
      'a live period not yet started may be changed or dropped',
      [...LIVE, tsdb('2027-01-01')],
      [...LIVE, tsdb('2027-02-01')],
      {},
      [],
    ],
    [
      'a live period starting within 2 h is fixed',
      [...LIVE, tsdb('2026-12-08')],
      LIVE,
      {},
      ['spec.schemas: must keep the period v13 (tsdb, prefix "index_") from 2026-12-08'],
    ],
    [
      'a live near period kept as it is needs no flag',
      [...LIVE, tsdb('2026-12-08')],
      [...LIVE, tsdb('2026-12-08')],
      {},
      [],
    ],
  ])('%s', (what, live, next, options, expected) => {
    // "Within 2 h": judged at 23:00 UTC; the others at 10:00 UTC.
    const now = what.includes('within 2 h') ? new Date('2026-12-07T23:00:00Z') : NOW;
    const issues = schemaChangeIssues(live, next, now, { ...options, allowOption: '--allow-near-schema' });
    const lines = issues.map((issue) => `${issue.path}: ${issue.message}`);
    expect(lines).toHaveLength(expected.length);
    expected.forEach((start, index) => expect(lines[index]).toContain(start));
    if (what.includes('24 h without')) expect(lines[0]).toContain('--allow-near-schema');
    if (expected.length > 0 && !what.includes('24 h'))
      expect(lines.join('\n')).toContain(`dated ${nextSafeSchemaDate(now)} or later`);
  });

  test('checkSchemaChange throws a SpecError (exit 2) naming every problem; a new stack has nothing to keep', () => {
    expect(() => checkSchemaChange(LIVE, [tsdb('2024-04-01', 'v12')], NOW)).toThrow(SchemaChangeError);
    expect(() => checkSchemaChange(LIVE, [tsdb('2024-04-01', 'v12')], NOW)).toThrow(SpecError);
    expect(() => checkSchemaChange(undefined, [tsdb('2026-12-01')], NOW)).not.toThrow();
    expect(() => checkSchemaChange([], [tsdb('2026-12-01')], NOW)).not.toThrow();
  });
});

describe('the first safe day', () => {
  test.each([
    ['2026-12-07T10:00:00Z', '2026-12-09'],
    ['2026-12-07T00:00:00Z', '2026-12-09'],
    ['2026-12-06T23:59:59Z', '2026-12-08'],
    ['2026-12-31T12:00:00Z', '2027-01-02'],
  ])('at %s: %s', (now, expected) => {
    const date = nextSafeSchemaDate(new Date(now));
    expect(date).toBe(expected);
    expect(Date.parse(`${date}T00:00:00Z`) - Date.parse(now)).toBeGreaterThan(24 * 3_600_000);
    expect(schemaChangeIssues(LIVE, [...LIVE, tsdb(date)], new Date(now))).toEqual([]);
  });
});

describe('render-time rules of spec.schemas', () => {
  const parse = (schemas: unknown, now = NOW, version?: string) =>
    parseSpec({ spec: { schemas, ...(version ? { version } : {}) } }, { now });
  const problems = (schemas: unknown, now = NOW, version?: string) => {
    try {
      parse(schemas, now, version);
      return [];
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    }
  };

  test.each<[string, unknown, string[]]>([
    ['valid: one period in effect', [tsdb('2024-04-01')], []],
    ['valid: boltdb-shipper, then tsdb v13 ahead', [bolt('2020-01-01'), tsdb('2027-01-01')], []],
    [
      'duplicate dates',
      [tsdb('2024-04-01'), tsdb('2024-04-01')],
      ['spec.schemas[1].from: 2024-04-01 is also the date'],
    ],
    [
      'unordered',
      [tsdb('2025-01-01'), tsdb('2024-04-01')],
      ['spec.schemas[1].from: must be after spec.schemas[0].from'],
    ],
    [
      'nothing in effect',
      [tsdb('2027-01-01')],
      ['spec.schemas[0].from: no period is in effect now (today is 2026-12-07 UTC)'],
    ],
    [
      'not a date',
      [{ ...tsdb('2024-04-01'), from: '2024-02-30' }],
      ['spec.schemas[0].from: must be a date written YYYY-MM-DD'],
    ],
    ['not a date either', [{ ...tsdb('2024-04-01'), from: '1 April 2024' }], ['spec.schemas[0].from']],
    [
      'tsdb with v11',
      [bolt('2020-01-01'), tsdb('2024-04-01', 'v11')],
      ['spec.schemas[1].version: v11 cannot be used with store tsdb'],
    ],
    [
      'newest not tsdb',
      [bolt('2020-01-01'), bolt('2024-04-01', 'v13')],
      ['spec.schemas[1].store: the newest period must use tsdb'],
    ],
    ['newest not v13', [tsdb('2024-04-01', 'v12')], ['spec.schemas[0].version: the newest period must use v13']],
    ['an unknown store', [{ ...tsdb('2024-04-01'), store: 'boltdb' }], ['spec.schemas[0].store: must be one of']],
    ['an empty list', [], ['spec.schemas: must have at least 1 entries']],
  ])('%s', (_what, schemas, expected) => {
    const lines = problems(schemas);
    expect(lines).toHaveLength(expected.length);
    expected.forEach((start, index) => expect(lines[index]).toContain(start));
  });

  test('"now" decides which period is in effect: the default is the current time', () => {
    expect(problems([tsdb('2027-01-01')], new Date('2027-01-01T00:00:00Z'))).toEqual([]);
    expect(() => parseSpec({ spec: { schemas: [tsdb('2999-01-01')] } })).toThrow(/no period is in effect now/);
    expect(parseSpec({}).spec.schemas).toBeUndefined();
  });
});

describe('the rendered schema_config', () => {
  test('without spec.schemas: the one period rendered before, byte for byte', () => {
    const text = lokiConfigText(lokiConfig(parseSpec({})));
    expect(text).toContain(
      [
        'schema_config:',
        '  configs:',
        '    - from: 2024-04-01',
        '      index:',
        '        period: 24h',
        '        prefix: index_',
        '      object_store: s3',
        '      schema: v13',
        '      store: tsdb',
        'server:',
      ].join('\n'),
    );
    expect(text).not.toContain('boltdb');
    expect(schemaPeriodsOf(text)).toEqual(DEFAULT_SCHEMA_PERIODS);
  });

  test('a boltdb-shipper period gets its index directories; structured metadata waits for tsdb v13', () => {
    const stack = parseSpec({ spec: { schemas: [bolt('2020-01-01'), tsdb('2999-01-01')] } });
    const config = lokiConfig(stack) as {
      storage_config: { boltdb_shipper?: Record<string, unknown> };
      limits_config: { allow_structured_metadata: boolean };
    };
    expect(config.storage_config.boltdb_shipper).toMatchObject({
      active_index_directory: expect.stringMatching(/boltdb-index$/),
      cache_location: expect.stringMatching(/boltdb-cache$/),
      index_gateway_client: expect.any(Object),
    });
    expect(config.limits_config.allow_structured_metadata).toBe(false);
    expect(schemaPeriodsOf(lokiConfigText(config))).toEqual([bolt('2020-01-01'), tsdb('2999-01-01')]);
  });

  test('the periods of a Nomad template (consul-template actions around them) are read too', () => {
    const text = `auth_enabled: false\nmemberlist:\n  join_members:\n{{- range service "x" }}\n  - {{ .Address }}\n{{- end }}\nschema_config:\n  configs:\n    - from: 2024-04-01\n      index:\n        period: 24h\n        prefix: index_\n      object_store: s3\n      schema: v13\n      store: tsdb\nserver:\n  http_listen_port: 3100\n`;
    expect(schemaPeriodsOf(text)).toEqual([tsdb('2024-04-01')]);
    expect(schemaPeriodsOf('auth_enabled: false\n')).toBeUndefined();
    expect(schemaPeriodsOf(undefined)).toBeUndefined();
  });

  test('the period in effect and the next', () => {
    const periods = [bolt('2020-01-01'), tsdb('2024-04-01'), tsdb('2027-01-01')];
    expect(activeSchemaPeriod(periods, NOW)).toEqual({ active: periods[1], next: periods[2] });
    expect(activeSchemaPeriod([tsdb('2027-01-01')], NOW)).toEqual({ next: tsdb('2027-01-01') });
  });
});
