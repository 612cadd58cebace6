// smokeTest against the test API server and the fake Loki behind its service proxy: a line pushed to the
// distributor is read back through the query-frontend, as the stack's tenant when it is multi-tenant; when
// a component cannot answer, SmokeTestError says which step failed and what came back.
import { jest } from '@jest/globals';
import {
  applyStack,
  pushLines,
  readLines,
  smokeOptionsOf,
  smokeTest,
  SmokeTestError,
  waitForStack,
} from 'loki-microservices';
import { smokeTenant } from 'loki-microservices/testing';
import { eventually, FAST_RETRY, proxyGet, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(30_000);

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

afterEach(() => {
  fixture.running.server.cluster.heal();
});

type Json = Record<string, any>;

async function readyStack(namespace: string, spec: Json = {}, name = 'loki') {
  const stack = stackOf({ metadata: { name, namespace }, spec });
  await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
  await waitForStack(fixture.connection, { name, namespace }, { timeoutMs: 20_000, retry: FAST_RETRY });
  return stack;
}

const queryFor = (line: string) =>
  `/loki/api/v1/query_range?${new URLSearchParams({ query: `{job="loki-microservices-smoke"} |= "${line}"`, start: String(Math.floor(Date.now() / 1000) - 600), limit: '10' })}`;

const proxied = (namespace: string) =>
  fixture.running.server.faults.requests.filter((r) => r.path.startsWith(`/api/v1/namespaces/${namespace}/services/`));

test('passes on a ready stack: the line pushed to the distributor is read back through the query-frontend', async () => {
  const stack = await readyStack('s-ready');
  expect(smokeTenant(stack)).toBeUndefined();
  fixture.running.server.faults.clearLog();
  const result = await smokeTest(
    fixture.connection,
    { name: 'loki', namespace: 's-ready' },
    { timeoutMs: 10_000, intervalMs: 50 },
  );

  expect(result.tenant).toBeNull();
  expect(result.line).toMatch(/^loki-microservices smoke test [0-9a-f-]{36}$/);
  expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  expect(result.durationMs).toBeGreaterThanOrEqual(result.latencyMs);
  // Through the service proxy: a push to the distributor's http port, then a query to the query-frontend.
  const requests = proxied('s-ready');
  expect(requests[0]).toMatchObject({
    method: 'POST',
    path: '/api/v1/namespaces/s-ready/services/loki-distributor:http-metrics/proxy/loki/api/v1/push',
    status: 204,
  });
  expect(requests.at(-1)).toMatchObject({ method: 'GET', status: 200 });
  expect(requests.at(-1)!.path).toMatch(
    /^\/api\/v1\/namespaces\/s-ready\/services\/loki-query-frontend:http-metrics\/proxy\/loki\/api\/v1\/query_range\?/,
  );
  // The line really is in Loki now.
  const stored = await proxyGet(fixture, 's-ready', 'loki-query-frontend', queryFor(result.line));
  expect(stored.status).toBe(200);
  expect(stored.body).toContain(result.line);
});

test('each run pushes its own line, and a second run passes too', async () => {
  await readyStack('s-twice');
  const first = await smokeTest(
    fixture.connection,
    { name: 'loki', namespace: 's-twice' },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  const second = await smokeTest(
    fixture.connection,
    { name: 'loki', namespace: 's-twice' },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  expect(second.line).not.toBe(first.line);
  const stored = await proxyGet(fixture, 's-twice', 'loki-query-frontend', queryFor('loki-microservices smoke test'));
  expect(stored.body).toContain(first.line);
  expect(stored.body).toContain(second.line);
});

describe('a multi-tenant stack (spec.auth.enabled)', () => {
  test('is tested as its tenant: the line is stored for that tenant only', async () => {
    const stack = await readyStack('s-auth', { auth: { enabled: true, tenant: 'team-a' } });
    expect(smokeTenant(stack)).toBe('team-a');
    const result = await smokeTest(
      fixture.connection,
      { name: 'loki', namespace: 's-auth' },
      { timeoutMs: 10_000, intervalMs: 50, tenant: smokeTenant(stack) },
    );
    expect(result.tenant).toBe('team-a');

    const asTenant = await proxyGet(fixture, 's-auth', 'loki-query-frontend', queryFor(result.line), {
      'X-Scope-OrgID': 'team-a',
    });
    expect(asTenant.status).toBe(200);
    expect(asTenant.body).toContain(result.line);
    const asOther = await proxyGet(fixture, 's-auth', 'loki-query-frontend', queryFor(result.line), {
      'X-Scope-OrgID': 'team-b',
    });
    expect(asOther.status).toBe(200);
    expect(asOther.body).not.toContain(result.line);
    const anonymous = await proxyGet(fixture, 's-auth', 'loki-query-frontend', queryFor(result.line));
    expect(anonymous.status).toBe(401);
  });

  test('without the tenant, the push is refused at once (no retrying until the timeout) and the error says so', async () => {
    await readyStack('s-auth2', { auth: { enabled: true, tenant: 'team-a' } });
    const requests = fixture.running.server.faults.requests.length;
    const error = await smokeTest(
      fixture.connection,
      { name: 'loki', namespace: 's-auth2' },
      { timeoutMs: 60_000, intervalMs: 50 },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmokeTestError);
    expect((error as Error).message).toMatch(
      /^smoke test failed: the push to the distributor answered HTTP 401: no org id/,
    );
    expect(fixture.running.server.faults.requests.length - requests).toBe(1);
  });
});

describe('a stack that cannot answer', () => {
  test('no ready distributor: fails within its timeout, naming the push and the 503', async () => {
    await readyStack('s-nodist');
    // The distributor's only pod crashes: the Service has no ready endpoint left.
    fixture.running.server.cluster.fail({ namespace: 's-nodist', workload: 'loki-distributor' }, 'crashLoop');
    await eventuallyNoEndpoints('s-nodist', 'loki-distributor');
    fixture.running.server.faults.clearLog();
    // Long enough for several attempts even when the machine is busy and each request takes a few hundred ms.
    const error = await smokeTest(
      fixture.connection,
      { name: 'loki', namespace: 's-nodist' },
      { timeoutMs: 3000, intervalMs: 50 },
    ).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SmokeTestError);
    const message = (error as Error).message;
    expect(message).toMatch(/^smoke test failed within 3000 ms: the push to the distributor answered HTTP 503: /);
    expect(message).toContain('no endpoints available for service \\"loki-distributor\\"');
    // It retried meanwhile, and never got as far as querying.
    const requests = proxied('s-nodist');
    expect(requests.length).toBeGreaterThan(1);
    expect(
      requests.every(
        (r) => r.path.includes('/services/loki-distributor:http-metrics/proxy/loki/api/v1/push') && r.status === 503,
      ),
    ).toBe(true);
  });

  test('no ready query-frontend: the push passes, the query fails, and the error names the query', async () => {
    await readyStack('s-noqf');
    fixture.running.server.cluster.fail({ namespace: 's-noqf', workload: 'loki-query-frontend' }, 'crashLoop');
    await eventuallyNoEndpoints('s-noqf', 'loki-query-frontend');
    const error = await smokeTest(
      fixture.connection,
      { name: 'loki', namespace: 's-noqf' },
      { timeoutMs: 500, intervalMs: 50 },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmokeTestError);
    expect((error as Error).message).toMatch(
      /^smoke test failed within 500 ms: the query through the query-frontend answered HTTP 503: .*loki-query-frontend/,
    );
  });

  test('recovers when the distributor comes back within the timeout', async () => {
    await readyStack('s-back');
    const { server } = fixture.running;
    server.cluster.fail({ namespace: 's-back', workload: 'loki-distributor' }, 'crashLoop');
    await eventuallyNoEndpoints('s-back', 'loki-distributor');
    server.faults.clearLog();
    const smoke = smokeTest(
      fixture.connection,
      { name: 'loki', namespace: 's-back' },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    await eventually(() => proxied('s-back').some((r) => r.status === 503), 'a refused push');
    server.cluster.heal();
    const result = await smoke;
    expect(result.line).toMatch(/smoke test/);
    expect(proxied('s-back').some((r) => r.status === 503)).toBe(true);
  });

  test('a stack that does not exist: the push answers 404', async () => {
    const error = await smokeTest(
      fixture.connection,
      { name: 'nothing', namespace: 's-none' },
      { timeoutMs: 200, intervalMs: 50 },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmokeTestError);
    expect((error as Error).message).toMatch(/the push to the distributor answered HTTP 404: .*nothing-distributor/);
  });
});

describe('pushLines and readLines: many lines, read back all and in order', () => {
  test('N lines go in one push request, and come back all and in order from their time window', async () => {
    await readyStack('s-lines');
    const ref = { name: 'loki', namespace: 's-lines' };
    fixture.running.server.faults.clearLog();
    const pushed = await pushLines(fixture.connection, ref, 250, { timeoutMs: 10_000, intervalMs: 50 });
    expect(pushed.selector).toMatch(/^\{lines_id="[0-9a-f-]{36}"\}$/);
    expect(pushed.lines).toHaveLength(250);
    expect(new Set(pushed.lines).size).toBe(250);
    expect(BigInt(pushed.lastNs) - BigInt(pushed.firstNs)).toBe(249n);
    const pushes = proxied('s-lines').filter((r) => r.method === 'POST');
    expect(pushes).toEqual([
      expect.objectContaining({ path: expect.stringContaining('/loki/api/v1/push'), status: 204 }),
    ]);
    // A later line of the same time, in a stream of its own, is not read back with them.
    await pushLines(fixture.connection, ref, 3, { timeoutMs: 10_000, intervalMs: 50 });
    const read = await readLines(fixture.connection, ref, pushed, { timeoutMs: 10_000, intervalMs: 50 });
    expect(read).toMatchObject({ read: 250, pushed: 250, inOrder: true });
    const query = proxied('s-lines').find((r) => r.method === 'GET' && r.path.includes('query_range'))!;
    const params = new URL(query.path, 'http://x').searchParams;
    expect(Object.fromEntries(params)).toMatchObject({
      query: pushed.selector,
      start: pushed.firstNs,
      end: String(BigInt(pushed.lastNs) + 1n),
      direction: 'forward',
    });
  });

  test('as the tenant of a multi-tenant stack', async () => {
    const stack = await readyStack('s-lines-auth', { auth: { enabled: true, tenant: 'team-a' } });
    const ref = { name: 'loki', namespace: 's-lines-auth' };
    const options = { timeoutMs: 10_000, intervalMs: 50, ...smokeOptionsOf(stack) };
    const pushed = await pushLines(fixture.connection, ref, 20, options);
    expect(await readLines(fixture.connection, ref, pushed, options)).toMatchObject({ read: 20, inOrder: true });
    // Another tenant sees none of them.
    const other = await readLines(fixture.connection, ref, pushed, { ...options, tenant: 'team-b', timeoutMs: 300 });
    expect(other).toMatchObject({ read: 0, pushed: 20, inOrder: false });
  });

  test('lines that do not all come back: how many did, once its time is up', async () => {
    await readyStack('s-lines-lost');
    const ref = { name: 'loki', namespace: 's-lines-lost' };
    const pushed = await pushLines(fixture.connection, ref, 5, { timeoutMs: 10_000, intervalMs: 50 });
    const lost = {
      ...pushed,
      lines: [...pushed.lines, 'a line never pushed'],
      lastNs: String(BigInt(pushed.lastNs) + 1n),
    };
    fixture.running.server.faults.clearLog();
    // Long enough for several queries even when the machine is busy.
    const read = await readLines(fixture.connection, ref, lost, { timeoutMs: 2000, intervalMs: 50 });
    expect(read).toMatchObject({ read: 5, pushed: 6, inOrder: false });
    expect(read.durationMs).toBeGreaterThanOrEqual(1950);
    // It asked again meanwhile.
    expect(proxied('s-lines-lost').filter((r) => r.path.includes('query_range')).length).toBeGreaterThan(1);
  });

  test('no answer at all is a SmokeTestError naming the request; a bad count is refused before any', async () => {
    const ref = { name: 'nothing', namespace: 's-lines-none' };
    const push = await pushLines(fixture.connection, ref, 3, { timeoutMs: 200, intervalMs: 50 }).catch(
      (e: unknown) => e,
    );
    expect(push).toBeInstanceOf(SmokeTestError);
    expect((push as Error).message).toMatch(
      /^pushing 3 lines failed within 200 ms: the push to the distributor answered HTTP 404: .*nothing-distributor/,
    );
    const pushed = { selector: '{lines_id="x"}', lines: ['a'], firstNs: '1', lastNs: '1' };
    const read = await readLines(fixture.connection, ref, pushed, { timeoutMs: 200, intervalMs: 50 }).catch(
      (e: unknown) => e,
    );
    expect(read).toBeInstanceOf(SmokeTestError);
    expect((read as Error).message).toMatch(/^reading the lines back failed within 200 ms: the query .*HTTP 404/);
    const before = fixture.running.server.faults.requests.length;
    await expect(pushLines(fixture.connection, ref, 0)).rejects.toThrow(/count must be a whole number from 1 to 5000/);
    await expect(pushLines(fixture.connection, ref, 5001)).rejects.toThrow(RangeError);
    expect(fixture.running.server.faults.requests.length).toBe(before);
  });
});

function eventuallyNoEndpoints(namespace: string, service: string): Promise<void> {
  return eventually(() => {
    const endpoints = fixture.running.server.store.get('Endpoints', namespace, service) as Json | undefined;
    return endpoints && (endpoints.subsets ?? []).every((subset: Json) => (subset.addresses ?? []).length === 0);
  }, `no ready endpoints of ${service}`);
}
