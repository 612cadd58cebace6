// The LogQL the fake Loki evaluates (stream selectors and line filters), and the 400s it gives for
// everything else, through query_range as a client sees them.
import { FakeLoki } from '../../src/apiserver/loki/index.js';

const NOW_MS = Date.UTC(2024, 0, 15, 12, 0, 0);
const at = (secondsAgo: number) => (BigInt(NOW_MS - secondsAgo * 1000) * 1_000_000n).toString();

const loki = new FakeLoki({ authEnabled: false, now: () => NOW_MS });
loki.handle({
  method: 'POST',
  path: '/loki/api/v1/push',
  query: new URLSearchParams(),
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(
    JSON.stringify({
      streams: [
        {
          stream: { job: 'web', env: 'prod', team: 'a' },
          values: [
            [at(4), 'GET /index 200'],
            [at(3), 'GET /admin 500 error'],
          ],
        },
        { stream: { job: 'webserver', env: 'dev' }, values: [[at(4), 'started']] },
        {
          stream: { job: 'api', env: 'prod', team: 'b' },
          values: [
            [at(2), 'ERROR timeout'],
            [at(1), 'debug: ok'],
          ],
        },
        {
          stream: { job: 'worker', note: 'multi\nline' },
          values: [
            [at(1), 'tab\there'],
            [at(2), 'a\nb'],
          ],
        },
      ],
    }),
  ),
});

function rangeQuery(query: string) {
  return loki.handle({
    method: 'GET',
    path: '/loki/api/v1/query_range',
    query: new URLSearchParams({ query, direction: 'forward' }),
    headers: {},
    body: Buffer.alloc(0),
  });
}

function result(query: string): { stream: Record<string, string>; values: [string, string][] }[] {
  const response = rangeQuery(query);
  expect(response.status).toBe(200);
  return JSON.parse(response.body).data.result;
}

/** The `job` of every stream the query returns, sorted. */
const jobs = (query: string) =>
  result(query)
    .map(({ stream }) => stream.job)
    .sort();

/** Every line the query returns, oldest first. */
const lines = (query: string) =>
  result(query)
    .flatMap(({ values }) => values)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, line]) => line);

describe('label matchers', () => {
  test.each([
    ['{job="web"}', ['web']],
    ['{env="prod", job!="web"}', ['api']],
    ['{job=~"web"}', ['web']],
    ['{job=~"web.*"}', ['web', 'webserver']],
    ['{job=~"a|w.*er"}', ['webserver', 'worker']],
    ['{job=~".+", job!~"web.*"}', ['api', 'worker']],
    ['{job=~".+", team!="a"}', ['api', 'webserver', 'worker']],
    ['{job=~".+", team=""}', ['webserver', 'worker']],
    ['{job!=""}', ['api', 'web', 'webserver', 'worker']],
    ['{job=~"(?i)WEB"}', ['web']],
    ['{job=~"(?P<first>w)eb"}', ['web']],
    ['{job=~`w.+`}', ['web', 'webserver', 'worker']],
    ['{job="w\\x65b"}', ['web']],
    ['{job="\\u0077eb"}', ['web']],
    ['{note=~"multi.line"}', ['worker']],
    ['{ job = "web" ,\n env = "prod" }', ['web']],
  ])('%s selects %j', (query, expected) => {
    expect(jobs(query)).toEqual(expected);
  });
});

describe('line filters', () => {
  test.each([
    ['{env="prod"} |= "GET"', ['GET /index 200', 'GET /admin 500 error']],
    ['{env="prod"} != "GET"', ['ERROR timeout', 'debug: ok']],
    ['{env="prod"} |~ "[0-9]{3} error"', ['GET /admin 500 error']],
    ['{env="prod"} |~ "(?i)error"', ['GET /admin 500 error', 'ERROR timeout']],
    ['{env="prod"} !~ "(?i)error"', ['GET /index 200', 'debug: ok']],
    ['{env="prod"} |= "GET" != "admin"', ['GET /index 200']],
    ['{env="prod"} |~ "\\\\d+"', ['GET /index 200', 'GET /admin 500 error']],
    ['{job="worker"} |= "\\t"', ['tab\there']],
    ['{job="worker"} |~ "a.b"', []],
    ['{job="worker"} |= ""', ['a\nb', 'tab\there']],
  ])('%s', (query, expected) => {
    expect(lines(query)).toEqual(expected);
  });
});

