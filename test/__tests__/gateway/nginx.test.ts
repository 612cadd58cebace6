// The gateway's nginx configuration run by the real nginx (Debian's 1.22: npm test unpacks it and sets
// $NGINX_BINARY) and spoken to over real HTTP. Every route of gatewayRoutes() takes its paths to the component it
// names, query and body intact; Loki's own API paths land where Loki serves them, and nothing else is let
// through; basic auth against the $2y$ bcrypt lines htpasswdFile() writes (checked by nginx's crypt(3)) lets
// each tenant into the tenant APIs and only the admin user into the admin pages; Loki gets the authenticated
// tenant as X-Scope-OrgID, whatever the client sent, and never the password; tail upgrades to a WebSocket on
// the querier; a changed password works at the next request, without a restart. The Loki components are
// fakes on 127.0.0.N:3100, found through a fake DNS server as nginx finds the Services through the cluster DNS.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { WebSocket } from 'ws';
import { parseSpec, type ComponentName, type LokiStack, type LokiStackInput } from 'loki-microservices';
import {
  gatewayRoutes,
  gatewayTenants,
  HTPASSWD_KEYS,
  htpasswdFile,
  parseHtpasswd,
  type GatewayRoute,
} from 'loki-microservices/testing';
import {
  findNginx,
  send,
  serviceHost,
  startGateway,
  testConfiguration,
  type Answer,
  type Gateway,
  type Received,
} from './fixture.js';

const nginx = findNginx();

test("an nginx to run is installed ($NGINX_BINARY, which npm test sets to Debian's, or nginx on PATH)", () => {
  if (!nginx.binary) {
    throw new Error(
      `no nginx binary (looked for ${nginx.tried.join(', ')}): run npm test, which unpacks Debian's nginx into .cache and sets NGINX_BINARY, or set NGINX_BINARY to an nginx binary`,
    );
  }
});

const TENANTS = ['team-a', 'team-b'];
const MULTI_TENANT: LokiStackInput = {
  spec: { gateway: { enabled: true, tenants: TENANTS }, auth: { enabled: true, tenant: 'team-a' } },
};
const SINGLE_TENANT: LokiStackInput = {
  spec: { gateway: { enabled: true, tenants: TENANTS }, auth: { enabled: false, tenant: 'team-a' } },
};
const NO_RULER: LokiStackInput = { spec: { ...MULTI_TENANT.spec, components: { ruler: { enabled: false } } } };
const PATTERNS: LokiStackInput = {
  spec: { ...MULTI_TENANT.spec, components: { patternIngester: { enabled: true } } },
};

const describeWithNginx = nginx.binary ? describe : describe.skip;

/** One nginx (and its fakes) for the tests of the enclosing describe; the components at 127.0.0.<firstAddress…+7>. */
function useGateway(input: LokiStackInput, firstAddress: number): () => Gateway {
  let gateway: Gateway | undefined;
  beforeAll(async () => {
    gateway = await startGateway(nginx.binary!, parseSpec(input), firstAddress);
  });
  afterAll(async () => {
    await gateway?.stop();
  });
  return () => {
    if (!gateway) throw new Error('nginx did not start (see the beforeAll error)');
    return gateway;
  };
}

