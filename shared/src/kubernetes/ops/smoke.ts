// smoke: push a unique log line and read it back, retrying until it succeeds or time runs out. Without a
// gateway: to the distributor and through the query-frontend by the API server's service proxy (so that it
// works from a CI runner without port-forwarding). With the gateway: through it, authenticated as a tenant,
// over a port-forward to a gateway pod, because the API server drops the Authorization header of proxied
// requests; and a request without credentials must be refused first. Every read and request is retried
// until the smoke test's deadline (a ready gateway pod is picked again after a failed forward); only a
// refusal of credentials or access ends it early.
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequestArgs } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { ClusterError } from '../../errors.js';
import { assertStackRef } from '../../stack/names.js';
import { describeError } from '../../redact.js';
import { GATEWAY, PORTS } from '../render/common.js';
import { gatewayPasswordsSecretName, gatewaySmokeUser } from '../render/components/gateway.js';
import { GATEWAY_PORT } from '../render/gateway-config.js';
import type { LokiStack } from '../../spec/schema.js';
import type { Connection } from './connection.js';
import { readyPodOf } from './forward.js';
import { openPortForward } from './port-forward.js';
import { until, withRetry, type RetryPolicy } from './retry.js';
import { secretValues } from './secret-values.js';
import type { StackRef } from './status.js';

export interface SmokeOptions {
  /** Give up after this long. @default 120000 */
  timeoutMs?: number;
  /** Pause between attempts. @default 1000 */
  intervalMs?: number;
  /** `X-Scope-OrgID` to send when the stack is multi-tenant (the gateway sets it from `gateway.user`). */
  tenant?: string;
  /** Go through the stack's gateway as this user, whose password is in the Secret `passwordsSecret`. */
  gateway?: { user: string; passwordsSecret: string };
}

export interface SmokeResult {
  /** From the push being accepted to the line being found by a query. */
  latencyMs: number;
  /** From the first attempt to the end, retries included. */
  durationMs: number;
  line: string;
  tenant: string | null;
  /** `services` (the distributor and query-frontend through the API server's proxy) or `gateway`. */
  through: 'services' | 'gateway';
}

/** Push or query did not succeed in time; the message says which and what came back. */
export class SmokeTestError extends ClusterError {
  override name = 'SmokeTestError';
}

/** The tenant our smoke test writes as: the spec's tenant when the stack is multi-tenant. */
export function smokeTenant(stack: LokiStack): string | undefined {
  return stack.spec.auth.enabled ? stack.spec.auth.tenant : undefined;
}

/** How to smoke-test this stack: as its tenant, and through its gateway when it has one. */
export function smokeOptionsOf(stack: LokiStack): Pick<SmokeOptions, 'tenant' | 'gateway'> {
  const gateway = stack.spec.gateway.enabled
    ? { gateway: { user: gatewaySmokeUser(stack), passwordsSecret: gatewayPasswordsSecretName(stack) } }
    : {};
  const user = gateway.gateway?.user;
  const tenant = stack.spec.auth.enabled ? (user ?? stack.spec.auth.tenant) : undefined;
  return { ...(tenant ? { tenant } : {}), ...gateway };
}

/** One line for a passed smoke test. */
export function smokePassed(result: SmokeResult): string {
  return `smoke test passed${result.through === 'gateway' ? ' through the gateway' : ''}: the log line was read back ${result.latencyMs} ms after its push (${result.durationMs} ms in all)`;
}

export interface Answer {
  status: number;
  body: string;
}

/** Sends one request to a Loki component, whichever way the smoke test reaches the stack. */
type Send = (
  method: string,
  component: 'distributor' | 'query-frontend',
  path: string,
  headers: Record<string, string>,
  body?: string,
) => Promise<Answer>;

