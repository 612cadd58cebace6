import { InputError } from '@backstage/errors';
import { isDuration, parseDurationMs } from 'loki-microservices';

/** A duration input such as 90s, 10m or 1h30m, in milliseconds. */
export function timeoutMs(value: string, input = 'timeout'): number {
  if (!isDuration(value) || parseDurationMs(value) === 0) throw new InputError(`input ${input} must be a duration such as 90s, 10m or 1h30m, not "${value}"`);
  return parseDurationMs(value);
}
