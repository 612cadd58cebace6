// Go's time.Duration as Nomad's job JSON carries it: integer nanoseconds, written in job files as Go
// duration strings ("10s", "1h30m", "250ms") and printed in Nomad's messages in Go's format ("30m0s").

const NANOS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
// Longer units first where they share a prefix: "ms" before "m", so that "30ms" is not 30 minutes and an "s".
const UNIT = /(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/y;

/** Nanoseconds of a Go duration string, or undefined when time.ParseDuration would refuse it. */
export function parseGoDuration(text: string): number | undefined {
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  if (body === '0') return 0;
  if (body === '') return undefined;
  let total = 0;
  let at = 0;
  while (at < body.length) {
    UNIT.lastIndex = at;
    const match = UNIT.exec(body);
    if (!match || match[1] === '' || match[1] === '.') return undefined;
    total += Number(match[1]) * NANOS[match[2]!]!;
    at = UNIT.lastIndex;
  }
  return sign * Math.round(total);
}

/** Go's Duration.String(): "250ms", "15s", "1m30s", "30m0s", "1h0m0s". */
export function formatGoDuration(nanoseconds: number): string {
  if (nanoseconds === 0) return '0s';
  const sign = nanoseconds < 0 ? '-' : '';
  let rest = Math.abs(nanoseconds);
  if (rest < 1e3) return `${sign}${rest}ns`;
  if (rest < 1e6) return `${sign}${decimal(rest / 1e3)}µs`;
  if (rest < 1e9) return `${sign}${decimal(rest / 1e6)}ms`;
  const hours = Math.floor(rest / 3600e9);
  rest -= hours * 3600e9;
  const minutes = Math.floor(rest / 60e9);
  rest -= minutes * 60e9;
  return `${sign}${hours ? `${hours}h` : ''}${hours || minutes ? `${minutes}m` : ''}${decimal(rest / 1e9)}s`;
}

const decimal = (value: number) => String(Number(value.toFixed(9)));
