// Rules discovery through the installed CLI against the test API server: the sidecar's Role and RoleBinding go
// into each listed namespace, a namespace taken off the list loses them at the next apply (and only them: a
// same-named Role of a same-named stack in another namespace stays), a foreign Role of that name stops apply
// before anything is sent, and destroy removes them with the stack.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { stringify } from 'yaml';
import { runCli, startFixture, type Fixture } from './cluster/fixture.js';

jest.setTimeout(180_000);

const STACK_NAMESPACE = 'r-disc';
const OBJECT = 'loki-rules-discovery';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
  for (const name of ['team-a', 'team-b', 'team-c'])
    fixture.running.server.store.put('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
});

afterAll(async () => {
  await fixture.close();
});

function specFile(namespaces: string[], spec: Record<string, unknown> = {}): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cli-rules-discovery-')), 'spec.yaml');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'loki-microservices/v1alpha1',
      metadata: { namespace: STACK_NAMESPACE },
      spec: { rules: { discovery: { enabled: true, namespaces } }, ...spec },
    }),
  );
  return file;
}

const BIN = fileURLToPath(new URL('../../shared/bin/loki-microservices.js', import.meta.url));

/** The CLI without a cluster (render takes no kubeconfig). */
function offline(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], (error, _stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

test('discovery without the ruler, or on Nomad, exits 2 naming the field and the fix', async () => {
  const withoutRuler = await offline(['render', '-f', specFile([], { components: { ruler: { enabled: false } } })]);
  expect(withoutRuler.code).toBe(2);
  expect(withoutRuler.stderr).toContain(
    'spec.rules.discovery.enabled: needs the ruler: set spec.components.ruler.enabled: true, or spec.rules.discovery.enabled: false',
  );
  const s3 = { storage: { type: 's3', s3: { bucket: 'loki', region: 'eu-west-1' } } };
  const nomad = await offline(['render', '-t', 'nomad', '-f', specFile([], s3)]);
  expect(nomad.code).toBe(2);
  expect(nomad.stderr).toContain(
    'spec.rules.discovery.enabled: collects Kubernetes ConfigMaps, which Nomad has none of',
  );
});

const stored = (kind: string, namespace: string) => fixture.running.server.store.get(kind, namespace, OBJECT);

/** A Role of the same name made for a stack `loki` of another namespace (its labels and mark, but not ours). */
function othersRole(namespace: string) {
  fixture.running.server.store.put('Role', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: {
      name: OBJECT,
      namespace,
      labels: {
        'app.kubernetes.io/instance': 'loki',
        'app.kubernetes.io/managed-by': 'loki-microservices',
        'loki-microservices/stack-namespace': 'elsewhere',
      },
      annotations: { 'loki-microservices/created-for': 'loki' },
    },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
  });
}

test('apply: a foreign Role of the name in a listed namespace stops it, naming the Role; nothing is sent', async () => {
  othersRole('team-c');
  const result = await runCli(fixture, ['apply', '-f', specFile(['team-a', 'team-c'])]);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain(`Role team-c/${OBJECT} already exists`);
  expect(fixture.running.server.store.get('Namespace', undefined, STACK_NAMESPACE)).toBeUndefined();
  expect(stored('Role', 'team-a')).toBeUndefined();
  expect(stored('Role', 'team-c')!.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
});

test('apply: a missing listed namespace is named before anything is sent', async () => {
  const result = await runCli(fixture, ['apply', '-f', specFile(['team-a', 'team-z'])]);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('spec.rules.discovery.namespaces: namespace "team-z" does not exist');
  expect(stored('Role', 'team-a')).toBeUndefined();
});

test('apply creates the Role and RoleBinding in each listed namespace; taking one off prunes only ours there; destroy removes the rest', async () => {
  const applied = await runCli(fixture, ['apply', '-f', specFile(['team-a', 'team-b'])]);
  expect(applied.code).toBe(0);
  expect(applied.stderr).toContain(`Role team-a/${OBJECT} created`);
  for (const namespace of ['team-a', 'team-b']) {
    expect(stored('Role', namespace)).toMatchObject({
      metadata: { labels: { 'loki-microservices/stack-namespace': STACK_NAMESPACE } },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
    });
    expect(stored('RoleBinding', namespace)).toMatchObject({
      roleRef: { kind: 'Role', name: OBJECT },
      subjects: [{ kind: 'ServiceAccount', name: OBJECT, namespace: STACK_NAMESPACE }],
    });
  }
  expect(fixture.running.server.store.get('ServiceAccount', STACK_NAMESPACE, OBJECT)).toBeDefined();

  const planned = await runCli(fixture, ['plan', '-f', specFile(['team-a']), '-o', 'json']);
  expect(planned.code).toBe(0);
  expect(JSON.parse(planned.stdout)).toMatchObject({
    changes: expect.arrayContaining([
      expect.objectContaining({ kind: 'Role', name: `team-b/${OBJECT}`, impact: 'prune' }),
      expect.objectContaining({ kind: 'RoleBinding', name: `team-b/${OBJECT}`, impact: 'prune' }),
    ]),
  });

  // The same-named stack of another namespace takes team-b's Role name after ours is gone (by hand, here).
  fixture.running.server.store.remove('Role', 'team-b', OBJECT);
  othersRole('team-b');
  const narrowed = await runCli(fixture, ['apply', '-f', specFile(['team-a'])]);
  expect(narrowed.code).toBe(0);
  expect(narrowed.stderr).toContain(`RoleBinding team-b/${OBJECT} pruned`);
  expect(stored('RoleBinding', 'team-b')).toBeUndefined();
  expect(stored('Role', 'team-b')!.metadata.labels!['loki-microservices/stack-namespace']).toBe('elsewhere');
  expect(stored('Role', 'team-a')).toBeDefined();

  const destroyed = await runCli(fixture, ['destroy', '-f', specFile(['team-a'])]);
  expect(destroyed.code).toBe(0);
  expect(fixture.running.server.store.get('ServiceAccount', STACK_NAMESPACE, OBJECT)).toBeUndefined();
  for (const kind of ['Role', 'RoleBinding']) expect(stored(kind, 'team-a')).toBeUndefined();
  expect(stored('Role', 'team-b')).toBeDefined();
  expect(stored('Role', 'team-c')).toBeDefined();
});
