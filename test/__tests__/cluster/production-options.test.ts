// The production options against the test API server: the gateway (passwords generated once, htpasswd
// derived and stable, the smoke test through it over a port-forward, authenticated), generated mTLS
// certificates (issued, kept on re-apply, renewed past 80% of their life with the pods rolling), cert-manager
// (Certificates applied, what it issues mounted and kept), Prometheus Operator objects, the gateway exposed
// through an Ingress or an HTTPRoute, and the clear refusal when the cluster lacks a CRD an option needs.
import { PatchStrategy } from '@kubernetes/client-node';
import bcrypt from 'bcryptjs';
import {
  applyStack,
  ClusterError,
  destroyStack,
  getStackStatus,
  smokeOptionsOf,
  smokeTest,
  SmokeTestError,
  waitForStack,
  type ApplyResult,
  type LokiStack,
} from 'loki-microservices';
import { caSecretName, certificateRequests, TLS_HASH_ANNOTATION, tlsSecretName } from 'loki-microservices/testing';
import type { RunningApiServer } from '../../src/apiserver/index.js';
import { FAST_RETRY, proxyGet, startFixture, stackOf, type Fixture } from './fixture.js';

type Json = Record<string, any>;

const DAY = 24 * 3_600_000;

const changed = (result: ApplyResult) =>
  result.objects
    .filter((object) => object.action !== 'unchanged')
    .map((object) => `${object.kind}/${object.name} ${object.action}`);

function secretData(running: RunningApiServer, namespace: string, name: string): Record<string, string> | undefined {
  const secret = running.server.store.get('Secret', namespace, name) as Json | undefined;
  if (!secret) return undefined;
  return Object.fromEntries(
    Object.entries((secret.data ?? {}) as Record<string, string>).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString(),
    ]),
  );
}

function podAnnotations(
  running: RunningApiServer,
  namespace: string,
  kind: 'Deployment' | 'StatefulSet',
  name: string,
): Record<string, string> {
  return ((running.server.store.get(kind, namespace, name) as Json).spec.template.metadata.annotations ?? {}) as Record<
    string,
    string
  >;
}

/** A query to the query-frontend as a tenant (through the service proxy, the test's own client). */
async function queryAs(fixture: Fixture, namespace: string, tenant: string, line: string): Promise<string> {
  const query = new URLSearchParams({
    query: `{job="loki-microservices-smoke"} |= "${line}"`,
    start: String(Math.floor(Date.now() / 1000) - 600),
    limit: '10',
  });
  return (
    await proxyGet(fixture, namespace, 'loki-query-frontend', `/loki/api/v1/query_range?${query}`, {
      'X-Scope-OrgID': tenant,
    })
  ).body;
}

