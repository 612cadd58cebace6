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
  const id = randomUUID();
  const line = `loki-microservices smoke test ${id}`;
  const { send, sendAnonymous, headers, via } = await openChannel(connection, ref, options, until(deadline));
  const pushedAt = `${Date.now()}000000`;
  const push = JSON.stringify({
    streams: [{ stream: { job: 'loki-microservices-smoke', smoke_id: id }, values: [[pushedAt, line]] }],
  });
  const attempt = attempter('smoke test failed', timeoutMs, deadline, options.intervalMs);

  if (sendAnonymous) {
    // The gateway must refuse a push without credentials before we trust it with ours.
    await attempt(
      'a push without credentials, which the gateway must refuse with 401,',
      () => sendAnonymous('POST', '/loki/api/v1/push', headers, push),
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
    through: sendAnonymous ? 'gateway' : 'services',
  };
}

/** How requests reach the stack's Loki: the API server's service proxy, or the gateway (then also without credentials). */
interface Channel {
  send: Send;
  sendAnonymous?: GatewayClient['sendAnonymous'];
  headers: Record<string, string>;
  /** '' or ' through the gateway', for messages. */
  via: string;
}

async function openChannel(
  connection: Connection,
  ref: StackRef,
  options: Pick<SmokeOptions, 'tenant' | 'gateway'>,
  retry: RetryPolicy,
): Promise<Channel> {
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
  return {
    send,
    ...(gateway ? { sendAnonymous: gateway.sendAnonymous } : {}),
    headers: {
      'Content-Type': 'application/json',
      ...(options.tenant && !gateway ? { 'X-Scope-OrgID': options.tenant } : {}),
    },
    via: gateway ? ' through the gateway' : '',
  };
}

/**
 * Sends a request again and again until `accept` takes its answer; a SmokeTestError starting with `failed` when
 * time runs out or the answer says waiting will not help (no credentials, no access).
 */
