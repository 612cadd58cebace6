// The fake nginx gateway in front of the stack's in-memory Loki, reached as our tools reach it: through a
// port-forward to a gateway pod, and through the API server's service proxy (which removes the caller's
// Authorization header, so that every Loki path answers 401 there, as on a real cluster).
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { FakeLoki, type LokiRequest } from '../../src/apiserver/loki/index.js';
import { send } from './http.js';
import {
  applier,
  applyStack,
  basic,
  DEFAULT_HTPASSWD,
  forward,
  htpasswd,
  http,
  linesOf,
  NAMESPACE,
  podOf,
  pushBody,
  queryPath,
  STACK,
  USERS,
  type Forward,
  type StackOptions,
} from './stack.js';

let running: RunningApiServer;
let gateway: Forward | undefined;

beforeEach(async () => {
  running = await startTestApiServer({ readyAfterMs: 10 });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await gateway?.close();
  gateway = undefined;
  await running.close();
});

async function startGateway(options: StackOptions = {}): Promise<number> {
  await applyStack(running, options);
  await running.server.cluster.idle();
  gateway = await forward(running, podOf(running, 'gateway'), 8080);
  return gateway.port;
}

const tenant = basic(...USERS.tenant);
const other = basic(...USERS.other);
const admin = basic(...USERS.admin);
const json = { 'Content-Type': 'application/json' };

/** From now on, the requests that reach the stack's Loki. */
function lokiRequests(): () => LokiRequest[] {
  const handle = jest.spyOn(FakeLoki.prototype, 'handle');
  return () => handle.mock.calls.map(([request]) => request);
}

