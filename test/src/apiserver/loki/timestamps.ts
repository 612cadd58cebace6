// Time parameters as Loki 3.x reads them (pkg/loghttp/params.go), in nanoseconds since the epoch as bigint.
// A value is tried as RFC 3339 first; then, if it has a dot, as float seconds (nanoseconds when the
// integer part exceeds 1e10) rounded to the millisecond; else as an integer, seconds up to 1e10 and
// nanoseconds above. Error texts are Go's strconv messages, which is what Loki returns.

export const NS_PER_MS = 1_000_000n;
export const NS_PER_SECOND = 1_000_000_000n;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SECONDS_CUTOFF = 1e10;

/** Parses one timestamp; throws an Error whose message is Loki's. */
export function parseTimestamp(value: string): bigint {
  const rfc3339 = parseRfc3339Nano(value);
  if (rfc3339 !== undefined) return rfc3339;
  return value.includes('.') ? parseFloatTimestamp(value) : parseIntegerTimestamp(value);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

function parseRfc3339Nano(value: string): bigint | undefined {
  const match = RFC3339.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeapYear(year) ? 1 : 0);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  // Go keeps at most nine fractional digits and drops the rest.
  const fraction = BigInt((match[7] ?? '').slice(0, 9).padEnd(9, '0'));
  return BigInt(date.getTime()) * NS_PER_MS + fraction - zoneOffsetNs(match[8] ?? 'Z');
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function zoneOffsetNs(zone: string): bigint {
  if (zone === 'Z') return 0n;
  const sign = zone.startsWith('-') ? -1n : 1n;
  const minutes = BigInt(Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return sign * minutes * 60n * NS_PER_SECOND;
}

const DECIMAL_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseFloatTimestamp(value: string): bigint {
  if (!DECIMAL_FLOAT.test(value))
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`);
  const number = Number(value);
  if (!Number.isFinite(number))
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(value)}: value out of range`);
  const high = Math.trunc(number);
  if (high > Number(INT64_MAX) || high < Number(INT64_MIN))
    throw new Error('floating point timestamp exceeds integer range');
  if (high > SECONDS_CUTOFF) return BigInt(high);
  const milliseconds = Math.round((number - high) * 1000);
  return BigInt(high) * NS_PER_SECOND + BigInt(milliseconds) * NS_PER_MS;
}

function parseIntegerTimestamp(value: string): bigint {
  const number = parseInt64(value, 'ParseInt');
  return number > BigInt(SECONDS_CUTOFF) ? number : number * NS_PER_SECOND;
}

/** Go's strconv.ParseInt(value, 10, 64) (or Atoi), with its error texts. */
export function parseInt64(value: string, goFunction: 'ParseInt' | 'Atoi'): bigint {
  const quoted = JSON.stringify(value);
  if (!/^[+-]?\d+$/.test(value)) throw new Error(`strconv.${goFunction}: parsing ${quoted}: invalid syntax`);
  const number = BigInt(value);
  if (number < INT64_MIN || number > INT64_MAX)
    throw new Error(`strconv.${goFunction}: parsing ${quoted}: value out of range`);
  return number;
}

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_NS = [365n * 86_400n, 7n * 86_400n, 86_400n, 3_600n, 60n, 1n].map(
  (seconds) => seconds * NS_PER_SECOND,
);

/** Prometheus' model.ParseDuration (`1h30m`, `7d`, `500ms`), in nanoseconds. */
export function parseDuration(value: string): bigint {
  const match = DURATION.exec(value);
  if (value === '0') return 0n;
  if (value === '' || !match) throw new Error(`not a valid duration string: ${JSON.stringify(value)}`);
  const units = [...DURATION_UNITS_NS, NS_PER_MS];
  return units.reduce((total, unit, index) => total + BigInt(match[index + 1] ?? '0') * unit, 0n);
}