function attempter(failed: string, timeoutMs: number, deadline: number, intervalMs = 1000) {
  return async (
    what: string,
    call: () => Promise<Answer>,
    accept: (answer: Answer) => boolean,
    giveUpOn: (status: number) => boolean = (status) => status === 401 || status === 403,
  ): Promise<Answer> => {
    for (;;) {
      const answer = await call().catch((error: unknown) => {
        if (error instanceof SmokeTestError) throw error;
        return { status: 0, body: describeError(error) };
      });
      if (accept(answer)) return answer;
      const last = `${what} answered ${answer.status ? `HTTP ${answer.status}` : 'no response'}: ${answer.body.trim().slice(0, 300)}`;
      // No credentials or no access (Loki's tenant header, the gateway, the API server's RBAC): waiting will not change that.
      if (giveUpOn(answer.status)) throw new SmokeTestError(`${failed}: ${last}`);
      if (Date.now() + intervalMs > deadline) throw new SmokeTestError(`${failed} within ${timeoutMs} ms: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
}

/** The most lines one query returns: Loki's default `max_entries_limit_per_query`. */
export const MAX_LINES = 5000;

export type LinesOptions = Pick<SmokeOptions, 'timeoutMs' | 'intervalMs' | 'tenant' | 'gateway'>;

/** Lines pushed by pushLines, in one stream of their own, to be read back by readLines. */
export interface PushedLines {
  /** The stream's selector, e.g. `{lines_id="…"}`. */
  selector: string;
  lines: string[];
  /** The first and the last line's timestamp (nanoseconds since the epoch, as text). */
  firstNs: string;
  lastNs: string;
}

export interface LinesRead {
  /** How many of the pushed lines came back. */
  read: number;
  pushed: number;
  /** Whether they came back in the order they were pushed (and nothing else with them). */
  inOrder: boolean;
  durationMs: number;
}

/**
 * Pushes `count` numbered lines as one request to the distributor (through the gateway, as the smoke test
 * does), in a stream with a unique label, one nanosecond apart; retried until accepted (Loki keeps a line
 * pushed twice once). A SmokeTestError when the push is not accepted in time.
 */
export async function pushLines(
  connection: Connection,
  ref: StackRef,
  count: number,
  options: LinesOptions = {},
): Promise<PushedLines> {
  assertStackRef(ref);
  if (!Number.isInteger(count) || count < 1 || count > MAX_LINES)
    throw new RangeError(`pushLines: count must be a whole number from 1 to ${MAX_LINES}, not ${count}`);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const { send, headers, via } = await openChannel(connection, ref, options, until(deadline));
  const id = randomUUID();
  const first = BigInt(Date.now()) * 1_000_000n;
  const lines = Array.from({ length: count }, (_, i) => `loki-microservices lines ${id}: ${i + 1} of ${count}`);
  const push = JSON.stringify({
    streams: [
      {
        stream: { job: 'loki-microservices-lines', lines_id: id },
        values: lines.map((line, i) => [String(first + BigInt(i)), line]),
      },
    ],
  });
  const attempt = attempter(`pushing ${count} lines failed`, timeoutMs, deadline, options.intervalMs);
  await attempt(
    `the push to the distributor${via}`,
    () => send('POST', 'distributor', '/loki/api/v1/push', headers, push),
    (a) => a.status === 204 || a.status === 200,
  );
  return { selector: `{lines_id="${id}"}`, lines, firstNs: String(first), lastNs: String(first + BigInt(count - 1)) };
}

/**
 * Reads the lines of pushLines back through the query-frontend: a forward query_range over their time window,
 * asked again until all of them came back in order or time runs out; then says how many did. A SmokeTestError
 * when no query was answered at all.
 */
export async function readLines(
  connection: Connection,
  ref: StackRef,
  pushed: PushedLines,
  options: LinesOptions = {},
): Promise<LinesRead> {
  assertStackRef(ref);
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = started + timeoutMs;
  const { send, headers, via } = await openChannel(connection, ref, options, until(deadline));
  const query = new URLSearchParams({
    query: pushed.selector,
    start: pushed.firstNs,
    end: String(BigInt(pushed.lastNs) + 1n),
    limit: String(Math.min(pushed.lines.length + 1, MAX_LINES)),
    direction: 'forward',
  });
  const expected = new Set(pushed.lines);
  let best: Omit<LinesRead, 'durationMs'> | undefined;
  const attempt = attempter('reading the lines back failed', timeoutMs, deadline, options.intervalMs);
  try {
    await attempt(
      `the query through the query-frontend${via}`,
      () => send('GET', 'query-frontend', `/loki/api/v1/query_range?${query}`, headers),
      (answer) => {
        if (answer.status !== 200) return false;
        const got = linesOf(answer.body);
        if (!got) return false;
        const read = new Set(got.filter((line) => expected.has(line))).size;
        const inOrder = got.length === pushed.lines.length && got.every((line, i) => line === pushed.lines[i]);
        if (!best || read >= best.read) best = { read, pushed: pushed.lines.length, inOrder };
        return read === pushed.lines.length && inOrder;
      },
    );
  } catch (error) {
    // Answered, but not with every line: how many, not why the last query failed.
    if (!(error instanceof SmokeTestError) || !best) throw error;
  }
  return { ...best!, durationMs: Date.now() - started };
}

/** The lines of a query_range answer, in time order across its streams; undefined when it is not one. */
function linesOf(body: string): string[] | undefined {
  let answer: { data?: { result?: { values?: [string, string][] }[] } };
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    return undefined;
  }
  const result = answer.data?.result;
  if (!Array.isArray(result)) return undefined;
  try {
    return result
      .flatMap((stream) => stream.values ?? [])
      .map(([ns, line]) => ({ ns: BigInt(ns), line }))
      .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))
      .map(({ line }) => line);
  } catch {
    return undefined;
  }
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
      return await sendToPod(connection, { namespace: ref.namespace, pod, port: GATEWAY_PORT.port }, method, path, {
        headers,
        body,
      });
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

/**
 * One request to a port of a pod, over its own port-forward through the API server (as `kubectl port-forward`:
 * into the pod's own network namespace, so neither a NetworkPolicy nor the gateway stands in the way).
 */
export async function sendToPod(
  connection: Connection,
  target: { namespace: string; pod: string; port: number },
  method: string,
  path: string,
  request: { headers: Record<string, string>; body?: string },
): Promise<Answer> {
  const { headers, body } = request;
  const stream = await openPortForward(
    connection,
    target.namespace,
    target.pod,
    target.port,
    connection.requestTimeoutMs,
  );
  return sendHttp(
    `http://127.0.0.1${path}`,
    { method, headers: { ...withLength(headers, body), Connection: 'close' }, createConnection: () => stream },
    connection.requestTimeoutMs,
    body,
  );
}

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