describe('through a port-forward to a gateway pod', () => {
  test("GET / answers OK to anyone; a push and a query with a tenant's credentials reach Loki", async () => {
    const port = await startGateway();
    expect(await http(port, 'GET', '/')).toMatchObject({ status: 200, body: 'OK' });
    expect(
      await http(port, 'POST', '/loki/api/v1/push', {
        headers: { ...json, ...tenant },
        body: pushBody('through the gateway'),
      }),
    ).toMatchObject({ status: 204 });
    const answer = await http(port, 'GET', queryPath(), { headers: tenant });
    expect(answer.status).toBe(200);
    expect(linesOf(answer)).toEqual(['through the gateway']);
    for (const path of [
      '/loki/api/v1/labels',
      '/loki/api/v1/label/job/values',
      '/loki/api/v1/series?match[]={job="smoke"}',
      '/loki/api/v1/index/stats?query={job="smoke"}',
    ]) {
      expect((await http(port, 'GET', path, { headers: tenant })).status).not.toBe(401);
    }
  });

  test('without credentials, with a wrong password, an unknown user or the admin user, every Loki path is 401 with the realm', async () => {
    const port = await startGateway();
    const unauthorized = {
      status: 401,
      headers: expect.objectContaining({
        'www-authenticate': 'Basic realm="Loki"',
        'content-type': 'text/html',
        server: 'nginx',
      }),
      body: '<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
    };
    const requests = lokiRequests();
    for (const headers of [
      {},
      basic('team-a', 'wrong'),
      basic('nobody', 'pw-a'),
      admin,
      { Authorization: 'Bearer a-token' },
      { Authorization: 'Basic not base64!' },
    ]) {
      expect(
        await http(port, 'POST', '/loki/api/v1/push', { headers: { ...json, ...headers }, body: pushBody('refused') }),
      ).toMatchObject(unauthorized);
      expect(await http(port, 'GET', queryPath(), { headers })).toMatchObject(unauthorized);
    }
    expect(requests()).toHaveLength(0);
  });

  test('multi-tenant: the request reaches Loki as the user, whatever X-Scope-OrgID the client sent, without the Authorization header', async () => {
    const port = await startGateway({ multiTenant: true });
    const requests = lokiRequests();
    const pushed = await http(port, 'POST', '/loki/api/v1/push', {
      headers: { ...json, ...tenant, 'X-Scope-OrgID': 'team-b' },
      body: pushBody('team a only'),
    });
    expect(pushed.status).toBe(204);
    expect(requests()[0]!.headers).toMatchObject({ 'x-scope-orgid': 'team-a' });
    expect(requests()[0]!.headers).not.toHaveProperty('authorization');
    expect(linesOf(await http(port, 'GET', queryPath(), { headers: tenant }))).toEqual(['team a only']);
    expect(linesOf(await http(port, 'GET', queryPath(), { headers: other }))).toEqual([]);
    expect(linesOf(await http(port, 'GET', queryPath(), { headers: { ...other, 'X-Scope-OrgID': 'team-a' } }))).toEqual(
      [],
    );
  });

  test('single-tenant: Loki puts everyone in one tenant, and the gateway leaves X-Scope-OrgID alone', async () => {
    const port = await startGateway({ multiTenant: false });
    const requests = lokiRequests();
    await http(port, 'POST', '/loki/api/v1/push', { headers: { ...json, ...tenant }, body: pushBody('shared') });
    expect(requests()[0]!.headers).not.toHaveProperty('x-scope-orgid');
    expect(linesOf(await http(port, 'GET', queryPath(), { headers: other }))).toEqual(['shared']);
  });

  test('the admin pages need the admin user: tenants and anonymous callers get 401', async () => {
    const port = await startGateway({ multiTenant: true });
    for (const page of ['/ring', '/config', '/services', '/memberlist', '/distributor/ring']) {
      const answer = await http(port, 'GET', page, { headers: admin });
      expect({ page, status: answer.status, type: answer.headers['content-type'] }).toEqual({
        page,
        status: 200,
        type: 'text/plain; charset=utf-8',
      });
      expect(answer.body.length).toBeGreaterThan(0);
      expect((await http(port, 'GET', page, { headers: tenant })).status).toBe(401);
      expect((await http(port, 'GET', page)).status).toBe(401);
    }
    expect((await http(port, 'GET', '/config', { headers: admin })).body).toBe('auth_enabled: true\n');
  });

  test("paths the gateway does not route answer nginx's 404; paths Loki does not serve on the query-frontend answer Loki's", async () => {
    const port = await startGateway();
    expect(await http(port, 'GET', '/metrics', { headers: admin })).toMatchObject({
      status: 404,
      body: expect.stringContaining('<title>404 Not Found</title>'),
    });
    expect(await http(port, 'GET', '/loki/api/v1/nothing-here', { headers: tenant })).toMatchObject({
      status: 404,
      body: '404 page not found\n',
    });
  });

  test('nginx reads the user files at every request: a changed password works at once', async () => {
    const port = await startGateway();
    await applier(running)({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${STACK}-gateway-htpasswd`, namespace: NAMESPACE },
      stringData: { ...DEFAULT_HTPASSWD, 'tenants.htpasswd': `# rotated\n${htpasswd('team-a', 'new-password')}\n` },
    });
    expect((await http(port, 'GET', queryPath(), { headers: tenant })).status).toBe(401);
    expect((await http(port, 'GET', queryPath(), { headers: basic('team-a', 'new-password') })).status).toBe(200);
  });

  test('a user file missing from the Secret is what nginx answers for a file it cannot find: 403 with credentials, 401 without', async () => {
    const port = await startGateway({ htpasswd: { 'tenants.htpasswd': DEFAULT_HTPASSWD['tenants.htpasswd'] } });
    expect(await http(port, 'GET', '/ring', { headers: admin })).toMatchObject({
      status: 403,
      body: expect.stringContaining('<title>403 Forbidden</title>'),
    });
    expect((await http(port, 'GET', '/ring')).status).toBe(401);
    expect((await http(port, 'GET', queryPath(), { headers: tenant })).status).toBe(200);
  });

  test('a deleted Secret leaves the mounted files in place, as the kubelet does', async () => {
    const port = await startGateway();
    await running.server.api.delete('Secret', NAMESPACE, `${STACK}-gateway-htpasswd`);
    expect((await http(port, 'GET', queryPath(), { headers: tenant })).status).toBe(200);
  });

  test('a Loki Service without ready endpoints makes the gateway answer 502', async () => {
    const port = await startGateway();
    running.server.cluster.fail({ workload: `${STACK}-distributor` }, 'crashLoop');
    await running.server.cluster.idle();
    expect(
      await http(port, 'POST', '/loki/api/v1/push', { headers: { ...json, ...tenant }, body: pushBody('nobody home') }),
    ).toMatchObject({
      status: 502,
      body: expect.stringContaining('<title>502 Bad Gateway</title>'),
    });
    expect((await http(port, 'GET', queryPath(), { headers: tenant })).status).toBe(200);
  });
});

