// Rules as code through the installed CLI against the test API server: rule files next to the spec and inline
// groups reach the ruler as one ConfigMap per tenant, `apply --wait` reads the ruler's rules API for every
// declared group, and a group the ruler reports failing makes it exit 3 naming the file and the group.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { stringify } from 'yaml';
import { SHOP_RULES } from '../src/specs.js';
import { startFixture, type Fixture } from './cluster/fixture.js';

jest.setTimeout(120_000);

const BIN = fileURLToPath(new URL('../../shared/bin/loki-microservices.js', import.meta.url));
const HOME = mkdtempSync(join(tmpdir(), 'cli-rules-home-'));

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string): Promise<Result> {
  const { KUBECONFIG: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, '--kubeconfig', fixture.running.kubeconfigPath],
      { env: { ...inherited, HOME }, cwd },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A directory with spec.yaml and rules/<name>.yaml, the given rule files. */
function project(namespace: string, files: Record<string, unknown>, spec: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-rules-'));
  mkdirSync(join(dir, 'rules'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, 'rules', name), stringify(content));
  writeFileSync(
    join(dir, 'spec.yaml'),
    stringify({
      apiVersion: 'loki-microservices/v1alpha1',
      metadata: { namespace },
      spec: {
        rules: {
          files: ['rules/*.yaml'],
          inline: {
            fake: [{ name: 'smoke', rules: [{ alert: 'SmokeLines', expr: 'count_over_time({job="smoke"}[5m]) > 0' }] }],
          },
        },
        ...spec,
      },
    }),
  );
  return dir;
}

const errors = { groups: [SHOP_RULES] };

test('apply --wait: the ruler reports every declared group loaded, from the ConfigMap mounted per tenant', async () => {
  const dir = project('r-ok', { 'errors.yaml': errors });
  const result = await run(['apply', '--wait', '-f', 'spec.yaml', '-o', 'json'], dir);
  expect(result.stderr).not.toMatch(/^error/m);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout).rules).toEqual({ loaded: 2, problems: [] });
  const configMap = fixture.running.server.store.get('ConfigMap', 'r-ok', 'loki-rules-fake');
  expect(Object.keys(configMap!.data as object).sort()).toEqual(['inline.yaml', 'rules__errors.yaml']);
});

test('apply --wait: a group whose expression does not parse fails with 3, naming its file and group', async () => {
  const broken = {
    groups: [
      errors.groups[0],
      { name: 'typo', rules: [{ alert: 'Typo', expr: 'count_over_time({app="shop"[5m]) > 0' }] },
    ],
  };
  const dir = project('r-broken', { 'shop.yaml': broken });
  const result = await run(['apply', '--wait', '-f', 'spec.yaml'], dir);
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(
    /error: the ruler did not load every declared rule group:\n {2}- rules\/shop\.yaml, group "typo" \(tenant fake\): failing: parse error/,
  );
  expect(result.stderr).not.toContain('group "shop"');
  expect(result.stdout).toContain('rules: 2 groups loaded, 1 not');
});

test('status --rules: the groups the ruler reports, only when asked; a failing one makes it 3', async () => {
  const ok = project('r-ok', { 'errors.yaml': errors });
  const plain = await run(['status', '-f', 'spec.yaml', '-o', 'json'], ok);
  expect(plain.code).toBe(0);
  expect(JSON.parse(plain.stdout).rules).toBeUndefined();
  const withRules = await run(['status', '--rules', '-f', 'spec.yaml', '-o', 'json'], ok);
  expect(withRules.code).toBe(0);
  expect(JSON.parse(withRules.stdout)).toMatchObject({ kind: 'StackStatus', rules: { loaded: 2, problems: [] } });
  const broken = project('r-broken', {
    'shop.yaml': {
      groups: [SHOP_RULES, { name: 'typo', rules: [{ alert: 'Typo', expr: 'count_over_time({app="shop"[5m]) > 0' }] }],
    },
  });
  const failing = await run(['status', '--rules', '-f', 'spec.yaml'], broken);
  expect(failing.code).toBe(3);
  expect(failing.stdout).toContain(
    'rules: 2 groups loaded, 1 not\n  rules/shop.yaml, group "typo" (tenant fake): failing: parse error',
  );
});

test('status --rules compares the ruler with the groups its live StatefulSet lists, not with the spec at hand', async () => {
  const ok = project('r-ok', { 'errors.yaml': errors });
  expect((await run(['apply', '-f', 'spec.yaml'], ok)).code).toBe(0);
  const otherSpec = project('r-ok', {}, { rules: { inline: { fake: [{ ...SHOP_RULES, name: 'not-applied' }] } } });
  const result = await run(['status', '--rules', '-f', 'spec.yaml', '-o', 'json'], otherSpec);
  expect(JSON.parse(result.stdout).rules).toEqual({ loaded: 2, problems: [] });
  expect(result.code).toBe(0);
});

test('a rule file with an invalid rule: 2 before any request, naming the file and the group', async () => {
  const bad = { groups: [{ name: 'bad', rules: [{ alert: 'A', record: 'b', expr: 'x' }] }] };
  const dir = project('r-invalid', { 'bad.yaml': bad });
  const before = fixture.running.server.faults.requests.length;
  const result = await run(['apply', '-f', 'spec.yaml'], dir);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(
    'spec.rules.files: rules/bad.yaml, group "bad": rule 1: needs exactly one of `alert` (an alerting rule) and `record` (a recording rule)',
  );
  expect(fixture.running.server.faults.requests.length).toBe(before);
});
