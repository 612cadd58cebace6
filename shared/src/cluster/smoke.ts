// smoke: push a unique log line to the distributor and read it back through the query-frontend, through
// the API server's service proxy (so that it works from a CI runner without port-forwarding), retrying
// until it succeeds or time runs out.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { ClusterError } from '../errors.js';
import { PORTS } from '../render/kubernetes/common.js';
import type { LokiStack } from '../spec/schema.js';
import type { Connection } from './connection.js';
import type { StackRef } from './status.js';

export interface SmokeOptions {
  /** Give up after this long. @default 120000 */
  timeoutMs?: number;
  /** Pause between attempts. @default 1000 */
  intervalMs?: number;
  /** `X-Scope-OrgID` to send when the stack is multi-tenant. */
  tenant?: string;
}

export interface SmokeResult {
  /** From the push being accepted to the line being found by a query. */
  latencyMs: number;
  /** From the first attempt to the end, retries included. */
  durationMs: number;
  line: string;
  tenant: string | null;
}

/** Push or query did not succeed in time; the message says which and what came back. */
export class SmokeTestError extends ClusterError {
  override name = 'SmokeTestError';
}

/** The tenant our smoke test writes as: the spec's tenant when the stack is multi-tenant. */
export function smokeTenant(stack: LokiStack): string | undefined {
  return stack.spec.auth.enabled ? stack.spec.auth.tenant : undefined;
}

interface Answer {
  status: number;
  body: string;
}

export async function smokeTest(connection: Connection, ref: StackRef, options: SmokeOptions = {}): Promise<SmokeResult> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 120_000);
  const interval = options.intervalMs ?? 1000;
  const id = randomUUID();
  const line = `loki-microservices smoke test ${id}`;
  const proxy = (component: string, path: string) =>
    `/api/v1/namespaces/${ref.namespace}/services/${ref.name}-${component}:${PORTS.http.name}/proxy${path}`;
  const headers = { 'Content-Type': 'application/json', ...(options.tenant ? { 'X-Scope-OrgID': options.tenant } : {}) };
  const pushedAt = `${Date.now()}000000`;
  const push = JSON.stringify({ streams: [{ stream: { job: 'loki-microservices-smoke', smoke_id: id }, values: [[pushedAt, line]] }] });

  let last = 'no attempt was made';
  const attempt = async (what: string, call: () => Promise<Answer>, accept: (answer: Answer) => boolean): Promise<void> => {
    for (;;) {
      const answer = await call().catch((error: Error) => ({ status: 0, body: error.message }));
      if (accept(answer)) return;
      last = `${what} answered ${answer.status ? `HTTP ${answer.status}` : 'no response'}: ${answer.body.trim().slice(0, 300)}`;
      // No credentials or no access (Loki's tenant header, the API server's RBAC): waiting will not change that.
      if (answer.status === 401 || answer.status === 403) throw new SmokeTestError(`smoke test failed: ${last}`);
      if (Date.now() + interval > deadline) throw new SmokeTestError(`smoke test failed within ${options.timeoutMs ?? 120_000} ms: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  };

  await attempt('the push to the distributor', () => send(connection, 'POST', proxy('distributor', '/loki/api/v1/push'), headers, push), (a) => a.status === 204 || a.status === 200);
  const accepted = Date.now();
  // Loki reads a start of up to 10 digits as seconds: five minutes before the push.
  const query = new URLSearchParams({ query: `{smoke_id="${id}"}`, start: String(Math.floor(started / 1000) - 300), limit: '10' });
  await attempt(
    'the query through the query-frontend',
    () => send(connection, 'GET', proxy('query-frontend', `/loki/api/v1/query_range?${query}`), headers),
    (a) => a.status === 200 && a.body.includes(line),
  );
  const found = Date.now();
  return { latencyMs: found - accepted, durationMs: found - started, line, tenant: options.tenant ?? null };
}

/** A request to the API server with the kubeconfig's credentials and TLS settings. */
async function send(connection: Connection, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const url = new URL(path, connection.server);
  const options: RequestOptions = { method, headers: { ...headers, ...(body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) } };
  await connection.kubeConfig.applyToHTTPSOptions(options);
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { ...options, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}