describe('the gateway', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await startFixture();
  });
  afterAll(() => fixture.close());

  const gatewayStack = (namespace: string, gateway: Json = {}) =>
    stackOf({
      metadata: { namespace },
      spec: {
        auth: { enabled: true, tenant: 'team-a' },
        gateway: { enabled: true, tenants: ['team-a', 'team-b'], ...gateway },
      },
    });

  async function ready(stack: LokiStack): Promise<void> {
    await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
    await waitForStack(
      fixture.connection,
      { name: 'loki', namespace: stack.metadata.namespace },
      { timeoutMs: 20_000, retry: FAST_RETRY },
    );
  }

  test('apply generates a password per user once and the htpasswd files from them; a second apply changes nothing', async () => {
    const stack = gatewayStack('g-secrets');
    const first = await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
    expect(first.secrets).toEqual(expect.arrayContaining([{ name: 'loki-gateway-passwords', action: 'created' }]));
    const passwords = secretData(fixture.running, 'g-secrets', 'loki-gateway-passwords')!;
    expect(Object.keys(passwords).sort()).toEqual(['admin', 'team-a', 'team-b']);
    for (const password of Object.values(passwords)) expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(Object.values(passwords)).size).toBe(3);

    const htpasswd = secretData(fixture.running, 'g-secrets', 'loki-gateway-htpasswd')!;
    const lines = (file: string) =>
      new Map(
        file
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
      );
    const tenants = lines(htpasswd['tenants.htpasswd']!);
    expect([...tenants.keys()]).toEqual(['team-a', 'team-b']);
    for (const [user, hash] of tenants) expect(bcrypt.compareSync(passwords[user]!, hash)).toBe(true);
    expect(bcrypt.compareSync(passwords.admin!, lines(htpasswd['admin.htpasswd']!).get('admin')!)).toBe(true);
    // Only hashes: no password is in the htpasswd Secret, the gateway's ConfigMap or the config.
    const stored =
      JSON.stringify(fixture.running.server.store.list('ConfigMap', 'g-secrets')) + JSON.stringify(htpasswd);
    for (const password of Object.values(passwords)) expect(stored).not.toContain(password);

    const again = await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
    expect(changed(again)).toEqual([]);
    expect(again.secrets).toEqual(expect.arrayContaining([{ name: 'loki-gateway-passwords', action: 'kept' }]));
    expect(secretData(fixture.running, 'g-secrets', 'loki-gateway-htpasswd')).toEqual(htpasswd);
  });

  test('a new tenant gets a password and a line; the others keep theirs byte for byte', async () => {
    await applyStack(fixture.connection, gatewayStack('g-grow'), { retry: FAST_RETRY });
    const before = {
      passwords: secretData(fixture.running, 'g-grow', 'loki-gateway-passwords')!,
      htpasswd: secretData(fixture.running, 'g-grow', 'loki-gateway-htpasswd')!,
    };
    const result = await applyStack(
      fixture.connection,
      gatewayStack('g-grow', { tenants: ['team-a', 'team-b', 'team-c'] }),
      { retry: FAST_RETRY },
    );
    expect(result.secrets).toEqual(expect.arrayContaining([{ name: 'loki-gateway-passwords', action: 'extended' }]));
    const passwords = secretData(fixture.running, 'g-grow', 'loki-gateway-passwords')!;
    expect(passwords).toEqual({ ...before.passwords, 'team-c': expect.stringMatching(/^[A-Za-z0-9]{32}$/) });
    const htpasswd = secretData(fixture.running, 'g-grow', 'loki-gateway-htpasswd')!;
    const tenants = htpasswd['tenants.htpasswd']!.trim().split('\n');
    expect(tenants.slice(0, 2)).toEqual(before.htpasswd['tenants.htpasswd']!.trim().split('\n'));
    expect(bcrypt.compareSync(passwords['team-c']!, tenants[2]!.slice('team-c:'.length))).toBe(true);
  });

  test("smoke test through the gateway, as the stack tenant over a port-forward; the line is that tenant's", async () => {
    const stack = gatewayStack('g-smoke');
    await ready(stack);
    const status = await getStackStatus(fixture.connection, { name: 'loki', namespace: 'g-smoke' });
    expect(status.components.gateway).toMatchObject({ kind: 'Deployment', ready: 1, desired: 1 });
    expect(status.endpoints).toEqual({
      push: 'http://loki-gateway.g-smoke.svc.cluster.local/loki/api/v1/push',
      query: 'http://loki-gateway.g-smoke.svc.cluster.local',
      basicAuth: true,
    });

    fixture.running.server.faults.clearLog();
    const result = await smokeTest(
      fixture.connection,
      { name: 'loki', namespace: 'g-smoke' },
      { timeoutMs: 10_000, intervalMs: 50, ...smokeOptionsOf(stack) },
    );
    expect(result).toMatchObject({ through: 'gateway', tenant: 'team-a' });
    // Over a port-forward to a gateway pod, never the service proxy (which would drop the Authorization header).
    const paths = fixture.running.server.faults.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(
      paths.some((path) =>
        /^GET \/api\/v1\/namespaces\/g-smoke\/pods\/loki-gateway-[a-z0-9-]+\/portforward$/.test(path),
      ),
    ).toBe(true);
    expect(paths.some((path) => path.includes('/services/'))).toBe(false);
    expect(await queryAs(fixture, 'g-smoke', 'team-a', result.line)).toContain(result.line);
    expect(await queryAs(fixture, 'g-smoke', 'team-b', result.line)).not.toContain(result.line);
  });

  test("a wrong password fails the smoke test at once with the gateway's 401, and never shows the password", async () => {
    const stack = gatewayStack('g-wrong');
    await ready(stack);
    const changedPassword = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'loki-gateway-passwords', namespace: 'g-wrong' },
      stringData: { 'team-a': 'not-the-password' },
    };
    await fixture.connection.objects.patch(
      changedPassword,
      undefined,
      undefined,
      'test',
      undefined,
      PatchStrategy.MergePatch,
    );
    const started = Date.now();
    const error = await smokeTest(
      fixture.connection,
      { name: 'loki', namespace: 'g-wrong' },
      { timeoutMs: 20_000, intervalMs: 50, ...smokeOptionsOf(stack) },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmokeTestError);
    expect((error as Error).message).toMatch(
      /^smoke test failed: the push to the distributor through the gateway answered HTTP 401/,
    );
    expect((error as Error).message).not.toContain('not-the-password');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("a passwords Secret of the user's that is missing, or lacks a user, stops apply before anything is sent", async () => {
    const stack = gatewayStack('g-own', { passwordsSecret: 'my-passwords' });
    const missing = await applyStack(fixture.connection, stack, { retry: FAST_RETRY }).catch(
      (caught: unknown) => caught,
    );
    expect(missing).toBeInstanceOf(ClusterError);
    expect((missing as Error).message).toBe(
      'Secret g-own/my-passwords (spec.gateway.passwordsSecret) does not exist: create it with a password per gateway user, or remove spec.gateway.passwordsSecret to have apply generate them',
    );
    expect(fixture.running.server.store.get('Namespace', undefined, 'g-own')).toBeUndefined();

    await fixture.connection.objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'g-own' } });
    await fixture.connection.objects.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'my-passwords', namespace: 'g-own' },
      stringData: { 'team-a': 'a-secret-a', admin: 'a-secret-admin' },
    } as never);
    const lacking = await applyStack(fixture.connection, stack, { retry: FAST_RETRY }).catch(
      (caught: unknown) => caught,
    );
    expect((lacking as Error).message).toMatch(
      /^Secret g-own\/my-passwords \(spec.gateway.passwordsSecret\) has no password for "team-b"/,
    );
    expect((lacking as Error).message).not.toContain('a-secret');
    expect(fixture.running.server.store.list('Deployment', 'g-own')).toEqual([]);
  });

  test('destroy removes the gateway with its passwords and htpasswd Secrets', async () => {
    const stack = gatewayStack('g-destroy');
    await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
    const result = await destroyStack(
      fixture.connection,
      { name: 'loki', namespace: 'g-destroy' },
      { timeoutMs: 20_000, retry: FAST_RETRY },
    );
    expect(result.deleted).toEqual(
      expect.arrayContaining([
        { kind: 'Secret', name: 'loki-gateway-passwords' },
        { kind: 'Secret', name: 'loki-gateway-htpasswd' },
        { kind: 'Deployment', name: 'loki-gateway' },
        { kind: 'ConfigMap', name: 'loki-gateway' },
      ]),
    );
  });
});

