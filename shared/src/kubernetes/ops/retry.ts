// Every API call goes through here: transient failures (429, 5xx, a reset or refused connection, a
// timeout) are retried with exponential backoff and jitter, a bounded number of times or, when the
// operation has a deadline, until it; permanent ones (400, 401, 403, 404, 409, 422) fail at once, carrying
// the API's own message.
import { ApiException } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. @default 8 */
  attempts: number;
  /** Delay before the first retry; it doubles each time. @default 250 */
  baseDelayMs: number;
  /** Longest single delay. @default 5000 */
  maxDelayMs: number;
  /**
   * When the operation must be over (epoch ms): transient failures are retried until then, however many
   * attempts that takes (an API server restarting for a minute is survived by a ten-minute apply).
   */
  deadline?: number;
}

/** The policy, retrying until `deadline` rather than a number of times. */
export const until = (deadline: number, policy: RetryPolicy = DEFAULT_RETRY): RetryPolicy => ({ ...policy, deadline });

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 5000 };

const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);
const TRANSIENT_NETWORK = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|socket hang up|network timeout/i;

interface ApiStatus {
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string; field?: string }[] };
}

/** The Status object an ApiException carries (client-node hands the body over as a string). */
export function statusOf(error: unknown): ApiStatus | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = error.body;
  if (body && typeof body === 'object') return body as ApiStatus;
  try {
    return JSON.parse(String(body)) as ApiStatus;
  } catch {
    return undefined;
  }
}

export function isTransient(error: unknown): boolean {
  if (error instanceof ApiException) return TRANSIENT_STATUS.has(error.code);
  if (error instanceof ClusterError)
    return error.code === undefined
      ? TRANSIENT_NETWORK.test(error.message) || error.reason === 'Timeout'
      : TRANSIENT_STATUS.has(error.code);
  if (isTimeout(error)) return true;
  const text = `${(error as { code?: unknown })?.code ?? ''} ${(error as Error)?.message ?? ''}`;
  return TRANSIENT_NETWORK.test(text);
}

/** A request given up by its timeout signal (node-fetch's AbortError, or the signal's TimeoutError). */
const isTimeout = (error: unknown) =>
  (error as Error | undefined)?.name === 'AbortError' || (error as Error | undefined)?.name === 'TimeoutError';

/** The failure as a ClusterError that says what was being done and what the API answered. */
export function toClusterError(error: unknown, what: string): ClusterError {
  if (error instanceof ClusterError) return error;
  if (error instanceof ApiException) {
    const status = statusOf(error);
    const message =
      status?.message ??
      (error.code === 401 ? 'Unauthorized: the credentials in the kubeconfig were refused' : `HTTP ${error.code}`);
    return new ClusterError(`${what}: ${message}`, error.code, status?.reason);
  }
  if (isTimeout(error)) return new ClusterError(`${what}: the API server did not answer in time`, undefined, 'Timeout');
  return new ClusterError(`${what}: ${(error as Error)?.message ?? String(error)}`);
}

export async function withRetry<T>(
  what: string,
  call: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delay = delayFor(error, attempt, policy);
      const spent = policy.deadline === undefined ? attempt >= policy.attempts : Date.now() + delay > policy.deadline;
      if (!isTransient(error) || spent) throw toClusterError(error, what);
      await sleep(delay);
    }
  }
}

function delayFor(error: unknown, attempt: number, policy: RetryPolicy): number {
  const retryAfter =
    error instanceof ApiException
      ? Number((error.headers as Record<string, string> | undefined)?.['retry-after'])
      : NaN;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = backoff * (0.8 + Math.random() * 0.4);
  return Number.isFinite(retryAfter) && retryAfter > 0
    ? Math.max(jittered, Math.min(retryAfter * 1000, policy.maxDelayMs))
    : jittered;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
