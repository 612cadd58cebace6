// The fake Loki's HTTP surface: push, read back, tenancy, validation and routing, each answer checked
// against what Loki 3.x itself returns (status, body text, JSON shape).
import { gzipSync, deflateRawSync } from 'node:zlib';
import { FakeLoki, type FakeLokiOptions, type LokiResponse } from '../../src/apiserver/loki/index.js';

const NOW_MS = Date.UTC(2024, 0, 15, 12, 0, 0);
const NOW = BigInt(NOW_MS) * 1_000_000n;
const SECOND = 1_000_000_000n;

/** A timestamp `seconds` before the fake's "now", as the push API spells it. */
const ago = (seconds: number): string => (NOW - BigInt(seconds) * SECOND).toString();

type Stream = { stream?: Record<string, string>; values: unknown[] };

function fakeLoki(options: Partial<FakeLokiOptions> = {}): FakeLoki {
  return new FakeLoki({ authEnabled: false, now: () => NOW_MS, ...options });
}

function push(loki: FakeLoki, streams: Stream[], headers: Record<string, string> = {}): LokiResponse {
  return loki.handle({
    method: 'POST',
    path: '/loki/api/v1/push',
    query: new URLSearchParams(),
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify({ streams })),
  });
}

function pushRaw(loki: FakeLoki, body: Buffer, headers: Record<string, string | undefined>): LokiResponse {
  return loki.handle({ method: 'POST', path: '/loki/api/v1/push', query: new URLSearchParams(), headers, body });
}

function get(
  loki: FakeLoki,
  path: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): LokiResponse {
  return loki.handle({ method: 'GET', path, query: new URLSearchParams(params), headers, body: Buffer.alloc(0) });
}

/** query_range's result streams, after checking the request succeeded. */
function queryRange(loki: FakeLoki, params: Record<string, string>, headers: Record<string, string> = {}) {
  const response = get(loki, '/loki/api/v1/query_range', params, headers);
  expect(response).toMatchObject({ status: 200, headers: { 'content-type': 'application/json; charset=UTF-8' } });
  return JSON.parse(response.body).data.result as { stream: Record<string, string>; values: [string, string][] }[];
}

/** The lines query_range returns, flattened in response order. */
function lines(loki: FakeLoki, params: Record<string, string>): string[] {
  return queryRange(loki, params).flatMap((stream) => stream.values.map(([, line]) => line));
}

const textError = (status: number, body: string) => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  body,
});