describe('a gateway whose Secret does not exist', () => {
  test('its pod waits in ContainerCreating with a FailedMount event, its Service has no endpoint; it starts once the Secret exists', async () => {
    await applyStack(running, { htpasswd: undefined });
    await running.server.cluster.idle();
    const pod = running.server.api.get('Pod', NAMESPACE, podOf(running, 'gateway'));
    expect(pod.status).toMatchObject({
      phase: 'Pending',
      containerStatuses: [{ name: 'nginx', ready: false, state: { waiting: { reason: 'ContainerCreating' } } }],
    });
    const events = running.server.api.list('Event', NAMESPACE, {
      fieldSelector: `involvedObject.name=${pod.metadata.name},type=Warning`,
    });
    expect(events.map((event) => [event.reason, event.message])).toEqual([
      ['FailedMount', `MountVolume.SetUp failed for volume "htpasswd" : secret "${STACK}-gateway-htpasswd" not found`],
    ]);
    const proxied = await send(running, 'GET', `/api/v1/namespaces/${NAMESPACE}/services/${STACK}-gateway:http/proxy/`);
    expect([proxied.status, (proxied.json as { message: string }).message]).toEqual([
      503,
      `no endpoints available for service "${STACK}-gateway"`,
    ]);

    await applier(running)({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${STACK}-gateway-htpasswd`, namespace: NAMESPACE },
      stringData: DEFAULT_HTPASSWD,
    });
    await running.server.cluster.idle();
    gateway = await forward(running, podOf(running, 'gateway'), 8080);
    expect((await http(gateway.port, 'GET', queryPath(), { headers: tenant })).status).toBe(200);
  });
});

describe('through the service proxy', () => {
  const proxy = (port: string, path: string) =>
    `/api/v1/namespaces/${NAMESPACE}/services/${STACK}-gateway:${port}/proxy${path}`;

  test("GET / answers OK; every Loki path is 401, since the API server keeps the caller's credentials to itself", async () => {
    await applyStack(running);
    await running.server.cluster.idle();
    for (const port of ['http', '80']) {
      const root = await send(running, 'GET', proxy(port, '/'));
      expect([root.status, root.text]).toEqual([200, 'OK']);
      const query = await send(running, 'GET', proxy(port, queryPath()));
      expect([query.status, query.headers['www-authenticate']]).toEqual([401, 'Basic realm="Loki"']);
    }
    expect((await send(running, 'GET', proxy('8080', '/'))).status).toBe(503);
  });

  test('the Authorization header the caller authenticated with does not reach the backend', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const requests = lokiRequests();
    const pushed = await send(
      running,
      'POST',
      `/api/v1/namespaces/${NAMESPACE}/services/${STACK}-distributor:http-metrics/proxy/loki/api/v1/push`,
      { headers: json, body: pushBody('proxied') },
    );
    expect(pushed.status).toBe(204);
    expect(requests()).toHaveLength(1);
    expect(requests()[0]!.headers).not.toHaveProperty('authorization');
    expect(requests()[0]!.headers).toMatchObject({ 'content-type': 'application/json' });
  });

  test('a Service port the pods do not serve HTTP on answers 502 as a refused connection; an unnamed port is not the named one', async () => {
    await applyStack(running, { gateway: false });
    await applier(running)({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${STACK}-distributor-grpc`, namespace: NAMESPACE },
      spec: {
        selector: { 'app.kubernetes.io/component': 'distributor' },
        ports: [{ name: 'grpc', port: 9095, targetPort: 'grpc' }],
      },
    });
    await running.server.cluster.idle();
    const grpc = await send(
      running,
      'GET',
      `/api/v1/namespaces/${NAMESPACE}/services/${STACK}-distributor-grpc:grpc/proxy/ready`,
    );
    expect([grpc.status, (grpc.json as { message: string }).message]).toEqual([
      502,
      expect.stringMatching(
        /^error trying to reach service: dial tcp 10\.244\.0\.\d+:9095: connect: connection refused$/,
      ),
    ]);
    const unnamed = await send(
      running,
      'GET',
      `/api/v1/namespaces/${NAMESPACE}/services/${STACK}-distributor/proxy/ready`,
    );
    expect(unnamed.status).toBe(503);
  });
});