describe('mTLS with generated certificates', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await startFixture();
  });
  afterAll(() => fixture.close());

  const tlsStack = (namespace: string) => stackOf({ metadata: { namespace }, spec: { tls: { enabled: true } } });

  test('apply issues a CA and a certificate per component, mounts each and marks its pods; a second apply changes nothing', async () => {
    const stack = tlsStack('t-issue');
    await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
    const ca = fixture.running.server.store.get('Secret', 't-issue', caSecretName(stack)) as Json;
    expect(ca.type).toBe('kubernetes.io/tls');
    for (const request of certificateRequests(stack)) {
      const secret = fixture.running.server.store.get('Secret', 't-issue', request.secretName) as Json;
      expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    }
    expect(podAnnotations(fixture.running, 't-issue', 'StatefulSet', 'loki-ingester')[TLS_HASH_ANNOTATION]).toMatch(
      /^[0-9a-f]{64}$/,
    );
    await waitForStack(
      fixture.connection,
      { name: 'loki', namespace: 't-issue' },
      { timeoutMs: 20_000, retry: FAST_RETRY },
    );
    expect(changed(await applyStack(fixture.connection, stack, { retry: FAST_RETRY }))).toEqual([]);
  });

  test('past 80% of their life the certificates are renewed, the CA is kept, and the pods roll to the new ones', async () => {
    const stack = tlsStack('t-renew');
    await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
    await waitForStack(
      fixture.connection,
      { name: 'loki', namespace: 't-renew' },
      { timeoutMs: 20_000, retry: FAST_RETRY },
    );
    const ca = secretData(fixture.running, 't-renew', caSecretName(stack));
    const before = podAnnotations(fixture.running, 't-renew', 'StatefulSet', 'loki-ingester')[TLS_HASH_ANNOTATION];
    const ingesterCert = secretData(fixture.running, 't-renew', tlsSecretName(stack, 'ingester'))!['tls.crt'];

    expect(
      changed(await applyStack(fixture.connection, stack, { retry: FAST_RETRY, now: new Date(Date.now() + 60 * DAY) })),
    ).toEqual([]);
    const renewal = await applyStack(fixture.connection, stack, {
      retry: FAST_RETRY,
      now: new Date(Date.now() + 73 * DAY),
    });
    expect(changed(renewal)).toEqual(
      expect.arrayContaining([
        'Secret/loki-ingester-tls configured',
        'StatefulSet/loki-ingester configured',
        'Deployment/loki-distributor configured',
      ]),
    );
    expect(changed(renewal)).not.toContain(`Secret/${caSecretName(stack)} configured`);
    expect(secretData(fixture.running, 't-renew', caSecretName(stack))).toEqual(ca);
    expect(secretData(fixture.running, 't-renew', tlsSecretName(stack, 'ingester'))!['tls.crt']).not.toBe(ingesterCert);
    expect(podAnnotations(fixture.running, 't-renew', 'StatefulSet', 'loki-ingester')[TLS_HASH_ANNOTATION]).not.toBe(
      before,
    );
    const { status } = await waitForStack(
      fixture.connection,
      { name: 'loki', namespace: 't-renew' },
      { timeoutMs: 20_000, retry: FAST_RETRY },
    );
    expect(status.condition.type).toBe('Ready');
  });
});