export async function smokeTest(
  connection: Connection,
  ref: StackRef,
  options: SmokeOptions = {},
): Promise<SmokeResult> {
  assertStackRef(ref);
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = started + timeoutMs;
  const interval = options.intervalMs ?? 1000;
  const id = randomUUID();
  const line = `loki-microservices smoke test ${id}`;
  const retry = until(deadline);
  const gateway = options.gateway ? await openGateway(connection, ref, options.gateway, retry) : undefined;
  const send: Send = gateway
    ? gateway.send
    : (method, component, path, headers, body) =>
        sendToApiServer(
          connection,
          method,
          `/api/v1/namespaces/${ref.namespace}/services/${ref.name}-${component}:${PORTS.http.name}/proxy${path}`,
          headers,
          body,
        );
  const headers = {
    'Content-Type': 'application/json',
    ...(options.tenant && !gateway ? { 'X-Scope-OrgID': options.tenant } : {}),
  };
  const pushedAt = `${Date.now()}000000`;
  const push = JSON.stringify({
    streams: [{ stream: { job: 'loki-microservices-smoke', smoke_id: id }, values: [[pushedAt, line]] }],
  });
  const via = gateway ? ' through the gateway' : '';

  let last = 'no attempt was made';
  const attempt = async (
    what: string,
    call: () => Promise<Answer>,
    accept: (answer: Answer) => boolean,
    giveUpOn: (status: number) => boolean = (status) => status === 401 || status === 403,
  ): Promise<void> => {
    for (;;) {
      const answer = await call().catch((error: unknown) => {
        if (error instanceof SmokeTestError) throw error;
        return { status: 0, body: describeError(error) };
      });
      if (accept(answer)) return;
      last = `${what} answered ${answer.status ? `HTTP ${answer.status}` : 'no response'}: ${answer.body.trim().slice(0, 300)}`;
      // No credentials or no access (Loki's tenant header, the gateway, the API server's RBAC): waiting will not change that.
      if (giveUpOn(answer.status)) throw new SmokeTestError(`smoke test failed: ${last}`);
      if (Date.now() + interval > deadline)
        throw new SmokeTestError(`smoke test failed within ${timeoutMs} ms: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  };

  if (gateway) {
    // The gateway must refuse a push without credentials before we trust it with ours.
    await attempt(
      'a push without credentials, which the gateway must refuse with 401,',
      () => gateway.sendAnonymous('POST', '/loki/api/v1/push', headers, push),
      (a) => a.status === 401,
      (status) => status >= 200 && status < 300,
    );
  }
  await attempt(
    `the push to the distributor${via}`,
    () => send('POST', 'distributor', '/loki/api/v1/push', headers, push),
    (a) => a.status === 204 || a.status === 200,
  );
  const accepted = Date.now();
  // Loki reads a start of up to 10 digits as seconds: five minutes before the push.
  const query = new URLSearchParams({
    query: `{smoke_id="${id}"}`,
    start: String(Math.floor(started / 1000) - 300),
    limit: '10',
  });
  await attempt(
    `the query through the query-frontend${via}`,
    () => send('GET', 'query-frontend', `/loki/api/v1/query_range?${query}`, headers),
    (a) => a.status === 200 && a.body.includes(line),
  );
  const found = Date.now();
  return {
    latencyMs: found - accepted,
    durationMs: found - started,
    line,
    tenant: options.tenant ?? null,
    through: gateway ? 'gateway' : 'services',
  };
}

interface GatewayClient {
  send: Send;
  sendAnonymous: (method: string, path: string, headers: Record<string, string>, body?: string) => Promise<Answer>;
}

/**
 * Requests to the gateway port of a ready gateway pod, each over its own port-forward (as `kubectl
 * port-forward` does, over the API server's WebSocket port-forward), and the user's Basic credentials, read
 * from the passwords Secret. A forward that fails sends the next request to a ready pod picked again.
 */
async function openGateway(
  connection: Connection,
  ref: StackRef,
  gateway: NonNullable<SmokeOptions['gateway']>,
  retry: RetryPolicy,
): Promise<GatewayClient> {
  const secretName = `Secret ${ref.namespace}/${gateway.passwordsSecret}`;
  const secret = await withRetry(
    `reading ${secretName}`,
    () => connection.core.readNamespacedSecret({ name: gateway.passwordsSecret, namespace: ref.namespace }),
    retry,
  ).catch((error: unknown) => {
    const code = error instanceof ClusterError ? error.code : undefined;
    throw new SmokeTestError(
      `smoke test failed: cannot read the gateway passwords from ${secretName}${code ? ` (HTTP ${code})` : `: ${describeError(error)}`}`,
      code,
    );
  });
  const password = secretValues(secret)[gateway.user];
  if (!password)
    throw new SmokeTestError(`smoke test failed: ${secretName} has no password for the gateway user "${gateway.user}"`);
  const authorization = `Basic ${Buffer.from(`${gateway.user}:${password}`).toString('base64')}`;
  let pod: string | undefined;
  const sendAnonymous = async (
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Answer> => {
    try {
      pod ??= await readyPodOf(connection, ref, GATEWAY, retry);
      const stream = await openPortForward(
        connection,
        ref.namespace,
        pod,
        GATEWAY_PORT.port,
        connection.requestTimeoutMs,
      );
      return await sendHttp(
        `http://127.0.0.1${path}`,
        { method, headers: { ...withLength(headers, body), Connection: 'close' }, createConnection: () => stream },
        connection.requestTimeoutMs,
        body,
      );
    } catch (error) {
      pod = undefined;
      // No access to the pods or their port-forward: waiting will not change that.
      const code = error instanceof ClusterError ? error.code : (error as { statusCode?: number }).statusCode;
      if (code === 401 || code === 403) throw new SmokeTestError(`smoke test failed: ${describeError(error)}`, code);
      throw error;
    }
  };
  return {
    send: (method, _component, path, headers, body) =>
      sendAnonymous(method, path, { ...headers, Authorization: authorization }, body),
    sendAnonymous,
  };
}

const withLength = (headers: Record<string, string>, body?: string) => ({
  ...headers,
  ...(body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
});

/** A request to the API server with the kubeconfig's credentials and TLS settings. */
export async function sendToApiServer(
  connection: Connection,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const options: RequestOptions = { method, headers: withLength(headers, body) };
  await connection.kubeConfig.applyToHTTPSOptions(options);
  return sendHttp(new URL(path, connection.server).toString(), options, connection.requestTimeoutMs, body);
}

/** One HTTP exchange; every socket and stream error, and silence longer than `timeoutMs`, rejects it. */
function sendHttp(url: string, options: ClientRequestArgs, timeoutMs: number, body?: string): Promise<Answer> {
  const request = url.startsWith('http:') ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { ...options, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}
