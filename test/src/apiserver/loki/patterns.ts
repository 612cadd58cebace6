// The patterns API (`/loki/api/v1/patterns`) as the query-frontend answers it with pattern ingesters behind the
// queriers: the stream selector (Loki's ParseMatchers: matchers only), start and end as the other read
// endpoints take them, `step` (a duration or seconds; by default Loki's defaultQueryRangeStep, (end - start) /
// 250 in whole seconds, at least 1s), the samples of each step at its start, and per pattern the count of its lines in each step, in
// Loki's JSON (`{status, data: [{pattern, level, samples: [[seconds, count]]}]}`, the most frequent first).
// The lines are those the distributors teed to the pattern ingesters, not the stored ones. Patterns are
// this double's own, not Drain's: a line's whitespace-separated tokens with every one holding a digit replaced
// by `<_>` (consecutive ones merged), and every level `unknown`.
import { ClientError, json, type LokiResponse } from './http.js';
import { parseStreamSelector, selects } from './logql.js';
import { bounds, wrapParameterError } from './read.js';
import type { LogStream } from './store.js';
import { NS_PER_SECOND, parseDuration } from './timestamps.js';

/** Loki answers at most this many points per pattern (loghttp.ParsePatternsQuery). */
const MAX_POINTS = 11_000n;
const PLACEHOLDER = '<_>';

export function queryPatterns(form: URLSearchParams, nowNs: bigint, teed: Iterable<LogStream>): LokiResponse {
  const matchers = parseStreamSelector(form.get('query') ?? '');
  const { start, end } = bounds(form, nowNs);
  if (end < start) throw new ClientError('end timestamp must not be before or equal to start time');
  const step = parseStep(form.get('step') ?? '', start, end);
  if (step <= 0n)
    throw new ClientError('zero or negative query resolution step widths are not accepted. Try a positive integer');
  if ((end - start) / step > MAX_POINTS)
    throw new ClientError(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  const counts = new Map<string, Map<bigint, number>>();
  for (const stream of teed) {
    if (!selects(matchers, stream.labels)) continue;
    for (const entry of stream.entries) {
      if (entry.ns < start || entry.ns >= end) continue;
      const pattern = patternOf(entry.line);
      const samples = counts.get(pattern) ?? new Map<bigint, number>();
      const bucket = entry.ns - (entry.ns % step);
      samples.set(bucket, (samples.get(bucket) ?? 0) + 1);
      counts.set(pattern, samples);
    }
  }
  const total = (samples: Map<bigint, number>) => [...samples.values()].reduce((sum, count) => sum + count, 0);
  const data = [...counts]
    .sort(([a, x], [b, y]) => total(y) - total(x) || a.localeCompare(b))
    .map(([pattern, samples]) => ({
      pattern,
      level: 'unknown',
      samples: [...samples]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([ns, count]) => [Number(ns / NS_PER_SECOND), count]),
    }));
  return json({ status: 'success', data });
}

/** The double's pattern of a line: tokens holding a digit become `<_>`, runs of them one. */
export function patternOf(line: string): string {
  const tokens = line.split(/\s+/).filter(Boolean);
  const masked = tokens.map((token) => (/\d/.test(token) ? PLACEHOLDER : token));
  return masked.filter((token, index) => token !== PLACEHOLDER || masked[index - 1] !== PLACEHOLDER).join(' ');
}

function parseStep(value: string, start: bigint, end: bigint): bigint {
  if (value === '') {
    const seconds = (end - start) / NS_PER_SECOND / 250n;
    return (seconds > 1n ? seconds : 1n) * NS_PER_SECOND;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return BigInt(Math.round(Number(value) * 1e9));
  return wrapParameterError(() => parseDuration(value), 'step');
}
