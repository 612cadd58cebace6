// The read API as the query-frontend answers it: parameters validated in Loki's order with Loki's
// messages (pkg/loghttp/params.go, query.go), then the query parsed, then evaluated over the tenant's
// streams. Log queries run over [start, end): entries in the direction asked, the first `limit` of them
// across all streams, grouped into result streams by stream labels plus structured metadata (Loki's
// default response encoding) and sorted by that label set.
import { ClientError, json, type LokiResponse } from './http.js';
import { canonicalLabels, formatLabels, type LabelPairs } from './labels.js';
import { parseLogQuery, parseStreamSelector, selects, type LabelMatcher, type LogQuery } from './logql.js';
import type { LogEntry, LogStream } from './store.js';
import { parseDuration, parseInt64, parseTimestamp } from './timestamps.js';

const DEFAULT_LIMIT = 100n;
const ONE_HOUR_NS = 3_600_000_000_000n;

/** Loki's answer to any log query sent to the instant endpoint (logqlmodel.ErrUnsupportedSyntaxForInstantQuery). */
export const INSTANT_LOG_QUERY_REFUSED =
  'log queries are not supported as an instant query type, please change your query to a range query type';

type Direction = 'FORWARD' | 'BACKWARD';

export function queryRange(form: URLSearchParams, nowNs: bigint, streams: Iterable<LogStream>): LokiResponse {
  const query = form.get('query') ?? '';
  const { start, end } = bounds(form, nowNs);
  if (end < start) throw new ClientError('end timestamp must not be before or equal to start time');
  const limit = parseLimit(form.get('limit'));
  const direction = parseDirection(form.get('direction'));
  return json(evaluate(parseLogQuery(query), streams, { start, end, limit, direction }));
}

/**
 * Loki 3.x refuses log queries on the instant endpoint, and this double evaluates no metric query, so
 * every request ends in an error; the parameters and the query are still checked first, as Loki does.
 */
export function queryInstant(form: URLSearchParams): never {
  parseLimit(form.get('limit'));
  const time = form.get('time') ?? '';
  if (time !== '') wrapParameterError(() => parseTimestamp(time));
  parseDirection(form.get('direction'));
  parseLogQuery(form.get('query') ?? '');
  throw new ClientError(INSTANT_LOG_QUERY_REFUSED);
}

export function labelNames(form: URLSearchParams, nowNs: bigint, streams: Iterable<LogStream>): LokiResponse {
  const names = new Set<string>();
  for (const stream of activeStreams(form, nowNs, streams)) {
    for (const [name] of stream.labels) names.add(name);
  }
  return labelResponse(names);
}

export function labelValues(
  name: string,
  form: URLSearchParams,
  nowNs: bigint,
  streams: Iterable<LogStream>,
): LokiResponse {
  const values = new Set<string>();
  for (const stream of activeStreams(form, nowNs, streams)) {
    const value = stream.labels.find(([candidate]) => candidate === name)?.[1];
    if (value !== undefined) values.add(value);
  }
  return labelResponse(values);
}

/** Loki's LabelResponse has `data,omitempty`: no labels means no `data` key at all. */
function labelResponse(values: Set<string>): LokiResponse {
  const data = [...values].sort();
  return json(data.length === 0 ? { status: 'success' } : { status: 'success', data });
}

/** Streams matching the optional `query` with an entry in [start, end]. */
function activeStreams(form: URLSearchParams, nowNs: bigint, streams: Iterable<LogStream>): LogStream[] {
  const { start, end } = bounds(form, nowNs);
  const query = form.get('query') ?? '';
  const matchers: readonly LabelMatcher[] = query === '' ? [] : parseStreamSelector(query);
  return [...streams].filter(
    (stream) =>
      selects(matchers, stream.labels) && stream.entries.some((entry) => entry.ns >= start && entry.ns <= end),
  );
}

// ---- parameters ----------------------------------------------------------------------------------

