import { InputError } from '@backstage/errors';
import { parseTimeoutMs, TIMEOUT_EXAMPLES } from 'loki-microservices';

/** A duration input such as 90s, 10m or 1h30m, in milliseconds. */
export function timeoutMs(value: string, input = 'timeout'): number {
  const ms = parseTimeoutMs(value);
  if (ms === undefined) throw new InputError(`input ${input} must be ${TIMEOUT_EXAMPLES}, not "${value}"`);
  return ms;
}