describe('queries Loki rejects, with its messages', () => {
  const EMPTY_COMPATIBLE =
    'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. ' +
    'For instance, app=~".*" does not meet this requirement, but app=~".+" will';

  test.each([
    ['{}', 'parse error at line 1, col 2: syntax error: unexpected }, expecting IDENTIFIER'],
    ['job="x"', 'parse error at line 1, col 1: syntax error: unexpected IDENTIFIER'],
    ['', 'parse error : syntax error: unexpected $end'],
    ['{job="x"', 'parse error at line 1, col 9: syntax error: unexpected $end, expecting , or }'],
    ['{job="x",}', 'parse error at line 1, col 10: syntax error: unexpected }, expecting IDENTIFIER'],
    ['{job="x",\n  }', 'parse error at line 2, col 3: syntax error: unexpected }, expecting IDENTIFIER'],
    ['{job}', 'parse error at line 1, col 5: syntax error: unexpected }, expecting != or !~ or = or =~'],
    ['{job=x}', 'parse error at line 1, col 6: syntax error: unexpected IDENTIFIER, expecting STRING'],
    ['{job="x"} "y"', 'parse error at line 1, col 11: syntax error: unexpected STRING'],
    ['{job="x"} |= 5', 'parse error at line 1, col 14: syntax error: unexpected NUMBER, expecting STRING'],
    ['{job="x"}[5m]', 'parse error at line 1, col 10: syntax error: unexpected RANGE'],
    ['{job="x"} @', 'parse error at line 1, col 11: syntax error: unexpected character "@"'],
    ['{job="x}', 'parse error at line 1, col 6: literal not terminated'],
    ['{job="\\q"}', 'parse error at line 1, col 6: invalid char escape'],
    ['{job=~".*"}', EMPTY_COMPATIBLE],
    ['{job!="x"}', EMPTY_COMPATIBLE],
    ['{job=~".*", env!~"prod"}', EMPTY_COMPATIBLE],
  ])('%j', (query, message) => {
    expect(rangeQuery(query)).toEqual({
      status: 400,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
      body: message,
    });
  });

  test.each(['{job=~"("}', '{job="x"} |~ "["'])('an invalid regexp: %s', (query) => {
    expect(rangeQuery(query)).toMatchObject({
      status: 400,
      body: expect.stringMatching(/^parse error : error parsing regexp: /),
    });
  });
});

describe('valid LogQL this double does not evaluate', () => {
  test('a metric query gets a 400 that says so', () => {
    expect(rangeQuery('rate({job="web"}[5m])').body).toBe(
      'parse error : metric queries (`rate(...)`) are not implemented by this Loki test double; ' +
        'it evaluates stream selectors with |=, !=, |~ and !~ line filters only',
    );
  });

  test.each([
    'sum by (job) (count_over_time({job="web"}[1m]))',
    '1 + 1',
    '({job="web"})',
    '{job="web"} | json',
    '{job="web"} | level="error"',
    '{job="web"} |> "<_> error"',
    '{job="web"} |= "a" or "b"',
    '{job="web"} |= ip("10.0.0.1")',
    '{job=~"(?U)w.*"}',
  ])('%s', (query) => {
    expect(rangeQuery(query)).toMatchObject({
      status: 400,
      body: expect.stringMatching(/^parse error : .*(not implemented|not supported) by this Loki test double/),
    });
  });
});
