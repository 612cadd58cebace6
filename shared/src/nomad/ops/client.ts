// The only place that talks to Nomad's HTTP API: address and ACL token from the environment like the
// nomad CLI (NOMAD_ADDR, NOMAD_TOKEN, NOMAD_NAMESPACE, NOMAD_REGION) or explicit options, blocking
// queries, and the same retry rules as the Kubernetes side (transient errors retried within a budget,
// permanent ones at once with Nomad's own message). The token is sent as X-Nomad-Token and never logged.
import { ClusterError } from '../../errors.js';
import { registerSecret } from '../../redact.js';

export interface NomadConnectionOptions {
  /** @default $NOMAD_ADDR, else http://127.0.0.1:4646 */
  address?: string;
  /** ACL token. @default $NOMAD_TOKEN */
  token?: string;
  /** @default $NOMAD_REGION, else the agent's region */
  region?: string;
}

export class NomadApiError extends ClusterError {
  constructor(message: string, code?: number) {
    super(message, code, code === 404 ? 'NotFound' : code === 403 ? 'Forbidden' : undefined);
    this.name = 'NomadApiError';
  }
}

export interface NomadResponse<T> {
  body: T;
  /** X-Nomad-Index: pass it back as `index` to block until something changes. */
  index: number;
}

export interface RequestOptions {
  namespace?: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Blocking query: answer only once the index is past this one, or after `waitMs`. */
  index?: number;
  waitMs?: number;
  signal?: AbortSignal;
}

const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);
const ATTEMPTS = 6;
/** How long a request may take; a blocking query gets its wait on top. */
const REQUEST_TIMEOUT_MS = 30_000;

export class NomadClient {
  readonly address: string;
  readonly #token: string | undefined;
  readonly #region: string | undefined;

  constructor(options: NomadConnectionOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    const address = options.address ?? env.NOMAD_ADDR ?? 'http://127.0.0.1:4646';
    if (!/^https?:\/\/[^/]+\/?$/.test(address))
      throw new NomadApiError(
        `Nomad address must be http(s)://host:port, not "${address}" (NOMAD_ADDR or --nomad-addr)`,
      );
    this.address = address.replace(/\/$/, '');
    this.#token = options.token ?? (env.NOMAD_TOKEN || undefined);
    registerSecret(this.#token);
    this.#region = options.region ?? (env.NOMAD_REGION || undefined);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<NomadResponse<T>> {
    const url = new URL(`${this.address}${path}`);
    const query = {
      ...options.query,
      namespace: options.namespace,
      region: this.#region,
      index: options.index !== undefined ? String(options.index) : undefined,
      wait: options.index !== undefined ? `${Math.ceil((options.waitMs ?? 30_000) / 1000)}s` : undefined,
    };
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    const what = `${method} ${path}`;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            ...(this.#token ? { 'X-Nomad-Token': this.#token } : {}),
            ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
          signal: AbortSignal.any([
            AbortSignal.timeout(REQUEST_TIMEOUT_MS + (options.index !== undefined ? (options.waitMs ?? 30_000) : 0)),
            ...(options.signal ? [options.signal] : []),
          ]),
        });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        if (attempt >= ATTEMPTS)
          throw new NomadApiError(
            `${what}: cannot reach Nomad at ${this.address}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
          );
        await backoff(attempt);
        continue;
      }
      const text = await response.text();
      if (response.ok) {
        return {
          body: (text ? JSON.parse(text) : null) as T,
          index: Number(response.headers.get('x-nomad-index') ?? 0),
        };
      }
      if (TRANSIENT_STATUS.has(response.status) && attempt < ATTEMPTS) {
        await backoff(attempt);
        continue;
      }
      throw new NomadApiError(`${what}: ${describe(response.status, text.trim())}`, response.status);
    }
  }
}

function describe(status: number, text: string): string {
  if (status === 403)
    return `${text || 'Permission denied'} (HTTP 403): set NOMAD_TOKEN to an ACL token allowed to submit and read jobs in this namespace`;
  return `${text || 'no message'} (HTTP ${status})`;
}

const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.min(4000, 200 * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4)));