describe('push then query_range', () => {
  test('a pushed line comes back with its stream labels, in the shape Loki answers', () => {
    const loki = fakeLoki();
    expect(push(loki, [{ stream: { job: 'smoke' }, values: [[ago(10), 'hello loki']] }])).toEqual({
      status: 204,
      headers: {},
      body: '',
    });

    const response = get(loki, '/loki/api/v1/query_range', { query: '{job="smoke"}' });
    expect(JSON.parse(response.body)).toEqual({
      status: 'success',
      data: {
        resultType: 'streams',
        result: [{ stream: { job: 'smoke', service_name: 'smoke' }, values: [[ago(10), 'hello loki']] }],
        stats: {
          summary: expect.objectContaining({
            totalLinesProcessed: 1,
            totalBytesProcessed: 10,
            totalEntriesReturned: 1,
            totalPostFilterLines: 1,
          }),
        },
      },
    });
    expect(loki.entryCount).toBe(1);
  });

  test('backward (the default) returns newest first, forward oldest first', () => {
    const loki = fakeLoki();
    push(loki, [
      {
        stream: { job: 'a' },
        values: [
          [ago(30), 'first'],
          [ago(10), 'third'],
          [ago(20), 'second'],
        ],
      },
    ]);
    expect(lines(loki, { query: '{job="a"}' })).toEqual(['third', 'second', 'first']);
    expect(lines(loki, { query: '{job="a"}', direction: 'backward' })).toEqual(['third', 'second', 'first']);
    expect(lines(loki, { query: '{job="a"}', direction: 'FORWARD' })).toEqual(['first', 'second', 'third']);
  });

  test('limit keeps the entries nearest the starting end across all streams; streams are sorted by labels', () => {
    const loki = fakeLoki();
    push(loki, [
      {
        stream: { job: 'j', pod: 'b' },
        values: [
          [ago(40), 'b-40'],
          [ago(10), 'b-10'],
        ],
      },
      {
        stream: { job: 'j', pod: 'a' },
        values: [
          [ago(30), 'a-30'],
          [ago(20), 'a-20'],
        ],
      },
    ]);
    const newest = queryRange(loki, { query: '{job="j"}', limit: '3' });
    expect(newest.map(({ stream, values }) => [stream.pod, values.map(([, line]) => line)])).toEqual([
      ['a', ['a-20', 'a-30']],
      ['b', ['b-10']],
    ]);
    const oldest = queryRange(loki, { query: '{job="j"}', limit: '2', direction: 'forward' });
    expect(oldest.map(({ stream, values }) => [stream.pod, values.map(([, line]) => line)])).toEqual([
      ['a', ['a-30']],
      ['b', ['b-40']],
    ]);
    expect(lines(loki, { query: '{job="j"}' })).toHaveLength(4);
  });

  test('the default limit is 100 entries', () => {
    const loki = fakeLoki();
    push(loki, [{ stream: { job: 'many' }, values: Array.from({ length: 150 }, (_, i) => [ago(i + 1), `line ${i}`]) }]);
    expect(lines(loki, { query: '{job="many"}' })).toHaveLength(100);
    expect(lines(loki, { query: '{job="many"}', limit: '150' })).toHaveLength(150);
  });

  test('start is inclusive and end exclusive, to the nanosecond', () => {
    const loki = fakeLoki();
    const start = NOW - 100n * SECOND;
    const end = NOW - 50n * SECOND;
    const at = (ns: bigint, line: string) => [ns.toString(), line];
    push(loki, [
      {
        stream: { job: 'b' },
        values: [at(start - 1n, 'before'), at(start, 'at start'), at(end - 1n, 'inside'), at(end, 'at end')],
      },
    ]);
    const window = { start: start.toString(), end: end.toString(), direction: 'forward' };
    expect(lines(loki, { query: '{job="b"}', ...window })).toEqual(['at start', 'inside']);
  });

  test('integers up to 1e10 are seconds, larger ones nanoseconds', () => {
    const loki = fakeLoki();
    push(loki, [
      {
        stream: { job: 'n' },
        values: [
          ['5000000000', 'at 5s'],
          ['10000000001', 'at 10.000000001s'],
          ['20000000000', 'at 20s'],
        ],
      },
    ]);
    expect(lines(loki, { query: '{job="n"}', start: '5', end: '10000000002', direction: 'forward' })).toEqual([
      'at 5s',
      'at 10.000000001s',
    ]);
    expect(lines(loki, { query: '{job="n"}', start: '10000000001', end: '20000000001' })).toEqual([
      'at 20s',
      'at 10.000000001s',
    ]);
    // 1e10 itself is still seconds (the year 2286), so this start lies after the end.
    expect(
      get(loki, '/loki/api/v1/query_range', { query: '{job="n"}', start: '10000000000', end: '20000000001' }).body,
    ).toBe('end timestamp must not be before or equal to start time');
  });

  test('without start and end the window is the hour before now, end exclusive', () => {
    const loki = fakeLoki();
    const hourAgo = NOW - 3600n * SECOND;
    push(loki, [
      {
        stream: { job: 'w' },
        values: [
          [(hourAgo - 1n).toString(), 'too old'],
          [hourAgo.toString(), 'oldest kept'],
          [NOW.toString(), 'now'],
        ],
      },
    ]);
    expect(lines(loki, { query: '{job="w"}' })).toEqual(['oldest kept']);
  });

  test('since sets the window length; an end in the future still counts the default start from now', () => {
    const loki = fakeLoki();
    push(loki, [
      {
        stream: { job: 's' },
        values: [
          [ago(400), 'six minutes ago'],
          [ago(200), 'three minutes ago'],
          [ago(-600), 'in ten minutes'],
        ],
      },
    ]);
    expect(lines(loki, { query: '{job="s"}', since: '5m' })).toEqual(['three minutes ago']);
    expect(lines(loki, { query: '{job="s"}', end: (NOW + 3600n * SECOND).toString(), since: '5m' })).toEqual([
      'in ten minutes',
      'three minutes ago',
    ]);
  });

  test.each([
    ['nanoseconds', '1705319940000000000', '1705319970000000000'],
    ['RFC 3339', '2024-01-15T11:59:00Z', '2024-01-15T12:59:30.000000000+01:00'],
    ['integer seconds', '1705319940', '1705319970'],
    ['float seconds', '1705319940.0', '1705319969.9996'],
    ['float nanoseconds', '1705319940000000000.0', '1705319970000000000.5'],
    ['RFC 3339 beyond nanoseconds', '2024-01-15T11:59:00.0000000009Z', '2024-01-15T11:59:30Z'],
  ])('start and end in %s', (_format, start, end) => {
    const loki = fakeLoki();
    push(loki, [
      {
        stream: { job: 't' },
        values: [
          [ago(61), 'before'],
          [ago(60), 'start'],
          [ago(31), 'inside'],
          [ago(30), 'end'],
        ],
      },
    ]);
    expect(lines(loki, { query: '{job="t"}', start, end, direction: 'forward' })).toEqual(['start', 'inside']);
  });

  test('float seconds are rounded to the millisecond, as Loki does', () => {
    const loki = fakeLoki();
    push(loki, [{ stream: { job: 'ms' }, values: [['1705319940001000000', 'at 1ms']] }]);
    expect(lines(loki, { query: '{job="ms"}', start: '1705319940.0006', end: '1705319941' })).toEqual(['at 1ms']);
    expect(lines(loki, { query: '{job="ms"}', start: '1705319940.0016', end: '1705319941' })).toEqual([]);
  });

  test('a selector that matches nothing returns an empty result', () => {
    const loki = fakeLoki();
    push(loki, [{ stream: { job: 'x' }, values: [[ago(1), 'line']] }]);
    expect(queryRange(loki, { query: '{job="nothing"}' })).toEqual([]);
  });

  test('a form-encoded POST is read like a GET, body values first', () => {
    const loki = fakeLoki();
    push(loki, [{ stream: { job: 'p' }, values: [[ago(1), 'posted']] }]);
    const response = loki.handle({
      method: 'POST',
      path: '/loki/api/v1/query_range',
      query: new URLSearchParams({ query: '{job="other"}' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams({ query: '{job="p"}' }).toString()),
    });
    expect(JSON.parse(response.body).data.result[0].values).toEqual([[ago(1), 'posted']]);
  });
});

describe('what push stores', () => {
  test('duplicates (same stream, timestamp and line) are kept once, within and across requests', () => {
    const loki = fakeLoki();
    push(loki, [
      {
        stream: { job: 'd' },
        values: [
          [ago(5), 'same'],
          [ago(5), 'same'],
          [ago(5), 'different line'],
        ],
      },
    ]);
    push(loki, [
      {
        stream: { job: 'd' },
        values: [
          [ago(5), 'same'],
          [ago(6), 'same'],
        ],
      },
    ]);
    push(loki, [{ stream: { job: 'd', other: 'stream' }, values: [[ago(5), 'same']] }]);
    expect(loki.entryCount).toBe(4);
    expect(lines(loki, { query: '{job="d"}' }).sort()).toEqual(['different line', 'same', 'same', 'same']);
  });

  test('a label set is one stream whatever its order, and empty-valued labels are dropped', () => {
    const loki = fakeLoki();
    push(loki, [{ stream: { b: '2', a: '1' }, values: [[ago(2), 'one']] }]);
    push(loki, [{ stream: { a: '1', empty: '', b: '2' }, values: [[ago(1), 'two']] }]);
    expect(queryRange(loki, { query: '{a="1"}' })).toEqual([
      {
        stream: { a: '1', b: '2', service_name: 'unknown_service' },
        values: [
          [ago(1), 'two'],
          [ago(2), 'one'],
        ],
      },
    ]);
  });

  test('service_name is the first discovery label present, else unknown_service; a pushed one is kept', () => {
    const loki = fakeLoki();
    push(loki, [
      { stream: { job: 'j1', app: 'web' }, values: [[ago(1), 'app wins over job']] },
      { stream: { env: 'dev' }, values: [[ago(1), 'nothing to discover']] },
      { stream: { job: 'j2', service_name: 'mine' }, values: [[ago(1), 'explicit']] },
    ]);
    expect(queryRange(loki, { query: '{service_name=~".+"}' }).map(({ stream }) => stream)).toEqual([
      { app: 'web', job: 'j1', service_name: 'web' },
      { env: 'dev', service_name: 'unknown_service' },
      { job: 'j2', service_name: 'mine' },
    ]);
  });

  test('with service_name discovery off, labels are stored as pushed', () => {
    const loki = fakeLoki({ discoverServiceName: [] });
    push(loki, [{ stream: { job: 'plain' }, values: [[ago(1), 'line']] }]);
    expect(queryRange(loki, { query: '{job="plain"}' })[0]?.stream).toEqual({ job: 'plain' });
  });

  test('a stream without labels becomes unknown_service, as Loki with default limits stores it', () => {
    const loki = fakeLoki();
    expect(push(loki, [{ stream: {}, values: [[ago(1), 'anonymous']] }]).status).toBe(204);
    expect(lines(loki, { query: '{service_name="unknown_service"}' })).toEqual(['anonymous']);
  });

  test('with discovery off, a stream without labels is refused and the valid streams are still stored', () => {
    const loki = fakeLoki({ discoverServiceName: [] });
    const response = push(loki, [
      { stream: { empty: '' }, values: [[ago(1), 'no labels']] },
      { stream: { job: 'ok' }, values: [[ago(1), 'kept']] },
    ]);
    expect(response).toEqual(textError(400, 'error at least one label pair is required per stream\n'));
    expect(lines(loki, { query: '{job="ok"}' })).toEqual(['kept']);
    expect(loki.entryCount).toBe(1);
  });

  test('a stream with no entries is ignored before its labels are checked', () => {
    const loki = fakeLoki({ discoverServiceName: [] });
    expect(push(loki, [{ stream: {}, values: [] }, { values: [null] }]).status).toBe(204);
    expect(loki.entryCount).toBe(0);
  });

  test('structured metadata shows in the result labels, splitting a stream by its values', () => {
    const loki = fakeLoki();
    push(loki, [
      {
        stream: { job: 'sm' },
        values: [
          [ago(3), 'plain'],
          [ago(2), 'traced', { trace_id: 'abc' }],
          [ago(1), 'shadowed', { job: 'ignored', empty: '' }],
        ],
      },
    ]);
    // Sorted by the label string, where `,` sorts before `}`: the longer label set comes first.
    expect(queryRange(loki, { query: '{job="sm"}' })).toEqual([
      { stream: { job: 'sm', service_name: 'sm', trace_id: 'abc' }, values: [[ago(2), 'traced']] },
      {
        stream: { job: 'sm', service_name: 'sm' },
        values: [
          [ago(1), 'shadowed'],
          [ago(3), 'plain'],
        ],
      },
    ]);
  });

  test('gzip and deflate bodies are decoded; snappy is passed through for JSON as Loki does', () => {
    const loki = fakeLoki();
    const body = (line: string) =>
      Buffer.from(JSON.stringify({ streams: [{ stream: { job: 'enc' }, values: [[ago(1), line]] }] }));
    const json = { 'content-type': 'application/json; charset=utf-8' };
    expect(pushRaw(loki, gzipSync(body('gzip')), { ...json, 'content-encoding': 'gzip' }).status).toBe(204);
    expect(pushRaw(loki, deflateRawSync(body('deflate')), { ...json, 'content-encoding': 'deflate' }).status).toBe(204);
    expect(pushRaw(loki, body('snappy'), { ...json, 'content-encoding': 'snappy' }).status).toBe(204);
    expect(lines(loki, { query: '{job="enc"}' }).sort()).toEqual(['deflate', 'gzip', 'snappy']);
  });
});

describe('push errors', () => {
  const json = { 'content-type': 'application/json' };

  test.each([
    ['malformed JSON', Buffer.from('{"streams": ['), json, 400, /^malformed JSON push request: .+\n$/],
    [
      'a body that is not an object',
      Buffer.from('[]'),
      json,
      400,
      /^malformed JSON push request: the body must be an object\n$/,
    ],
    [
      'a stream that is not an object',
      Buffer.from('{"streams": [1]}'),
      json,
      400,
      /^malformed JSON push request: streams\[0\] must be an object\n$/,
    ],
    [
      'labels that are not an object',
      Buffer.from('{"streams":[{"stream":"job=x","values":[["1","line"]]}]}'),
      json,
      400,
      /^malformed JSON push request: streams\[0\]\.stream must be an object\n$/,
    ],
    [
      'a label value that is not a string',
      Buffer.from('{"streams":[{"stream":{"job":1},"values":[["1","line"]]}]}'),
      json,
      400,
      /^malformed JSON push request: streams\[0\]\.stream\.job must be a string\n$/,
    ],
    [
      'an entry without a line',
      Buffer.from('{"streams":[{"stream":{"job":"x"},"values":[["1"]]}]}'),
      json,
      400,
      /^malformed JSON push request: streams\[0\]\.values\[0\] must be \["<unix epoch in nanoseconds>", "<log line>"/,
    ],
    [
      'streams not an array',
      Buffer.from('{"streams": {}}'),
      json,
      400,
      /^malformed JSON push request: "streams" must be an array\n$/,
    ],
    [
      'a timestamp that is not a number',
      Buffer.from('{"streams":[{"stream":{"job":"x"},"values":[["12:00","line"]]}]}'),
      json,
      400,
      /^streams\[0\]\.values\[0\]: Value looks like Number\/Boolean\/None, but can't find its end: ',' or '}' symbol\n$/,
    ],
    [
      'a timestamp beyond int64',
      Buffer.from('{"streams":[{"stream":{"job":"x"},"values":[["9223372036854775808","line"]]}]}'),
      json,
      400,
      /^streams\[0\]\.values\[0\]: Value is number, but overflowed while parsing\n$/,
    ],
    [
      'a line that is not a string',
      Buffer.from('{"streams":[{"stream":{"job":"x"},"values":[["1", 42]]}]}'),
      json,
      400,
      /must hold the timestamp and the line as strings\n$/,
    ],
    [
      'an invalid label name',
      Buffer.from('{"streams":[{"stream":{"my-label":"x"},"values":[["1","line"]]}]}'),
      json,
      400,
      /^couldn't parse labels: invalid label name "my-label" in streams\[0\]\.stream\n$/,
    ],
    [
      'protobuf',
      Buffer.from([0x0a, 0x00]),
      { 'content-type': 'application/x-protobuf' },
      415,
      /accepts only JSON pushes/,
    ],
    ['no Content-Type', Buffer.from('{}'), {}, 400, /^mime: no media type\n$/],
    [
      'an unknown Content-Encoding',
      Buffer.from('{}'),
      { ...json, 'content-encoding': 'br' },
      400,
      /^Content-Encoding "br" not supported\n$/,
    ],
    ['a body that is not gzip', Buffer.from('{}'), { ...json, 'content-encoding': 'gzip' }, 400, /^gzip: .+\n$/],
    [
      'a body that is not deflate',
      Buffer.from([0xff, 0xff]),
      { ...json, 'content-encoding': 'deflate' },
      400,
      /^flate: .+\n$/,
    ],
  ])('%s is refused whole', (_case, body, headers, status, message) => {
    const loki = fakeLoki();
    const valid = { stream: { job: 'fine' }, values: [[ago(1), 'would be fine']] };
    const response = pushRaw(loki, body, headers);
    expect(response).toEqual({ ...textError(status, expect.stringMatching(message)) });
    expect(loki.entryCount).toBe(0);
    expect(push(loki, [valid]).status).toBe(204);
  });

  test('the 415 says why, and what Loki would do instead', () => {
    const response = pushRaw(fakeLoki(), Buffer.alloc(0), { 'content-type': 'application/x-protobuf' });
    expect(response.body).toBe(
      'unsupported Content-Type "application/x-protobuf": this Loki test double accepts only JSON pushes ' +
        '(Content-Type: application/json); real Loki would decode this body as snappy-compressed protobuf\n',
    );
  });
});

describe('tenancy', () => {
  const orgA = { 'x-scope-orgid': 'team-a' };
  const orgB = { 'x-scope-orgid': 'team-b' };

  test('with auth enabled every data endpoint answers 401 without X-Scope-OrgID', () => {
    const loki = fakeLoki({ authEnabled: true });
    const noOrgId = textError(401, 'no org id\n');
    expect(push(loki, [{ stream: { job: 'x' }, values: [[ago(1), 'line']] }])).toEqual(noOrgId);
    expect(push(loki, [{ stream: { job: 'x' }, values: [[ago(1), 'line']] }], { 'x-scope-orgid': '' })).toEqual(
      noOrgId,
    );
    for (const path of [
      '/loki/api/v1/query_range',
      '/loki/api/v1/query',
      '/loki/api/v1/labels',
      '/loki/api/v1/label/job/values',
    ]) {
      expect(get(loki, path, { query: '{job="x"}' })).toEqual(noOrgId);
    }
    expect(loki.entryCount).toBe(0);
  });

  test('with auth enabled a tenant sees only its own streams and labels', () => {
    const loki = fakeLoki({ authEnabled: true });
    push(loki, [{ stream: { job: 'shared-name' }, values: [[ago(1), 'from a']] }], orgA);
    push(loki, [{ stream: { job: 'shared-name', team: 'b' }, values: [[ago(1), 'from b']] }], orgB);
    const query = { query: '{job="shared-name"}' };
    expect(queryRange(loki, query, orgA).flatMap(({ values }) => values.map(([, line]) => line))).toEqual(['from a']);
    expect(queryRange(loki, query, orgB).flatMap(({ values }) => values.map(([, line]) => line))).toEqual(['from b']);
    expect(queryRange(loki, query, { 'x-scope-orgid': 'team-c' })).toEqual([]);
    expect(JSON.parse(get(loki, '/loki/api/v1/labels', {}, orgA).body).data).toEqual(['job', 'service_name']);
    expect(JSON.parse(get(loki, '/loki/api/v1/labels', {}, orgB).body).data).toEqual(['job', 'service_name', 'team']);
  });

  test('with auth disabled the header is ignored and everything is one tenant', () => {
    const loki = fakeLoki({ authEnabled: false });
    push(loki, [{ stream: { job: 'x' }, values: [[ago(1), 'anyone']] }], orgA);
    expect(queryRange(loki, { query: '{job="x"}' }, orgB)[0]?.values).toEqual([[ago(1), 'anyone']]);
    expect(queryRange(loki, { query: '{job="x"}' })[0]?.values).toEqual([[ago(1), 'anyone']]);
  });

  test('/ready and buildinfo need no org id', () => {
    const loki = fakeLoki({ authEnabled: true });
    expect(get(loki, '/ready').status).toBe(200);
    expect(get(loki, '/loki/api/v1/status/buildinfo').status).toBe(200);
  });
});

describe('query parameter errors (plain text, no trailing newline)', () => {
  const loki = fakeLoki();
  test.each([
    [{ start: '2000', end: '1000' }, 'end timestamp must not be before or equal to start time'],
    [{ limit: '0' }, 'limit must be a positive value'],
    [{ limit: 'ten' }, 'strconv.Atoi: parsing "ten": invalid syntax'],
    [{ direction: 'sideways' }, "invalid direction 'sideways'"],
    [
      { start: 'yesterday' },
      `could not parse 'start' parameter: strconv.ParseInt: parsing "yesterday": invalid syntax`,
    ],
    [{ end: '1.2.3' }, `could not parse 'end' parameter: strconv.ParseFloat: parsing "1.2.3": invalid syntax`],
    [
      { end: '99999999999999999999' },
      `could not parse 'end' parameter: strconv.ParseInt: parsing "99999999999999999999": value out of range`,
    ],
    [{ end: '1.0e30' }, `could not parse 'end' parameter: floating point timestamp exceeds integer range`],
    [
      { end: '2024-02-30T00:00:00Z' },
      `could not parse 'end' parameter: strconv.ParseInt: parsing "2024-02-30T00:00:00Z": invalid syntax`,
    ],
    [{ since: 'a while' }, `could not parse 'since' parameter: not a valid duration string: "a while"`],
  ])('%j', (params, message) => {
    expect(get(loki, '/loki/api/v1/query_range', { query: '{job="x"}', ...params })).toEqual(textError(400, message));
  });

  test('parameters are checked before the query, as Loki does', () => {
    expect(get(loki, '/loki/api/v1/query_range', { query: '{}', limit: '-1' }).body).toBe(
      'limit must be a positive value',
    );
  });
});

describe('instant queries', () => {
  const loki = fakeLoki();
  push(loki, [{ stream: { job: 'i' }, values: [[ago(1), 'pushed']] }]);

  test('a log query is refused with 400, as Loki 3.x refuses log queries on /query', () => {
    const response = get(loki, '/loki/api/v1/query', {
      query: '{job="i"}',
      time: NOW.toString(),
      limit: '10',
      direction: 'forward',
    });
    expect(response).toEqual(
      textError(
        400,
        'log queries are not supported as an instant query type, please change your query to a range query type',
      ),
    );
  });

  test('parameters, then the query, are checked first', () => {
    expect(get(loki, '/loki/api/v1/query', { query: '{job="i"}', limit: 'x' }).body).toBe(
      'strconv.Atoi: parsing "x": invalid syntax',
    );
    expect(get(loki, '/loki/api/v1/query', { query: '{job="i"}', time: 'noon' }).body).toBe(
      'strconv.ParseInt: parsing "noon": invalid syntax',
    );
    expect(get(loki, '/loki/api/v1/query', { query: '{job="i"}', direction: 'up' }).body).toBe(
      "invalid direction 'up'",
    );
    expect(get(loki, '/loki/api/v1/query', { query: '{}' }).body).toBe(
      'parse error at line 1, col 2: syntax error: unexpected }, expecting IDENTIFIER',
    );
    expect(get(loki, '/loki/api/v1/query', { query: 'count_over_time({job="i"}[5m])' }).body).toMatch(
      /not implemented by this Loki test double/,
    );
  });
});

describe('label endpoints', () => {
  const loki = fakeLoki();
  push(loki, [
    { stream: { job: 'api', env: 'prod' }, values: [[ago(10), 'recent']] },
    { stream: { job: 'web', region: 'eu' }, values: [[ago(20), 'recent too']] },
    { stream: { job: 'batch', legacy: 'yes' }, values: [[ago(7200), 'two hours ago']] },
  ]);
  const data = (path: string, params: Record<string, string> = {}) => {
    const response = get(loki, path, params);
    expect(response.status).toBe(200);
    return JSON.parse(response.body);
  };

  test('names and values are sorted and cover the last hour by default', () => {
    expect(data('/loki/api/v1/labels')).toEqual({ status: 'success', data: ['env', 'job', 'region', 'service_name'] });
    expect(data('/loki/api/v1/label')).toEqual(data('/loki/api/v1/labels'));
    expect(data('/loki/api/v1/label/job/values')).toEqual({ status: 'success', data: ['api', 'web'] });
  });

  test('start, end and since widen or narrow the window', () => {
    expect(data('/loki/api/v1/label/job/values', { since: '3h' }).data).toEqual(['api', 'batch', 'web']);
    expect(data('/loki/api/v1/label/job/values', { start: ago(15), end: ago(5) }).data).toEqual(['api']);
  });

  test('the query parameter restricts the streams considered', () => {
    expect(data('/loki/api/v1/labels', { query: '{job="web"}' }).data).toEqual(['job', 'region', 'service_name']);
    expect(get(loki, '/loki/api/v1/labels', { query: '{job="web"} |= "x"' })).toEqual(
      textError(400, 'only label matchers are supported'),
    );
  });

  test('no labels or values means a response without data, as Loki omits it', () => {
    expect(get(loki, '/loki/api/v1/label/nope/values').body).toBe('{"status":"success"}');
    expect(get(fakeLoki(), '/loki/api/v1/labels').body).toBe('{"status":"success"}');
  });
});

describe('routing and status endpoints', () => {
  const loki = fakeLoki({ version: '3.5.1' });

  test('/ready answers as Go http.Error("ready", 200)', () => {
    expect(get(loki, '/ready')).toEqual(textError(200, 'ready\n'));
  });

  test('buildinfo reports the configured version, 3.7.8 by default', () => {
    const response = get(loki, '/loki/api/v1/status/buildinfo');
    expect(response.headers['content-type']).toBe('application/json');
    expect(Object.keys(JSON.parse(response.body))).toEqual([
      'version',
      'revision',
      'branch',
      'buildUser',
      'buildDate',
      'goVersion',
    ]);
    expect(JSON.parse(response.body).version).toBe('3.5.1');
    expect(JSON.parse(get(fakeLoki(), '/loki/api/v1/status/buildinfo').body).version).toBe('3.7.8');
  });

  test.each(['/', '/loki/api/v1/tail', '/loki/api/v1/labels/', '/ready/', '/loki/api/v1/label//values'])(
    '%s is 404',
    (path) => {
      expect(get(loki, path)).toEqual(textError(404, '404 page not found\n'));
    },
  );

  test.each([
    ['GET', '/loki/api/v1/push'],
    ['DELETE', '/loki/api/v1/query_range'],
    ['POST', '/ready'],
    ['PUT', '/loki/api/v1/label/job/values'],
  ])('%s %s is a bare 405', (method, path) => {
    const response = loki.handle({ method, path, query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) });
    expect(response).toEqual({ status: 405, headers: {}, body: '' });
  });
});

