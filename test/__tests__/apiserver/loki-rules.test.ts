// The fake ruler's view of rule files: the groups of each file in the rules API's shape, and the expression
// check that marks a rule Loki could not parse.
import { expressionError, ruleGroups } from '../../src/apiserver/loki/rules.js';

test.each([
  'count_over_time({job="smoke"}[5m]) > 0',
  'sum by (app) (rate({app="shop"} |= "error" [5m]))',
  'sum(rate({app="shop"} |= "error" [5m])) / sum(rate({app="shop"}[5m])) > 0.05',
  'topk(3, sum without (pod) (bytes_over_time({namespace=~"prod|dev"} !~ `debug` [1h])))',
  'absent_over_time({job="a"}[15m])',
  '(count_over_time({a="b"}[1m]) > bool 2) * 10',
])('parses: %s', (expr) => {
  expect(expressionError(expr)).toBeUndefined();
});

test.each([
  ['count_over_time({app="shop"[5m]) > 0', /^parse error at line 1, col \d+: syntax error/],
  [
    'count_over_time({app="shop"}) > 0',
    /^parse error at line 1, col \d+: syntax error: unexpected \$end, expecting \[/,
  ],
  ['rate({app="shop"}[5 minutes])', /^parse error at line 1, col \d+: not a valid duration string: "5 minutes"/],
  ['sum(rate({app="shop"}[5m])', /^parse error at line 1, col \d+: syntax error: unexpected \$end, expecting \)/],
  ['increase({app="shop"}[5m])', /^parse error at line 1, col 1: syntax error: unexpected increase/],
  ['', /^parse error at line 1, col 1: syntax error: unexpected \$end/],
  ['count_over_time({app=~".*"}[5m])', /^parse error : queries require at least one regexp or equality matcher/],
])('refuses %s', (expr, message) => {
  expect(expressionError(expr)).toMatch(message);
});

test('groups in the rules API shape: each rule healthy or with its parse error, the file as its name', () => {
  const text = [
    'groups:',
    '  - name: shop',
    '    interval: 1m30s',
    '    rules:',
    '      - record: shop:lines',
    '        expr: \'sum(count_over_time({app="shop"}[1m]))\'',
    '      - alert: Typo',
    '        expr: \'rate({app="shop"}[5m]\'',
    '        for: 5m',
    '        annotations: { summary: "{{ $labels.app }}" }',
  ].join('\n');
  expect(
    ruleGroups([
      { name: 'rules__shop.yaml', text },
      { name: 'broken.yaml', text: 'groups: [' },
    ]),
  ).toEqual([
    {
      name: 'shop',
      file: 'rules__shop.yaml',
      interval: 90,
      limit: 0,
      evaluationTime: 0,
      lastEvaluation: '0001-01-01T00:00:00Z',
      rules: [
        {
          name: 'shop:lines',
          query: 'sum(count_over_time({app="shop"}[1m]))',
          labels: {},
          health: 'ok',
          lastError: '',
          evaluationTime: 0,
          type: 'recording',
        },
        {
          state: 'inactive',
          name: 'Typo',
          query: 'rate({app="shop"}[5m]',
          duration: 300,
          labels: {},
          annotations: { summary: '{{ $labels.app }}' },
          alerts: [],
          health: 'err',
          lastError: expect.stringMatching(
            /^parse error at line 1, col \d+: syntax error: unexpected \$end, expecting \)/,
          ),
          evaluationTime: 0,
          type: 'alerting',
        },
      ],
    },
  ]);
});