/** A test against the gateway whose failure message ends with nginx's error log. */
function gatewayTest(name: string, gateway: () => Gateway, body: (gw: Gateway) => Promise<void>) {
  test(name, async () => {
    const gw = gateway();
    try {
      await body(gw);
    } catch (error) {
      if (error instanceof Error) {
        error.message += `\n\nnginx error log:\n${gw.log()}`;
        if (error.stack)
          error.stack = `${error.message}\n${error.stack
            .split('\n')
            .filter((line) => /^\s+at /.test(line))
            .join('\n')}`;
      }
      throw error;
    }
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

type Credentials = string | { user: string; password: string } | undefined;

interface Call extends Answer {
  /** What the fake Loki components received of this request. */
  upstream: Received[];
}

let sequence = 0;

/** A request through the gateway as `as` (a user with their password, or explicit credentials, or none). */
async function call(
  gw: Gateway,
  method: string,
  path: string,
  options: { as?: Credentials; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Call> {
  const id = `request-${++sequence}`;
  const credentials =
    typeof options.as === 'string' ? { user: options.as, password: gw.passwords[options.as]! } : options.as;
  const headers: Record<string, string> = {
    ...options.headers,
    ...(credentials ? { Authorization: basic(credentials.user, credentials.password) } : {}),
    ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}),
    'X-Test-Request': id,
  };
  const answer = await send(gw.port, method, path, headers, options.body);
  return { ...answer, upstream: gw.received.filter((request) => request.headers['x-test-request'] === id) };
}

const adminOf = (gw: Gateway) => gw.stack.spec.gateway.adminUser;
const userFor = (gw: Gateway, route: GatewayRoute) => (route.access === 'admin' ? adminOf(gw) : 'team-a');
/** Whether the stack runs the component: the optional ones (ruler, pattern ingester) only when enabled. */
const runs = (stack: LokiStack, name: ComponentName) => {
  const component = stack.spec.components[name];
  return !('enabled' in component) || component.enabled;
};

/** The routes that reach a component (an absent one answers 404 itself, see the routing tests). */
const servedRoutes = (stack: LokiStack) => gatewayRoutes(stack).filter((route) => !route.absent);

/** Request paths a route's location matches: `= /x` its path; a prefix, the prefix itself and a path below it. */
function pathsOf(route: GatewayRoute): string[] {
  if (route.location.startsWith('= ')) return [route.location.slice(2)];
  return route.location.endsWith('/') ? [`${route.location}probe`] : [route.location, `${route.location}/probe`];
}

/** What a request reached: its status, and each component that received it with the path and query it got. */
const outcome = (result: Call) =>
  `${result.status} ${result.upstream.map((seen) => `${seen.component} ${seen.url}`).join(', ') || 'no upstream'}`;

const logql = (query: string) => encodeURIComponent(query);
const NOW = '1700000000000000000';

interface ApiCall {
  method: string;
  path: string;
  component: ComponentName;
  /** The component that must run for the path to be served, when not the one receiving it. */
  needs?: ComponentName;
  admin?: boolean;
  contentType?: string;
  body?: string;
}

/** Loki 3's HTTP API as clients call it (promtail, Alloy, Grafana, logcli, the OTLP exporter, lokitool). */
const LOKI_API: ApiCall[] = [
  {
    method: 'POST',
    path: '/loki/api/v1/push',
    component: 'distributor',
    contentType: 'application/x-protobuf',
    body: 'snappy-compressed protobuf',
  },
  {
    method: 'POST',
    path: '/loki/api/v1/push',
    component: 'distributor',
    contentType: 'application/json',
    body: '{"streams":[{"stream":{"app":"api"},"values":[["1700000000000000000","line"]]}]}',
  },
  {
    method: 'POST',
    path: '/api/prom/push',
    component: 'distributor',
    contentType: 'application/x-protobuf',
    body: 'legacy push',
  },
  {
    method: 'POST',
    path: '/otlp/v1/logs',
    component: 'distributor',
    contentType: 'application/x-protobuf',
    body: 'OTLP ExportLogsServiceRequest',
  },
  {
    method: 'GET',
    path: `/loki/api/v1/query?query=${logql('sum(rate({app="api"} |= "error" [5m]))')}&time=${NOW}`,
    component: 'queryFrontend',
  },
  {
    method: 'GET',
    path: `/loki/api/v1/query_range?query=${logql('{app="api"} | json | level="error"')}&start=${NOW}&end=${NOW}&limit=100&direction=backward`,
    component: 'queryFrontend',
  },
  {
    method: 'POST',
    path: '/loki/api/v1/query_range',
    component: 'queryFrontend',
    contentType: 'application/x-www-form-urlencoded',
    body: `query=${logql('{app="api"}')}&limit=10`,
  },
  { method: 'GET', path: `/loki/api/v1/labels?start=${NOW}`, component: 'queryFrontend' },
  { method: 'GET', path: '/loki/api/v1/label/app/values', component: 'queryFrontend' },
  { method: 'GET', path: `/loki/api/v1/series?match%5B%5D=${logql('{app="api"}')}`, component: 'queryFrontend' },
  { method: 'GET', path: `/loki/api/v1/index/stats?query=${logql('{app="api"}')}`, component: 'queryFrontend' },
  {
    method: 'GET',
    path: `/loki/api/v1/index/volume?query=${logql('{app="api"}')}&limit=5`,
    component: 'queryFrontend',
  },
  {
    method: 'GET',
    path: `/loki/api/v1/index/volume_range?query=${logql('{app="api"}')}&step=60`,
    component: 'queryFrontend',
  },
  { method: 'GET', path: `/loki/api/v1/detected_labels?query=${logql('{app="api"}')}`, component: 'queryFrontend' },
  { method: 'GET', path: `/loki/api/v1/detected_fields?query=${logql('{app="api"}')}`, component: 'queryFrontend' },
  // The query-frontend serves it through the queriers, which ask the pattern ingesters.
  {
    method: 'GET',
    path: `/loki/api/v1/patterns?query=${logql('{app="api"}')}&start=${NOW}&end=${NOW}&step=60s`,
    component: 'queryFrontend',
    needs: 'patternIngester',
  },
  { method: 'GET', path: '/loki/api/v1/status/buildinfo', component: 'queryFrontend' },
  { method: 'GET', path: `/api/prom/query?query=${logql('{app="api"}')}`, component: 'queryFrontend' },
  { method: 'GET', path: '/api/prom/label', component: 'queryFrontend' },
  { method: 'GET', path: `/loki/api/v1/tail?query=${logql('{app="api"}')}`, component: 'querier' },
  { method: 'GET', path: `/api/prom/tail?query=${logql('{app="api"}')}`, component: 'querier' },
  { method: 'GET', path: '/loki/api/v1/rules', component: 'ruler' },
  { method: 'GET', path: '/loki/api/v1/rules/team-ns', component: 'ruler' },
  {
    method: 'POST',
    path: '/loki/api/v1/rules/team-ns',
    component: 'ruler',
    contentType: 'application/yaml',
    body: 'name: errors\nrules:\n  - alert: Errors\n    expr: sum(rate({app="api"} |= "error" [5m])) > 1\n',
  },
  { method: 'DELETE', path: '/loki/api/v1/rules/team-ns/errors', component: 'ruler' },
  { method: 'GET', path: '/api/prom/rules/team-ns/errors', component: 'ruler' },
  { method: 'GET', path: '/prometheus/api/v1/rules?type=alert', component: 'ruler' },
  { method: 'GET', path: '/prometheus/api/v1/alerts', component: 'ruler' },
  {
    method: 'POST',
    path: `/loki/api/v1/delete?query=${logql('{app="api"}')}&start=1700000000&end=1700003600`,
    component: 'compactor',
  },
  { method: 'GET', path: '/loki/api/v1/delete', component: 'compactor' },
  { method: 'DELETE', path: '/loki/api/v1/delete?request_id=abc123', component: 'compactor' },
  { method: 'GET', path: '/ring', component: 'distributor', admin: true },
  { method: 'GET', path: '/distributor/ring', component: 'distributor', admin: true },
  { method: 'GET', path: '/memberlist', component: 'distributor', admin: true },
  { method: 'GET', path: '/config', component: 'distributor', admin: true },
  { method: 'GET', path: '/services', component: 'distributor', admin: true },
  { method: 'GET', path: '/compactor/ring', component: 'compactor', admin: true },
  { method: 'GET', path: '/indexgateway/ring', component: 'indexGateway', admin: true },
  { method: 'GET', path: '/ruler/ring', component: 'ruler', admin: true },
  { method: 'GET', path: '/pattern/ring', component: 'patternIngester', admin: true },
];

/** Paths no route names: Loki's internal and operational endpoints stay out of reach. */
const UNROUTED = [
  '/metrics',
  '/ready',
  '/loki',
  '/lokix/api/v1/query',
  '/api/v1/push',
  '/prometheus/api/v1/query',
  '/ingester/flush',
  '/ingester/shutdown',
  '/flush',
  '/distributor/all_user_stats',
  '/favicon.ico',
];

/** Tests every variant passes: routing by gatewayRoutes(), Loki's API paths, the probe and the 404s. */
function routingTests(gateway: () => Gateway) {
  // First in its describe: the DNS server has seen only what nginx asked since it started.
  gatewayTest(
    'nginx starts without asking the DNS for any Service, and resolves one when a request needs its component',
    gateway,
    async (gw) => {
      expect(gw.dns.queries).toEqual([]);
      expect(outcome(await call(gw, 'POST', '/loki/api/v1/push', { as: 'team-a', body: 'x' }))).toBe(
        '200 distributor /loki/api/v1/push',
      );
      const host = serviceHost(gw.stack, 'distributor');
      expect(gw.dns.queries.map((query) => `${query.type} ${query.name} ${query.rcode}`).sort()).toEqual([
        `A ${host} NOERROR`,
        `AAAA ${host} NOERROR`,
      ]);
    },
  );

  gatewayTest(
    'every route of gatewayRoutes() takes its paths to its component at its Service name, with query, body and headers intact and no password',
    gateway,
    async (gw) => {
      const query = `?query=${logql('{app="api"} |= "a b" | json')}&limit=10&empty=&match%5B%5D=x`;
      const actual: unknown[] = [];
      const expected: unknown[] = [];
      for (const route of gatewayRoutes(gw.stack)) {
        for (const path of pathsOf(route)) {
          const body = Buffer.concat([Buffer.from(`body of ${path}\n`), randomBytes(64)]);
          const result = await call(gw, 'POST', `${path}${query}`, {
            as: userFor(gw, route),
            body,
            headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
          });
          if (route.absent) {
            // A route of a component that is not deployed answers 404 itself.
            actual.push({ location: route.location, path, outcome: outcome(result) });
            expected.push({ location: route.location, path, outcome: '404 no upstream' });
            continue;
          }
          const [seen] = result.upstream;
          actual.push({
            location: route.location,
            path,
            status: result.status,
            answer: result.body,
            received: result.upstream.length,
            ...(seen && {
              component: seen.component,
              method: seen.method,
              url: seen.url,
              host: seen.headers.host,
              body: seen.body.equals(body) ? 'intact' : `${seen.body.length} different bytes`,
              contentType: seen.headers['content-type'],
              contentEncoding: seen.headers['content-encoding'],
              forwardedFor: seen.headers['x-forwarded-for'],
              authorization: seen.headers.authorization ?? 'not sent',
            }),
          });
          expected.push({
            location: route.location,
            path,
            status: 200,
            answer: route.component,
            received: 1,
            component: route.component,
            method: 'POST',
            url: `${path}${query}`,
            host: `${serviceHost(gw.stack, route.component)}:3100`,
            body: 'intact',
            contentType: 'application/x-protobuf',
            contentEncoding: 'snappy',
            forwardedFor: '127.0.0.1',
            authorization: 'not sent',
          });
        }
      }
      expect(actual).toEqual(expected);
    },
  );

  gatewayTest(
    "Loki's API paths land on the component that serves them, query and body intact (without a ruler or a pattern ingester, their paths answer 404 and reach no component)",
    gateway,
    async (gw) => {
      const actual: string[] = [];
      const expected: string[] = [];
      for (const api of LOKI_API) {
        const { body } = api;
        const result = await call(gw, api.method, api.path, {
          as: api.admin ? adminOf(gw) : 'team-b',
          ...(body !== undefined && { body }),
          headers: api.contentType ? { 'Content-Type': api.contentType } : {},
        });
        // A body that did not arrive as sent shows in the line.
        const bodies = result.upstream
          .map((seen) => (seen.body.toString() === (body ?? '') ? '' : ` body ${JSON.stringify(seen.body.toString())}`))
          .join('');
        actual.push(`${api.method} ${api.path} → ${outcome(result)}${bodies}`);
        const served = runs(gw.stack, api.needs ?? api.component);
        expected.push(`${api.method} ${api.path} → ${served ? `200 ${api.component} ${api.path}` : '404 no upstream'}`);
      }
      expect(actual).toEqual(expected);
    },
  );

  gatewayTest(
    'a 2 MiB push arrives whole (the distributor takes up to 100 MiB; nginx alone stops at 1 MiB)',
    gateway,
    async (gw) => {
      const body = randomBytes(2 * 1024 * 1024);
      const result = await call(gw, 'POST', '/loki/api/v1/push', {
        as: 'team-a',
        body,
        headers: { 'Content-Type': 'application/x-protobuf' },
      });
      expect(outcome(result)).toBe('200 distributor /loki/api/v1/push');
      expect(result.upstream[0]!.body.equals(body)).toBe(true);
    },
  );

  gatewayTest(
    'GET / answers 200 OK without credentials; paths no route names answer 404 with or without them, and reach no component',
    gateway,
    async (gw) => {
      const probe = await call(gw, 'GET', '/');
      expect({
        status: probe.status,
        body: probe.body,
        type: probe.headers['content-type'],
        upstream: probe.upstream,
      }).toEqual({ status: 200, body: 'OK', type: 'text/plain', upstream: [] });
      const actual: string[] = [];
      for (const path of UNROUTED) {
        for (const as of [undefined, 'team-a', adminOf(gw)])
          actual.push(`${path} as ${as ?? 'nobody'} → ${outcome(await call(gw, 'GET', path, { as }))}`);
      }
      expect(actual).toEqual(
        UNROUTED.flatMap((path) =>
          [undefined, 'team-a', adminOf(gw)].map((as) => `${path} as ${as ?? 'nobody'} → 404 no upstream`),
        ),
      );
    },
  );

  gatewayTest('nginx -t accepts the configuration without a warning', gateway, async (gw) => {
    const { code, output } = await testConfiguration(nginx.binary!, gw);
    expect({
      code,
      problems: output.split('\n').filter((line) => /\[(warn|error|crit|alert|emerg)\]/.test(line)),
    }).toEqual({ code: 0, problems: [] });
    expect(output).toContain('test is successful');
  });
}

describeWithNginx('auth enabled, tenants team-a and team-b', () => {
  const gateway = useGateway(MULTI_TENANT, 110);
  routingTests(gateway);

  const GUARDED: [string, string][] = [
    ['POST', '/loki/api/v1/push'],
    ['POST', '/otlp/v1/logs'],
    ['GET', `/loki/api/v1/query_range?query=${logql('{app="api"}')}`],
    ['GET', '/loki/api/v1/labels'],
    ['GET', '/loki/api/v1/tail'],
    ['GET', '/loki/api/v1/rules'],
    ['POST', '/loki/api/v1/delete'],
    ['GET', '/ring'],
    ['GET', '/config'],
  ];

  gatewayTest(
    'no credentials, a wrong password or an unknown user: 401 asking for Basic realm "Loki", and no component sees the request',
    gateway,
    async (gw) => {
      const refused: Credentials[] = [
        undefined,
        { user: 'team-a', password: 'wrong' },
        { user: 'team-a', password: '' },
        { user: 'team-a', password: `${gw.passwords['team-a']}x` },
        { user: 'team-a', password: gw.passwords['team-b']! },
        { user: 'TEAM-A', password: gw.passwords['team-a']! },
        { user: 'team-c', password: gw.passwords['team-a']! },
        { user: adminOf(gw), password: 'wrong' },
      ];
      const actual: string[] = [];
      const expected: string[] = [];
      for (const [method, path] of GUARDED) {
        for (const as of refused) {
          const result = await call(gw, method, path, { as });
          const who =
            as === undefined
              ? 'nobody'
              : typeof as === 'string'
                ? as
                : `${as.user}/${as.password === '' ? 'empty' : 'bad'} password`;
          actual.push(
            `${method} ${path} as ${who} → ${outcome(result)} ${result.headers['www-authenticate'] ?? 'no WWW-Authenticate'}`,
          );
          expected.push(`${method} ${path} as ${who} → 401 no upstream Basic realm="Loki"`);
        }
      }
      expect(actual).toEqual(expected);
    },
  );

  gatewayTest(
    "each tenant's password opens the tenant APIs: nginx's crypt(3) verifies the $2y$ bcrypt lines htpasswdFile wrote",
    gateway,
    async (gw) => {
      const lines = parseHtpasswd(gw.readUsers(HTPASSWD_KEYS.tenants));
      expect([...lines.keys()]).toEqual(TENANTS);
      for (const [user, line] of lines) expect(line).toMatch(new RegExp(`^${user}:\\$2y\\$05\\$[./A-Za-z0-9]{53}$`));
      expect(gw.readUsers(HTPASSWD_KEYS.admin)).toMatch(/^admin:\$2y\$05\$[./A-Za-z0-9]{53}\n$/);
      for (const tenant of gatewayTenants(gw.stack)) {
        const push = await call(gw, 'POST', '/loki/api/v1/push', { as: tenant, body: 'x' });
        const query = await call(gw, 'GET', `/loki/api/v1/query_range?query=${logql('{app="api"}')}`, { as: tenant });
        expect({ tenant, push: outcome(push), query: outcome(query) }).toEqual({
          tenant,
          push: '200 distributor /loki/api/v1/push',
          query: `200 queryFrontend /loki/api/v1/query_range?query=${logql('{app="api"}')}`,
        });
      }
    },
  );

  gatewayTest(
    'a tenant cannot open the admin pages and the admin user can; the admin user cannot push, query, tail, or touch rules and deletes',
    gateway,
    async (gw) => {
      const actual: string[] = [];
      const expected: string[] = [];
      for (const route of servedRoutes(gw.stack)) {
        const path = pathsOf(route)[0]!;
        for (const user of [...TENANTS, adminOf(gw)]) {
          const result = await call(gw, 'GET', path, { as: user });
          actual.push(`${route.access} ${path} as ${user} → ${outcome(result)}`);
          const allowed = (route.access === 'admin') === (user === adminOf(gw));
          expected.push(
            `${route.access} ${path} as ${user} → ${allowed ? `200 ${route.component} ${path}` : '401 no upstream'}`,
          );
        }
      }
      expect(actual).toEqual(expected);
    },
  );

  gatewayTest(
    'the component gets X-Scope-OrgID = the authenticated tenant, whatever the client sent; admin pages get none',
    gateway,
    async (gw) => {
      const actual: unknown[] = [];
      const expected: unknown[] = [];
      for (const route of servedRoutes(gw.stack)) {
        const path = pathsOf(route)[0]!;
        const sent: (string | undefined)[] = [undefined, 'team-a', 'team-a|team-b', 'admin'];
        for (const orgId of sent) {
          const user = route.access === 'admin' ? adminOf(gw) : 'team-b';
          const result = await call(gw, 'GET', path, {
            as: user,
            headers: orgId === undefined ? {} : { 'X-Scope-OrgID': orgId },
          });
          actual.push({
            path,
            user,
            sent: orgId ?? 'none',
            status: result.status,
            received: result.upstream.map((seen) => seen.headers['x-scope-orgid'] ?? 'none'),
          });
          expected.push({
            path,
            user,
            sent: orgId ?? 'none',
            status: 200,
            received: [route.access === 'admin' ? 'none' : 'team-b'],
          });
        }
      }
      expect(actual).toEqual(expected);
    },
  );

  gatewayTest(
    'tail: a WebSocket upgrade reaches the querier with its Upgrade header, as the tenant and without the password, and messages flow both ways',
    gateway,
    async (gw) => {
      for (const path of ['/loki/api/v1/tail', '/api/prom/tail']) {
        const url = `${path}?query=${logql('{app="api"}')}&delay_for=0`;
        const id = `socket-${++sequence}`;
        const socket = await openSocket(gw, url, {
          Authorization: basic('team-b', gw.passwords['team-b']!),
          'X-Scope-OrgID': 'team-a',
          'X-Test-Request': id,
        });
        try {
          expect(await exchange(socket, 'hello')).toBe('querier: hello');
          expect(await exchange(socket, 'again')).toBe('querier: again');
        } finally {
          socket.terminate();
        }
        const seen = gw.received.filter((request) => request.headers['x-test-request'] === id);
        expect(
          seen.map((request) => ({
            component: request.component,
            upgrade: request.upgrade,
            method: request.method,
            url: request.url,
            upgradeHeader: request.headers.upgrade,
            connection: request.headers.connection,
            orgId: request.headers['x-scope-orgid'],
            authorization: request.headers.authorization ?? 'not sent',
            key: typeof request.headers['sec-websocket-key'],
          })),
        ).toEqual([
          {
            component: 'querier',
            upgrade: true,
            method: 'GET',
            url,
            upgradeHeader: 'websocket',
            connection: 'upgrade',
            orgId: 'team-b',
            authorization: 'not sent',
            key: 'string',
          },
        ]);
      }
      // Without credentials the handshake is refused before the querier sees it.
      const id = `socket-${++sequence}`;
      await expect(openSocket(gw, '/loki/api/v1/tail', { 'X-Test-Request': id })).rejects.toThrow(
        'handshake answered 401',
      );
      expect(gw.received.filter((request) => request.headers['x-test-request'] === id)).toEqual([]);
    },
  );

  gatewayTest(
    'a new password works at the next request, without restarting nginx; htpasswdFile keeps the line of an unchanged password byte for byte',
    gateway,
    async (gw) => {
      const before = gw.readUsers(HTPASSWD_KEYS.tenants);
      const previous = parseHtpasswd(before);
      // apply rewrites the Secret at every run: unchanged passwords must give the same bytes (the same salts).
      expect(htpasswdFile(TENANTS, gw.passwords, previous)).toBe(before);
      const changed = { ...gw.passwords, 'team-b': 'a-new-password-for-team-b' };
      const after = htpasswdFile(TENANTS, changed, previous);
      expect(parseHtpasswd(after).get('team-a')).toBe(previous.get('team-a'));
      expect(parseHtpasswd(after).get('team-b')).not.toBe(previous.get('team-b'));

      // What a labels query as user/password gets: its status and the tenant Loki sees.
      const as = (user: string, password: string) =>
        call(gw, 'GET', '/loki/api/v1/labels', { as: { user, password } }).then(
          (result) => `${result.status} ${result.upstream.map((seen) => seen.headers['x-scope-orgid']).join()}`,
        );
      gw.writeUsers(HTPASSWD_KEYS.tenants, after);
      try {
        expect({
          oldPassword: await as('team-b', gw.passwords['team-b']!),
          newPassword: await as('team-b', changed['team-b']),
          otherTenant: await as('team-a', gw.passwords['team-a']!),
        }).toEqual({ oldPassword: '401 ', newPassword: '200 team-b', otherTenant: '200 team-a' });
      } finally {
        gw.writeUsers(HTPASSWD_KEYS.tenants, before);
      }
      expect({
        oldPassword: await as('team-b', gw.passwords['team-b']!),
        newPassword: await as('team-b', changed['team-b']),
      }).toEqual({ oldPassword: '200 team-b', newPassword: '401 ' });
    },
  );
});

describeWithNginx('auth disabled', () => {
  const gateway = useGateway(SINGLE_TENANT, 120);
  routingTests(gateway);

  gatewayTest('the gateway adds no X-Scope-OrgID, and still asks every caller for a password', gateway, async (gw) => {
    const actual: string[] = [];
    const expected: string[] = [];
    for (const route of servedRoutes(gw.stack)) {
      const path = pathsOf(route)[0]!;
      const result = await call(gw, 'GET', path, { as: userFor(gw, route) });
      actual.push(
        `${path} → ${result.status} X-Scope-OrgID ${result.upstream.map((seen) => seen.headers['x-scope-orgid'] ?? 'none').join()}`,
      );
      expected.push(`${path} → 200 X-Scope-OrgID none`);
      const anonymous = await call(gw, 'GET', path);
      actual.push(`${path} without credentials → ${outcome(anonymous)}`);
      expected.push(`${path} without credentials → 401 no upstream`);
    }
    expect(actual).toEqual(expected);
  });
});

describeWithNginx('auth enabled, ruler disabled', () => {
  const gateway = useGateway(NO_RULER, 130);
  routingTests(gateway);
});

describeWithNginx('auth enabled, pattern ingester enabled', () => {
  const gateway = useGateway(PATTERNS, 140);
  routingTests(gateway);
});

/** A WebSocket through the gateway, open; rejects with the status if the handshake is not a 101. */
function openSocket(gw: Gateway, path: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, { headers, handshakeTimeout: 10_000 });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`WebSocket handshake answered ${response.statusCode}`));
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

function exchange(socket: WebSocket, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('message', (data) => resolve(String(data)));
    socket.once('error', reject);
    socket.send(message);
  });
}
