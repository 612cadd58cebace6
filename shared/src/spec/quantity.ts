// Kubernetes resource quantities ("500m", "2Gi") and Prometheus-style durations ("168h", "7d"),
// the two value formats the spec shares with Kubernetes and Loki.

const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SUFFIX_FACTOR: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function isQuantity(value: string): boolean {
  return QUANTITY.test(value);
}

/** The quantity in base units: cores for CPU, bytes for memory and storage. */
export function parseQuantity(value: string): number {
  const match = QUANTITY.exec(value);
  if (!match) throw new Error(`not a quantity: ${value}`);
  return Number(match[1]) * SUFFIX_FACTOR[match[2] ?? '']!;
}

// model.Duration as Loki parses it: units in decreasing order, each at most once.
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

export function isDuration(value: string): boolean {
  return value === '0' || (value !== '' && DURATION.test(value));
}

export function parseDurationMs(value: string): number {
  if (value === '0') return 0;
  const match = DURATION.exec(value);
  if (!match || value === '') throw new Error(`not a duration: ${value}`);
  return DURATION_UNIT_MS.reduce((total, unitMs, i) => total + Number(match[i + 1] ?? 0) * unitMs, 0);
}

/** How a timeout is written: every surface says the same when it is not one. */
export const TIMEOUT_EXAMPLES = 'a duration such as 90s, 10m or 1h30m';

/** A timeout (a duration as Loki writes them, not 0) in milliseconds; undefined when `text` is not one. */
export function parseTimeoutMs(text: string): number | undefined {
  return isDuration(text) && parseDurationMs(text) > 0 ? parseDurationMs(text) : undefined;
}