/** Loki's determineBounds: end defaults to now; start to `since` (1h) before end, or before now if end is later. */
export function bounds(form: URLSearchParams, nowNs: bigint): { start: bigint; end: bigint } {
  const since = form.get('since') ?? '';
  const sinceNs = since === '' ? ONE_HOUR_NS : wrapParameterError(() => parseDuration(since), 'since');
  const endValue = form.get('end') ?? '';
  const end = endValue === '' ? nowNs : wrapParameterError(() => parseTimestamp(endValue), 'end');
  const startValue = form.get('start') ?? '';
  const endOrNow = end > nowNs ? nowNs : end;
  const start = startValue === '' ? endOrNow - sinceNs : wrapParameterError(() => parseTimestamp(startValue), 'start');
  return { start, end };
}

export function wrapParameterError<T>(parse: () => T, parameter?: string): T {
  try {
    return parse();
  } catch (error) {
    const message = (error as Error).message;
    throw new ClientError(parameter === undefined ? message : `could not parse '${parameter}' parameter: ${message}`);
  }
}

function parseLimit(value: string | null): bigint {
  if (value === null || value === '') return DEFAULT_LIMIT;
  const limit = wrapParameterError(() => parseInt64(value, 'Atoi'));
  if (limit <= 0n) throw new ClientError('limit must be a positive value');
  return limit;
}

function parseDirection(value: string | null): Direction {
  if (value === null || value === '') return 'BACKWARD';
  const direction = value.toUpperCase();
  if (direction !== 'FORWARD' && direction !== 'BACKWARD') throw new ClientError(`invalid direction '${value}'`);
  return direction;
}

// ---- evaluation ----------------------------------------------------------------------------------

interface Window {
  start: bigint;
  end: bigint;
  limit: bigint;
  direction: Direction;
}

interface Hit {
  readonly labels: LabelPairs;
  readonly key: string;
  readonly entry: LogEntry;
}

function evaluate(query: LogQuery, streams: Iterable<LogStream>, window: Window) {
  let linesProcessed = 0;
  let bytesProcessed = 0;
  const hits: Hit[] = [];
  for (const stream of streams) {
    if (!selects(query.matchers, stream.labels)) continue;
    for (const entry of stream.entries) {
      if (entry.ns < window.start || entry.ns >= window.end) continue;
      linesProcessed += 1;
      bytesProcessed += Buffer.byteLength(entry.line);
      if (!query.lineFilters.every((filter) => filter.matches(entry.line))) continue;
      const labels = resultLabels(stream.labels, entry.structuredMetadata);
      hits.push({ labels, key: formatLabels(labels), entry });
    }
  }
  const sign = window.direction === 'FORWARD' ? 1 : -1;
  hits.sort((a, b) => sign * compare(a.entry.ns, b.entry.ns) || compare(a.key, b.key));
  const returned = hits.slice(0, Number(window.limit));
  return {
    status: 'success',
    data: {
      resultType: 'streams',
      result: groupIntoStreams(returned),
      stats: summaryStats(linesProcessed, bytesProcessed, hits.length, returned.length),
    },
  };
}

/** Stream labels plus structured metadata; a stream label wins over metadata of the same name. */
function resultLabels(stream: LabelPairs, structuredMetadata: LabelPairs): LabelPairs {
  const names = new Set(stream.map(([name]) => name));
  return canonicalLabels([...stream, ...structuredMetadata.filter(([name]) => !names.has(name))]);
}

function groupIntoStreams(hits: readonly Hit[]) {
  const groups = new Map<string, { labels: LabelPairs; values: [string, string][] }>();
  for (const { labels, key, entry } of hits) {
    let group = groups.get(key);
    if (group === undefined) {
      group = { labels, values: [] };
      groups.set(key, group);
    }
    group.values.push([entry.ns.toString(), entry.line]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([, { labels, values }]) => ({ stream: Object.fromEntries(labels), values }));
}

/** A small subset of Loki's `stats` (its `summary` section), with counts that describe this query. */
function summaryStats(linesProcessed: number, bytesProcessed: number, postFilterLines: number, returned: number) {
  return {
    summary: {
      bytesProcessedPerSecond: 0,
      linesProcessedPerSecond: 0,
      totalBytesProcessed: bytesProcessed,
      totalLinesProcessed: linesProcessed,
      execTime: 0,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: returned,
      splits: 0,
      shards: 0,
      totalPostFilterLines: postFilterLines,
    },
  };
}

function compare<T extends bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