describe('patterns', () => {
  const patterns = (loki: FakeLoki, params: Record<string, string> = {}) =>
    get(loki, '/loki/api/v1/patterns', {
      query: '{job="api"}',
      start: ago(600),
      end: NOW.toString(),
      step: '60s',
      ...params,
    });
  const api = (lines: [number, string][]): Stream[] => [
    { stream: { job: 'api' }, values: lines.map(([seconds, line]) => [ago(seconds), line]) },
  ];

  test('without pattern_ingester.enabled the querier has no pattern querier: 404 with an empty body', () => {
    const loki = fakeLoki();
    push(loki, api([[30, 'GET /a/1 took 2ms']]));
    expect(patterns(loki)).toEqual(textError(404, ''));
  });

  test('enabled with no pattern ingester in the ring: 500 empty ring', () => {
    expect(patterns(fakeLoki({ patternIngesters: () => 'none' }))).toEqual(textError(500, 'empty ring'));
  });

  test('patterns of the lines teed while a pattern ingester ran, per step, the most frequent first', () => {
    let state: 'none' | 'running' = 'none';
    const loki = fakeLoki({ patternIngesters: () => state });
    push(loki, api([[500, 'GET /a/0 took 9ms']]));
    state = 'running';
    push(
      loki,
      api([
        [130, 'GET /a/1 took 2ms'],
        [70, 'GET /b/22 took 30ms'],
        [65, 'GET /c/3 took 1ms'],
        [40, 'worker idle'],
      ]),
    );
    push(loki, [{ stream: { job: 'other' }, values: [[ago(40), 'worker idle']] }]);
    const answer = patterns(loki);
    expect(answer.status).toBe(200);
    const minute = (secondsAgo: number) => Math.floor((NOW_MS / 1000 - secondsAgo) / 60) * 60;
    expect(JSON.parse(answer.body)).toEqual({
      status: 'success',
      data: [
        {
          pattern: 'GET <_> took <_>',
          level: 'unknown',
          samples: [
            [minute(130), 1],
            [minute(70), 2],
          ],
        },
        { pattern: 'worker idle', level: 'unknown', samples: [[minute(40), 1]] },
      ],
    });
    expect(patterns(loki, { query: 'job="api"' }).status).toBe(400);
  });
});
