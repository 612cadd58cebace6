// Attack 2: credentials in what the tool prints. A refused port-forward once crashed the CLI with Node's dump
// of the WebSocket request, `Authorization: Bearer <token>` included, and the Action printed it unmasked when
// the kubeconfig was a path; an admission webhook that quotes a Secret's data had its words printed as they
// came. Every error passes one redaction layer, every socket error is handled, and the Action masks every
// credential a kubeconfig can carry.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { applyStack, kubeconfigSecrets, parseSpec, waitForStack } from 'loki-microservices';
import { stringify } from 'yaml';
import { FAST_RETRY, startFixture, type Fixture } from '../cluster/fixture.js';
import { runAction } from '../action/run-action.js';
import { cli, printed } from './harness.js';

jest.setTimeout(180_000);

let fixture: Fixture;
const token = () => fixture.running.server.token;

beforeAll(async () => {
  fixture = await startFixture();
  const stack = parseSpec({ metadata: { namespace: 'gw' }, spec: { gateway: { enabled: true } } });
  await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
  await waitForStack(fixture.connection, { name: 'loki', namespace: 'gw' }, { timeoutMs: 60_000 });
});

afterEach(() => fixture.running.server.faults.allowAll());

afterAll(async () => {
  await fixture.close();
  // Nothing any run printed carries the cluster's token.
  expect(printed.join('\n')).not.toContain(token());
});

test('a refused port-forward fails the smoke test with a message, not a crash dump carrying the token', async () => {
  fixture.running.server.faults.forbid({ verb: 'create', resource: 'pods/portforward' });
  const result = await cli(fixture.running, [
    'smoke',
    '--set',
    'metadata.namespace=gw',
    '--set',
    'spec.gateway.enabled=true',
    '--timeout',
    '20s',
  ]);
  expect(`${result.stdout}${result.stderr}`).not.toContain(token());
  expect(result.stderr).not.toMatch(/Unhandled|_header|crashed/);
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(/smoke test failed: the API server refused the port-forward .* HTTP 403/);
});

test('the Action given a kubeconfig path masks its token, and a refused port-forward prints no token', async () => {
  fixture.running.server.faults.forbid({ verb: 'create', resource: 'pods/portforward' });
  const result = await runAction({
    inputs: { kubeconfig: fixture.running.kubeconfigPath, namespace: 'gw', gateway: 'true', timeout: '30s' },
  });
  expect(result.stdout).toContain(`::add-mask::${token()}`);
  // What the runner shows: it consumes the ::add-mask:: commands.
  const shown = result.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  printed.push(shown, result.stderr, result.summary);
  expect(`${shown}${result.stderr}${result.summary}`).not.toContain(token());
  expect(result.code).not.toBe(0);
  expect(shown).toMatch(/::error.*smoke test failed/);
});

test('an admission webhook quoting the Secret it refuses: the values are not printed', async () => {
  const quoted: string[] = [];
  fixture.running.server.faults.deny({ verb: 'create', resource: 'secrets', namespace: 'webhook' }, (body) => {
    const secret = body as { stringData?: Record<string, string>; data?: Record<string, string> };
    quoted.push(...Object.values(secret.stringData ?? {}), ...Object.values(secret.data ?? {}));
    return `refused ${JSON.stringify(body)}`;
  });
  const result = await cli(fixture.running, ['apply', '--set', 'metadata.namespace=webhook']);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/admission webhook .* denied the request/);
  expect(quoted.length).toBeGreaterThan(0);
  for (const value of quoted) expect(`${result.stdout}${result.stderr}`).not.toContain(value);
});

test('every credential a kubeconfig can carry is found for masking', () => {
  const directory = mkdtempSync(join(tmpdir(), 'kubeconfig-secrets-'));
  const keyFile = join(directory, 'client.key');
  writeFileSync(keyFile, '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFILEKEYLINE\n-----END EC PRIVATE KEY-----\n');
  const users = [
    { name: 'token', user: { token: 'static-token-1234' } },
    { name: 'basic', user: { username: 'admin', password: 'basic-password-1234' } },
    { name: 'key-data', user: { 'client-certificate-data': 'Y2VydA==', 'client-key-data': 'a2V5LWRhdGEtMTIzNA==' } },
    { name: 'key-file', user: { 'client-certificate-data': 'Y2VydA==', 'client-key': keyFile } },
    {
      name: 'oidc',
      user: {
        'auth-provider': {
          name: 'oidc',
          config: {
            'id-token': 'oidc-id-token-1234',
            'refresh-token': 'oidc-refresh-1234',
            'client-secret': 'oidc-client-secret-1234',
            'client-id': 'public',
          },
        },
      },
    },
    {
      name: 'exec',
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: 'get-token',
          env: [{ name: 'CLOUD_SECRET', value: 'exec-env-secret-1234' }],
        },
      },
    },
  ];
  const text = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://k8s.example.com' } }],
    users,
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'token' } }],
    'current-context': 'c',
  });
  const path = join(directory, 'kubeconfig');
  writeFileSync(path, text);
  const expected = [
    'static-token-1234',
    'basic-password-1234',
    'a2V5LWRhdGEtMTIzNA==',
    'MHcCAQEEIFILEKEYLINE',
    'oidc-id-token-1234',
    'oidc-refresh-1234',
    'oidc-client-secret-1234',
    'exec-env-secret-1234',
  ];
  for (const found of [kubeconfigSecrets({ text }), kubeconfigSecrets({ path })]) {
    for (const secret of expected) expect(found.some((value) => value.includes(secret))).toBe(true);
    // Multi-line values are masked line by line too (the runner masks one line at a time).
    expect(found).toContain('MHcCAQEEIFILEKEYLINE');
    expect(found).not.toContain('public');
  }
});

test('a Nomad address with user:password@ is not printed with its password', async () => {
  const result = await cli(undefined, [
    'status',
    '--target',
    'nomad',
    '--nomad-addr',
    'http://admin:nomad-pass-1234@127.0.0.1:9/',
  ]);
  expect(result.code).not.toBe(0);
  expect(`${result.stdout}${result.stderr}`).not.toContain('nomad-pass-1234');
  expect(result.stderr).toMatch(/127\.0\.0\.1:9/);
});
