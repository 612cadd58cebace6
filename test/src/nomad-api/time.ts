// Nomad's two ways of writing time: int64 nanoseconds since the epoch (CreateTime, event Time) and Go's
// time.Time JSON (RFC 3339 in UTC, "0001-01-01T00:00:00Z" when unset).

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export const nowNs = (): number => Date.now() * 1e6;

/** A time in milliseconds as Go marshals a UTC time.Time: the fraction's trailing zeros dropped. */
export function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d*?)0*Z$/, (_match, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

export const parseGoTime = (text: string): number => (text === ZERO_TIME ? 0 : Date.parse(text));
