import { isDuration, isQuantity, parseDurationMs, parseQuantity, parseTimeoutMs } from '../../src/spec/quantity.js';

test.each([
  ['500m', 0.5],
  ['2', 2],
  ['1.5', 1.5],
  ['128Mi', 128 * 2 ** 20],
  ['1Gi', 2 ** 30],
  ['10G', 10e9],
  ['.5Ki', 512],
])('quantity %s is %d', (text, value) => {
  expect(isQuantity(text)).toBe(true);
  expect(parseQuantity(text)).toBeCloseTo(value);
});

test.each(['', '10GB', '1 Gi', '-1', 'Gi', '1e3', 'lots'])('%p is not a quantity', (text) => {
  expect(isQuantity(text)).toBe(false);
  expect(() => parseQuantity(text)).toThrow();
});

test.each([
  ['0', 0],
  ['24h', 86_400_000],
  ['7d', 7 * 86_400_000],
  ['1w2d', 9 * 86_400_000],
  ['1h30m', 5_400_000],
  ['500ms', 500],
])('duration %s is %d ms', (text, ms) => {
  expect(isDuration(text)).toBe(true);
  expect(parseDurationMs(text)).toBe(ms);
});

test.each(['', '7days', '1.5h', '30m1h', 'h', '-1h'])('%p is not a duration', (text) => {
  expect(isDuration(text)).toBe(false);
});

// The one parser of every timeout: the CLI's --timeout, the Action's and the scaffolder's timeout inputs.
test.each([
  ['90s', 90_000],
  ['1h30m', 5_400_000],
  ['500ms', 500],
  ['1d', 86_400_000],
])('timeout %s is %d ms', (text, ms) => {
  expect(parseTimeoutMs(text)).toBe(ms);
});

test.each(['0', '', 'ten', '1.5m', '30m1h'])('%p is not a timeout', (text) => {
  expect(parseTimeoutMs(text)).toBeUndefined();
});