describe('options that need a CRD', () => {
  let bare: Fixture;
  let equipped: Fixture;
  beforeAll(async () => {
    [bare, equipped] = await Promise.all([
      startFixture(),
      startFixture({ crds: ['cert-manager.io', 'monitoring.coreos.com', 'gateway.networking.k8s.io'] }),
    ]);
  });
  afterAll(() => Promise.all([bare.close(), equipped.close()]));

  const certManagerStack = (namespace: string) =>
    stackOf({ metadata: { namespace }, spec: { tls: { enabled: true, provider: 'cert-manager' } } });
  const operatorStack = (namespace: string, prometheusOperator = true) =>
    stackOf({ metadata: { namespace }, spec: { monitoring: { enabled: true, prometheusOperator } } });
  const exposedStack = (namespace: string, expose?: Record<string, unknown>) =>
    stackOf({ metadata: { namespace }, spec: { gateway: { enabled: true, ...(expose ? { expose } : {}) } } });
  const httpRoute = { parentRefs: [{ name: 'public', namespace: 'gateways' }], hostnames: ['loki.example.com'] };

  test.each([
    [
      'tls.provider cert-manager',
      certManagerStack('c-none'),
      /^the cluster does not serve cert-manager.io\/v1 Issuer, cert-manager.io\/v1 Certificate, which spec.tls.provider: cert-manager needs: install cert-manager \(its CRDs\), or turn the option off; nothing was applied$/,
    ],
    [
      'monitoring.prometheusOperator',
      operatorStack('c-none'),
      /^the cluster does not serve monitoring.coreos.com\/v1 PodMonitor, monitoring.coreos.com\/v1 PrometheusRule, which spec.monitoring.prometheusOperator needs: install the Prometheus Operator/,
    ],
    [
      'gateway.expose.ingress.tls.issuerRef (cert-manager issues through its ingress-shim)',
      exposedStack('c-none', { ingress: { host: 'loki.example.com', tls: { issuerRef: { name: 'letsencrypt' } } } }),
      /^the cluster does not serve cert-manager.io\/v1 Certificate, which spec.gateway.expose.ingress.tls.issuerRef needs: install cert-manager \(its CRDs\), or turn the option off; nothing was applied$/,
    ],
    [
      'gateway.expose.httpRoute',
      exposedStack('c-none', { httpRoute }),
      /^the cluster does not serve gateway.networking.k8s.io\/v1 HTTPRoute, which spec.gateway.expose.httpRoute needs: install the Gateway API \(its CRDs\), or turn the option off; nothing was applied$/,
    ],
  ])('%s on a cluster without the CRD: refused before anything is sent', async (_name, stack, message) => {
    const error = await applyStack(bare.connection, stack, { retry: FAST_RETRY }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as Error).message).toMatch(message);
    expect(bare.running.server.store.get('Namespace', undefined, 'c-none')).toBeUndefined();
  });

  test('cert-manager: Certificates applied, the workloads applied once it has issued them, marked with their hash; nothing changes on re-apply, and destroy removes its Secrets too', async () => {
    const stack = certManagerStack('c-cm');
    const first = await applyStack(equipped.connection, stack, { retry: FAST_RETRY });
    expect(
      first.objects
        .filter((o) => o.kind === 'Certificate')
        .map((o) => o.name)
        .sort(),
    ).toEqual([caSecretName(stack), ...certificateRequests(stack).map((r) => r.secretName)].sort());
    expect(first.objects.filter((o) => o.kind === 'Issuer').map((o) => o.name)).toEqual([
      'loki-tls-selfsigned',
      'loki-tls-ca',
    ]);
    const issued = secretData(equipped.running, 'c-cm', tlsSecretName(stack, 'ingester'))!;
    expect(issued['tls.crt']).toMatch(/BEGIN CERTIFICATE/);
    expect(podAnnotations(equipped.running, 'c-cm', 'StatefulSet', 'loki-ingester')[TLS_HASH_ANNOTATION]).toMatch(
      /^[0-9a-f]{64}$/,
    );
    await waitForStack(
      equipped.connection,
      { name: 'loki', namespace: 'c-cm' },
      { timeoutMs: 20_000, retry: FAST_RETRY },
    );

    // cert-manager's Secrets carry the stack's labels but are not ours to prune.
    const again = await applyStack(equipped.connection, stack, { retry: FAST_RETRY });
    expect(changed(again)).toEqual([]);
    expect(secretData(equipped.running, 'c-cm', tlsSecretName(stack, 'ingester'))).toEqual(issued);

    const destroyed = await destroyStack(
      equipped.connection,
      { name: 'loki', namespace: 'c-cm' },
      { timeoutMs: 20_000, retry: FAST_RETRY },
    );
    expect(destroyed.deleted).toEqual(
      expect.arrayContaining([
        { kind: 'Certificate', name: 'loki-ingester-tls' },
        { kind: 'Secret', name: 'loki-ingester-tls' },
        { kind: 'Issuer', name: 'loki-tls-ca' },
      ]),
    );
    expect(
      equipped.running.server.store.list('Secret', 'c-cm').filter((s) => s.metadata.name.endsWith('-tls')),
    ).toEqual([]);
  });

  test('Prometheus Operator: a PodMonitor and a PrometheusRule applied with the stack, pruned when the option goes off', async () => {
    await applyStack(equipped.connection, operatorStack('c-mon'), { retry: FAST_RETRY });
    expect(equipped.running.server.store.list('PodMonitor', 'c-mon').map((o) => o.metadata.name)).toEqual(['loki']);
    expect(equipped.running.server.store.list('PrometheusRule', 'c-mon').map((o) => o.metadata.name)).toEqual(['loki']);
    const off = await applyStack(equipped.connection, operatorStack('c-mon', false), { retry: FAST_RETRY });
    expect(changed(off)).toEqual(expect.arrayContaining(['PodMonitor/loki pruned', 'PrometheusRule/loki pruned']));
    expect(equipped.running.server.store.list('PodMonitor', 'c-mon')).toEqual([]);
  });

  test('an Ingress needs no CRD: applied on a bare cluster, the external URLs in the status, pruned when expose goes', async () => {
    const ingress = { host: 'loki.example.com', tls: { secretName: 'loki-example-tls' } };
    const first = await applyStack(bare.connection, exposedStack('c-ing', { ingress }), { retry: FAST_RETRY });
    expect(changed(first)).toContain('Ingress/loki-gateway created');
    const stored = bare.running.server.store.get('Ingress', 'c-ing', 'loki-gateway') as Json;
    expect(stored.spec.rules[0].http.paths[0].backend.service).toEqual({
      name: 'loki-gateway',
      port: { name: 'http' },
    });
    const status = await getStackStatus(bare.connection, { name: 'loki', namespace: 'c-ing' });
    expect(status.endpoints.external).toEqual({
      push: 'https://loki.example.com/loki/api/v1/push',
      query: 'https://loki.example.com',
    });
    const off = await applyStack(bare.connection, exposedStack('c-ing'), { retry: FAST_RETRY });
    expect(changed(off)).toContain('Ingress/loki-gateway pruned');
    expect(bare.running.server.store.get('Ingress', 'c-ing', 'loki-gateway')).toBeUndefined();
    const internal = await getStackStatus(bare.connection, { name: 'loki', namespace: 'c-ing' });
    expect(internal.endpoints.external).toBeUndefined();
  });

  test('Gateway API: the HTTPRoute applied where its CRD is served, unchanged on re-apply, pruned when the option goes off', async () => {
    const first = await applyStack(equipped.connection, exposedStack('c-route', { httpRoute }), { retry: FAST_RETRY });
    expect(changed(first)).toContain('HTTPRoute/loki-gateway created');
    const stored = equipped.running.server.store.get('HTTPRoute', 'c-route', 'loki-gateway') as Json;
    expect(stored.spec.parentRefs).toEqual(httpRoute.parentRefs);
    const again = await applyStack(equipped.connection, exposedStack('c-route', { httpRoute }), { retry: FAST_RETRY });
    expect(changed(again)).toEqual([]);
    const status = await getStackStatus(equipped.connection, { name: 'loki', namespace: 'c-route' });
    expect(status.endpoints.external?.query).toBe('https://loki.example.com');
    const off = await applyStack(equipped.connection, exposedStack('c-route'), { retry: FAST_RETRY });
    expect(changed(off)).toContain('HTTPRoute/loki-gateway pruned');
    expect(equipped.running.server.store.list('HTTPRoute', 'c-route')).toEqual([]);
  });
});
