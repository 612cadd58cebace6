// `schema next`: the period to append, dated the first day apply takes without a flag; usage errors exit 2.
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { nextSafeSchemaDate } from '../../src/stack/schema-periods.js';
import { runCli } from './helpers.js';

describe('schema next', () => {
  test('prints a tsdb v13 period dated the first safe day, as a list entry for spec.schemas', async () => {
    const result = await runCli(['schema', 'next']);
    expect(result.code).toBe(0);
    expect(parse(result.stdout)).toEqual([
      { from: nextSafeSchemaDate(), store: 'tsdb', version: 'v13', indexPrefix: 'index_' },
    ]);
  });

  test('after the newest period of the spec, when that one is further ahead', async () => {
    const spec = `spec:\n  schemas:\n    - { from: "2024-04-01", store: tsdb, version: v13 }\n    - { from: "2999-01-01", store: tsdb, version: v13, indexPrefix: loki_ }\n`;
    const result = await runCli(['schema', 'next', '-f', 'spec.yaml'], { 'spec.yaml': spec });
    expect(result.code).toBe(0);
    expect(parse(result.stdout)).toEqual([{ from: '2999-01-02', store: 'tsdb', version: 'v13', indexPrefix: 'loki_' }]);
  });

  test.each([
    [['schema'], /say which: "schema next"/],
    [['schema', 'later'], /unknown schema command "later"/],
    [['schema', 'next', '--version', 'v14'], /--version must be one of v11, v12, v13/],
    [['schema', 'next', 'extra'], /Unexpected argument|positional/i],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
