// The installed command, run as users run it: a real process, real exit codes, real files.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';

const BIN = fileURLToPath(new URL('../../shared/bin/loki-microservices.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/specs/', import.meta.url));

async function run(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const child = promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env } });
  if (options.input !== undefined) child.child.stdin!.end(options.input);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const documents = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as { kind: string; metadata: { name: string } })
    .filter(Boolean);

test('render without a spec prints the default stack in apply order and exits 0', async () => {
  const result = await run(['render']);
  expect(result.code).toBe(0);
  expect(result.stderr).toBe('');
  const objects = documents(result.stdout);
  expect(objects[0]!.kind).toBe('Namespace');
  expect(objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment')).toHaveLength(9);
  expect(result.stdout).toMatch(/^# Loki 3\.7\.\d+ microservices stack "loki"/);
});

test('an invalid spec exits 2 and prints nothing on stdout', async () => {
  const result = await run(['render', '--set', 'spec.profile=huge', '--set', 'metadata.name=Bad']);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/spec\.profile: must be one of/);
  expect(result.stderr).toMatch(/metadata\.name: must be a DNS-1123 label/);
});

test('-f - reads the spec from standard input', async () => {
  const result = await run(['render', '-f', '-'], { input: 'metadata: { name: piped, namespace: logs }\n' });
  expect(result.code).toBe(0);
  expect(documents(result.stdout).find((o) => o.kind === 'ConfigMap')!.metadata.name).toBe('piped-config');
});

test('a spec warning goes to stderr and the stack is still rendered', async () => {
  const spec = [
    'spec:',
    '  auth: { enabled: true, tenant: team-a }',
    '  gateway: { enabled: true, tenants: [team-a] }',
    '  overrides: { team-a: { queryTimeout: 5m }, team-z: { queryTimeout: 5m } }',
  ].join('\n');
  const result = await run(['render', '-f', '-'], { input: `${spec}\n` });
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/^warning: spec\.overrides\.team-z: "team-z" is not in spec\.gateway\.tenants/);
  expect(result.stderr).not.toMatch(/team-a/);
  const runtime = documents(result.stdout).find((o) => o.metadata.name === 'loki-runtime') as unknown as {
    data: Record<string, string>;
  };
  expect(parse(runtime.data['runtime.yaml']!)).toEqual({
    overrides: { 'team-a': { query_timeout: '5m' }, 'team-z': { query_timeout: '5m' } },
  });
});

test('credentials in the environment never reach the output', async () => {
  const sentinel = 'sentinel-Secret-Value-9f2c';
  const env = {
    AWS_ACCESS_KEY_ID: sentinel,
    AWS_SECRET_ACCESS_KEY: sentinel,
    LOKI_S3_SECRET_ACCESS_KEY: sentinel,
    AZURE_STORAGE_ACCOUNT_KEY: sentinel,
  };
  for (const file of readdirSync(FIXTURES)) {
    const result = await run(['render', '-f', join(FIXTURES, file)], { env });
    expect({ file, code: result.code }).toEqual({ file, code: 0 });
    expect(result.stdout + result.stderr).not.toContain(sentinel);
  }
});

test('-o writes one file per object and a kustomization listing them in apply order', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'loki-render-'));
  const result = await run(['render', '-o', directory, '--set', 'spec.profile=small']);
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/wrote \d+ files/);
  expect(result.stderr).toMatch(/Secret loki\/loki-object-store/);
  const kustomization = parse(readFileSync(join(directory, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  expect(kustomization.resources.sort()).toEqual(
    readdirSync(directory)
      .filter((f) => f !== 'kustomization.yaml')
      .sort(),
  );
  const fromFiles = kustomization.resources.flatMap((file) => documents(readFileSync(join(directory, file), 'utf8')));
  const fromStdout = documents((await run(['render', '--set', 'spec.profile=small'])).stdout);
  expect(fromFiles).toEqual(fromStdout);
  expect(kustomization.resources[0]).toMatch(/^01-namespace-loki\.yaml$/);
});

test('every example spec renders', async () => {
  const files = readdirSync(FIXTURES);
  expect(files.length).toBeGreaterThanOrEqual(4);
  for (const file of files) {
    const result = await run(['render', '-f', join(FIXTURES, file)]);
    expect({ file, code: result.code, stderr: result.stderr }).toEqual({ file, code: 0, stderr: '' });
  }
});

test('help and version', async () => {
  const help = await run(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/Commands:\n\s+render/);
  const renderHelp = await run(['render', '--help']);
  expect(renderHelp.code).toBe(0);
  expect(renderHelp.stdout).toMatch(/--set PATH=VALUE/);
  expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  expect((await run([])).code).toBe(2);
});
