// The cluster commands of the installed CLI (apply, status, smoke, destroy), run as users run them: a child
// process against a test API server started in this process, through a kubeconfig file. Progress goes to
// stderr, results to stdout; exit codes 0 ok, 2 invalid input (nothing contacted), 3 not ready or smoke
// test failed, 1 other errors; generated credentials never appear in any output.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { parse } from 'yaml';
import { startFixture, type Fixture } from './cluster/fixture.js';

jest.setTimeout(60_000);

const BIN = fileURLToPath(new URL('../../shared/bin/loki-microservices.js', import.meta.url));
/** A home without ~/.kube/config, so that only what a test passes is used. */
const HOME = mkdtempSync(join(tmpdir(), 'cli-cluster-home-'));

type Json = Record<string, any>;
interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let fixture: Fixture;
/** Everything any command printed, to look for secrets in. */
const printed: string[] = [];
/** The values of the Secrets apply generated (base64, as stored). */
const secretValues: string[] = [];
const rememberSecret = (namespace: string) =>
  secretValues.push(
    ...Object.values((store().get('Secret', namespace, 'loki-object-store') as Json).data as Record<string, string>),
  );

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

afterEach(() => {
  fixture.running.server.faults.allowAll();
  fixture.running.server.cluster.heal();
});

function run(
  args: string[],
  options: { env?: Record<string, string>; kubeconfig?: boolean; node?: string } = {},
): Promise<Result> {
  const { KUBECONFIG: _ignored, ...inherited } = process.env;
  const env = { ...inherited, HOME, ...options.env };
  const withConfig = options.kubeconfig === false ? args : [...args, '--kubeconfig', fixture.running.kubeconfigPath];
  return new Promise((resolve) => {
    execFile(options.node ?? process.execPath, [BIN, ...withConfig], { env }, (error, stdout, stderr) => {
      printed.push(stdout, stderr);
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const store = () => fixture.running.server.store;
const requests = () => fixture.running.server.faults.requests;

describe('a stack applied, inspected, smoke-tested and destroyed', () => {
  const ns = ['--set', 'metadata.namespace=c-main'];

  test('apply --wait --smoke: 0, progress on stderr, the result on stdout', async () => {
    const result = await run(['apply', '--wait', '--smoke', ...ns]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stderr).toMatch(/^applying stack c-main\/loki to https:\/\/127\.0\.0\.1:\d+\n/);
    expect(result.stderr).toContain('  Namespace c-main created\n');
    expect(result.stderr).toContain('  StatefulSet loki-ingester created\n');
    expect(result.stderr).toContain('waiting until every component is ready\n');
    expect(result.stderr).toContain('  ingester 1/1 ready\n');
    expect(result.stderr).toContain('smoke test: pushing a log line');
    expect(result.stderr).not.toMatch(/^error/m);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('stack c-main/loki: 30 objects, 30 created, 0 configured, 0 unchanged, 0 pruned');
    expect(lines).toContain('Secret loki-object-store created with random values');
    expect(lines).toContain('Ready: 9 components ready');
    expect(lines).toContain('push URL:  http://loki-distributor.c-main.svc.cluster.local:3100/loki/api/v1/push');
    expect(result.stdout).toMatch(
      /^smoke test passed: the log line was read back \d+ ms after its push \(\d+ ms in all\)$/m,
    );
    // Each stream keeps to its own: no progress in the result, no result in the progress.
    expect(result.stdout).not.toMatch(/created\n|waiting until|1\/1 ready/);
    expect(result.stderr).not.toContain('smoke test passed');
    expect(store().get('StatefulSet', 'c-main', 'loki-ingester')).toBeDefined();
    rememberSecret('c-main');
  });

  test('apply again, -o json: every object unchanged, the Secret kept, and the status and smoke result', async () => {
    const result = await run(['apply', '--wait', '--smoke', '-o', 'json', ...ns]);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as Json;
    expect(Object.keys(output).sort()).toEqual(['apply', 'smoke', 'status', 'timeline']);
    // Nothing changed: the pods were ready before this apply; the time is the tool's and Loki's read-back.
    expect(output.timeline).toMatchObject({ podsMs: 0, readBackMs: output.smoke.latencyMs });
    expect(output.timeline.toolMs + output.timeline.readBackMs).toBe(output.timeline.totalMs);
    expect(output.apply.objects).toHaveLength(30);
    expect(output.apply.objects.filter((o: Json) => o.action !== 'unchanged')).toEqual([]);
    expect(output.apply.secrets).toEqual([{ name: 'loki-object-store', action: 'kept' }]);
    expect(output.apply).toMatchObject({ namespaceCreated: false, dryRun: false });
    expect(output.status).toMatchObject({
      apiVersion: 'loki-microservices/v1alpha1',
      kind: 'StackStatus',
      name: 'loki',
      namespace: 'c-main',
      condition: { type: 'Ready' },
    });
    expect(output.smoke).toMatchObject({
      latencyMs: expect.any(Number),
      durationMs: expect.any(Number),
      line: expect.stringMatching(/^loki-microservices smoke test /),
      tenant: null,
    });
    // Nothing changed, so nothing is reported as changing.
    expect(result.stderr).not.toMatch(/ (created|configured|pruned)\n/);
  });

  test('apply --dry-run on the existing stack: 0, and nothing changes', async () => {
    const before = store().get('Deployment', 'c-main', 'loki-distributor')!.metadata.resourceVersion;
    const result = await run(['apply', '--dry-run', ...ns, '--set', 'spec.components.distributor.replicas=3']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('(server-side dry run)');
    // Three distributors get a disruption budget: it would be created, the Deployment changed.
    expect(result.stderr).toContain('  Deployment loki-distributor configured\n');
    expect(result.stderr).toContain('  PodDisruptionBudget loki-distributor created\n');
    expect(result.stdout).toMatch(
      /^stack c-main\/loki \(dry run, nothing stored\): 31 objects, 1 created, 1 configured, 29 unchanged, 0 pruned$/m,
    );
    const after = store().get('Deployment', 'c-main', 'loki-distributor')! as Json;
    expect(after.metadata.resourceVersion).toBe(before);
    expect(after.spec.replicas).toBe(1);
    expect(store().get('PodDisruptionBudget', 'c-main', 'loki-distributor')).toBeUndefined();
  });

  test('plan: no change after apply (0 with --detailed-exitcode); a change exits 4 as text, JSON and Markdown', async () => {
    const writesBefore = requests().filter((r) => r.method !== 'GET' && !r.path.includes('dryRun=All')).length;
    const same = await run(['plan', '--detailed-exitcode', ...ns]);
    expect(same).toMatchObject({ code: 0, stdout: 'stack c-main/loki: no changes\n' });
    expect(same.stderr).toMatch(/^planning stack c-main\/loki on https:\/\/127\.0\.0\.1:\d+\n$/);
    const change = [...ns, '--set', 'spec.limits.ingestionRateMB=17', '--detailed-exitcode'];
    const [text, json, markdown, plain] = await Promise.all([
      run(['plan', ...change]),
      run(['plan', ...change, '-o', 'json']),
      run(['plan', ...change, '-o', 'markdown']),
      run(['plan', ...ns, '--set', 'spec.limits.ingestionRateMB=17']),
    ]);
    expect([text.code, json.code, markdown.code, plain.code]).toEqual([4, 4, 4, 0]);
    expect(text.stdout).toMatch(/^stack c-main\/loki: \d+ changes \(\d+ in place, 8 rolls pods\); 8 pods roll\n/);
    expect(text.stdout).toContain(
      '  ingester: 1 pod (StatefulSet loki-ingester): config: limits_config.ingestion_rate_mb\n',
    );
    const plan = JSON.parse(json.stdout) as Json;
    expect(plan).toMatchObject({ apiVersion: 'loki-microservices/v1alpha1', kind: 'StackPlan', hasChanges: true });
    expect(markdown.stdout).toContain('| ingester | 1 | config: limits_config.ingestion_rate_mb |');
    // Dry runs and reads only.
    expect(requests().filter((r) => r.method !== 'GET' && !r.path.includes('dryRun=All')).length).toBe(writesBefore);
  });

  test('status: a table, and -o json / -o yaml StackStatus; 0 when Ready', async () => {
    const [table, json, yaml] = await Promise.all([
      run(['status', ...ns]),
      run(['status', '-o', 'json', ...ns]),
      run(['status', '-o', 'yaml', ...ns]),
    ]);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('');
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe('c-main/loki: Ready (AllComponentsReady) 9 components ready');
    expect(lines[1]).toMatch(/^Loki 3\.\d+\.\d+, created \d+s ago$/);
    expect(lines).toContainEqual(expect.stringMatching(/^COMPONENT\s+KIND\s+READY\s+UP-TO-DATE\s+PODS$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ingester\s+StatefulSet\s+1\/1\s+1\s+1 Ready$/));
    expect(lines).toContainEqual(expect.stringMatching(/^distributor\s+Deployment\s+1\/1\s+1\s+1 Ready$/));
    expect(lines).toContain('query URL: http://loki-query-frontend.c-main.svc.cluster.local:3100');

    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as Json;
    expect(status).toMatchObject({
      apiVersion: 'loki-microservices/v1alpha1',
      kind: 'StackStatus',
      name: 'loki',
      namespace: 'c-main',
      condition: { type: 'Ready', reason: 'AllComponentsReady' },
    });
    expect(Object.keys(status.components)).toHaveLength(9);
    expect(status.components.ingester).toMatchObject({
      kind: 'StatefulSet',
      desired: 1,
      ready: 1,
      current: true,
      notReady: [],
    });

    expect(yaml.code).toBe(0);
    expect(parse(yaml.stdout)).toEqual({ ...status, createdAt: status.createdAt });
  });

  // Node 24 warns on stderr (DEP0169) when a dependency calls url.parse(), as client-node's node-fetch
  // does on every request: nothing a user can act on.
  test('status on Node 24 ($NODE24): the same table, and nothing on stderr', async () => {
    expect(process.env.NODE24).toBeTruthy();
    const result = await run(['status', ...ns], { node: process.env.NODE24 });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^c-main\/loki: Ready \(AllComponentsReady\)/);
  });

  test('KUBECONFIG and --context work like --kubeconfig', async () => {
    const [fromEnv, withContext] = await Promise.all([
      run(['status', '-o', 'json', ...ns], { kubeconfig: false, env: { KUBECONFIG: fixture.running.kubeconfigPath } }),
      run(['status', '-o', 'json', '--context', 'test-apiserver', ...ns]),
    ]);
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout).condition.type).toBe('Ready');
    expect(withContext.code).toBe(0);
  });

  test('status of a stack that does not exist: 3', async () => {
    const result = await run(['status', '--set', 'metadata.name=nope', ...ns]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/nope/);
  });

  test('smoke: 0, text and -o json', async () => {
    const [text, json] = await Promise.all([run(['smoke', ...ns]), run(['smoke', '-o', 'json', ...ns])]);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/^smoke test of stack c-main\/loki through https:\/\/127\.0\.0\.1:\d+\n$/);
    expect(text.stdout).toMatch(
      /^smoke test passed: the log line was read back \d+ ms after its push \(\d+ ms in all\)\n$/,
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      latencyMs: expect.any(Number),
      durationMs: expect.any(Number),
      tenant: null,
    });
  });

  test('smoke of a stack whose distributor is down: 3, saying what failed', async () => {
    fixture.running.server.cluster.fail({ namespace: 'c-main', workload: 'loki-distributor' }, 'crashLoop');
    const result = await run(['smoke', '--timeout', '1s', ...ns]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^error: smoke test failed within 1000 ms: the push to the distributor answered HTTP 503: .*no endpoints available/m,
    );
    fixture.running.server.cluster.heal();
    // It comes back (and the stack is Ready again for what follows).
    const again = await run(['apply', '--wait', '--smoke', '--timeout', '30s', ...ns]);
    expect(again.code).toBe(0);
  });

  test('destroy: 0, the stack gone, volumes and credentials kept and said so; again: nothing to delete', async () => {
    const result = await run(['destroy', ...ns]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^destroying stack c-main\/loki on https:\/\/127\.0\.0\.1:\d+\n/);
    expect(result.stderr).toContain('  StatefulSet loki-ingester deleted\n');
    expect(result.stdout).toMatch(/^stack c-main\/loki: \d+ objects deleted\n/);
    expect(result.stdout).toContain(
      'kept PersistentVolumeClaim data-loki-ingester-0: volumes are kept unless --delete-volumes\n',
    );
    expect(result.stdout).toMatch(/^kept Secret loki-object-store: /m);
    expect(result.stdout).toMatch(/^kept Namespace c-main: it is not empty: /m);
    for (const kind of ['Deployment', 'StatefulSet', 'Service', 'ConfigMap', 'PodDisruptionBudget'])
      expect(store().list(kind, 'c-main')).toEqual([]);
    expect(store().list('Pod', 'c-main')).toEqual([]);
    expect(store().get('PersistentVolumeClaim', 'c-main', 'data-loki-ingester-0')).toBeDefined();

    const again = await run(['destroy', '-o', 'json', ...ns]);
    expect(again.code).toBe(0);
    const output = JSON.parse(again.stdout) as Json;
    expect(output.deleted).toEqual([]);
    expect(output.namespaceDeleted).toBe(false);

    const status = await run(['status', ...ns]);
    expect(status.code).toBe(3);
  });

  test('destroy --delete-volumes: the claims, the credentials and the namespace apply made go too', async () => {
    const result = await run(['destroy', '--delete-volumes', ...ns]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('namespace c-main deleted (apply had created it for this stack)');
    const deadline = Date.now() + 10_000;
    while (store().get('Namespace', undefined, 'c-main') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store().get('Namespace', undefined, 'c-main')).toBeUndefined();
  });
});

describe('a stack that does not become ready', () => {
  test('apply --wait: 3, with the diagnosis on stderr and the status on stdout', async () => {
    fixture.running.server.cluster.fail(
      { namespace: 'c-fail', workload: 'loki-ingester', image: 'grafana/loki' },
      'crashLoop',
    );
    // Pods that keep failing end the wait after 30 s; a shorter --timeout ends it first, with the same diagnosis
    // (long enough for the first restarts on a loaded machine).
    const result = await run(['apply', '--wait', '--timeout', '8s', '--set', 'metadata.namespace=c-fail']);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/^stack c-fail\/loki: 30 objects, 30 created/);
    expect(result.stdout).toContain('Failed: ingester 0/1 ready (CrashLoopBackOff)');
    expect(result.stderr).toMatch(
      /^error: stack c-fail\/loki is not ready after \d+s: ingester 0\/1 ready \(CrashLoopBackOff\)$/m,
    );
    expect(result.stderr).toContain('ingester: 0/1 ready\n');
    expect(result.stderr).toMatch(
      /^ {2}loki-ingester-0: \w+, CrashLoopBackOff \(container loki\), \d+ restarts - back-off \d+s restarting failed container=loki pod=loki-ingester-0_c-fail/m,
    );
    expect(result.stderr).toMatch(/^recent warning events:\n {2}Pod\/loki-ingester-0: BackOff/m);
    expect(result.stderr).toContain('last log lines of loki-ingester-0/loki (before its last restart):\n');
    expect(result.stderr).toContain('msg="error running loki"');
    // The other components are ready: not in the diagnosis.
    expect(result.stderr).not.toMatch(/^distributor: /m);
    rememberSecret('c-fail');

    const status = await run(['status', '--set', 'metadata.namespace=c-fail']);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(
      /^c-fail\/loki: Failed \(ComponentsFailing\) ingester 0\/1 ready \(CrashLoopBackOff\)$/m,
    );
    expect(status.stdout).toMatch(/^loki-ingester-0\s+\w+\s+CrashLoopBackOff\s+\d+\s+back-off/m);
  });
});

describe('apply --dry-run', () => {
  test('0, and nothing is stored, not even the namespace', async () => {
    const result = await run(['apply', '--dry-run', '-o', 'json', '--set', 'metadata.namespace=c-dry']);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as Json;
    expect(output.apply.dryRun).toBe(true);
    expect(output.apply.objects).toHaveLength(30);
    expect(output.apply.objects.every((o: Json) => o.action === 'created')).toBe(true);
    expect(store().get('Namespace', undefined, 'c-dry')).toBeUndefined();
    for (const kind of [
      'ConfigMap',
      'Secret',
      'ServiceAccount',
      'Service',
      'PersistentVolumeClaim',
      'Deployment',
      'StatefulSet',
      'PodDisruptionBudget',
    ]) {
      expect(store().list(kind, 'c-dry')).toEqual([]);
    }
    // Not a single write reached the store (the simulated cluster only writes in reaction to writes).
    const writes = requests().filter(
      (r) => r.method !== 'GET' && r.path.includes('c-dry') && !/[?&]dryRun=All/.test(r.path),
    );
    expect(writes).toEqual([]);
  });

  test('into a namespace that does not exist, the text says which objects the API server did not check', async () => {
    const result = await run(['apply', '--dry-run', '--set', 'metadata.namespace=c-dry-text']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'namespace c-dry-text does not exist yet: the API server checked the Namespace only; the other objects were not sent',
    );
    // Into an existing namespace every object is checked, and nothing says otherwise.
    expect((await run(['apply', '--dry-run', '--set', 'metadata.namespace=default'])).stdout).not.toContain(
      'does not exist yet',
    );
  });
});

test('--timeout takes every duration the Action and the scaffolder take, days included', async () => {
  const result = await run(['destroy', '--timeout', '1d', '--set', 'metadata.namespace=cli-timeout-days']);
  expect([result.code, result.stderr]).toEqual([0, expect.not.stringContaining('--timeout')]);
});

describe('usage errors: exit 2 before any request reaches the server', () => {
  const cases: { name: string; args: string[]; stderr: RegExp; kubeconfig?: false; env?: Record<string, string> }[] = [
    {
      name: 'a bad --timeout',
      args: ['apply', '--wait', '--timeout', 'ten'],
      stderr: /--timeout must be a duration such as 90s, 10m or 1h30m, not "ten"/,
    },
    { name: 'an unknown -o', args: ['status', '-o', 'xml'], stderr: /-o must be one of table, json, yaml, not "xml"/ },
    {
      name: 'plan -o yaml',
      args: ['plan', '-o', 'yaml'],
      stderr: /-o must be one of text, json, markdown, not "yaml"/,
    },
    {
      name: 'plan --adopt on Nomad',
      args: ['plan', '--target', 'nomad', '--adopt'],
      kubeconfig: false,
      stderr: /--adopt is not available with --target nomad/,
    },
    {
      name: '--dry-run --wait',
      args: ['apply', '--dry-run', '--wait'],
      stderr: /--wait and --smoke need a real apply/,
    },
    { name: 'an unknown option', args: ['destroy', '--force'], stderr: /Unknown option '--force'/ },
    {
      name: 'a missing kubeconfig file',
      args: ['status', '--kubeconfig', '/nonexistent/kubeconfig'],
      kubeconfig: false,
      stderr: /cannot load the kubeconfig \/nonexistent\/kubeconfig: .*no such file/,
    },
    {
      name: 'a missing KUBECONFIG file',
      args: ['status'],
      kubeconfig: false,
      env: { KUBECONFIG: '/nonexistent/kubeconfig' },
      stderr: /cannot load the kubeconfig/,
    },
    {
      name: 'no kubeconfig at all',
      args: ['apply'],
      kubeconfig: false,
      env: { KUBECONFIG: '' },
      stderr: /no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~\/\.kube\/config/,
    },
    {
      name: 'an unknown --context',
      args: ['apply', '--context', 'prod'],
      stderr: /context "prod" is not in the kubeconfig; it has: test-apiserver/,
    },
    {
      name: 'an invalid spec',
      args: ['apply', '--wait', '--set', 'spec.profile=huge'],
      stderr: /the stack spec is invalid \(1 problem\):\n {2}spec\.profile: must be one of/,
    },
  ];

  // All at once (each is a process that loads the Kubernetes client): none may send a single request.
  test(cases.map((c) => c.name).join(', '), async () => {
    fixture.running.server.faults.clearLog();
    const results = await Promise.all(
      cases.map(({ args, kubeconfig, env }) =>
        run(args, { ...(kubeconfig === false ? { kubeconfig } : {}), ...(env ? { env } : {}) }),
      ),
    );
    cases.forEach(({ name, stderr }, index) => {
      const result = results[index]!;
      expect({ name, code: result.code, stdout: result.stdout }).toEqual({ name, code: 2, stdout: '' });
      expect(result.stderr).toMatch(/^error: /);
      expect(result.stderr).toMatch(stderr);
    });
    expect(requests()).toEqual([]);
  });
});

describe('errors from the API', () => {
  test("403 on status: 1, with the API server's own words", async () => {
    fixture.running.server.faults.forbid({ verb: 'list', resource: 'deployments' });
    const result = await run(['status', '--set', 'metadata.namespace=c-fail']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'error: listing Deployments in c-fail: deployments.apps is forbidden: User "system:serviceaccount:test:client" cannot list resource "deployments" in API group "apps" in the namespace "c-fail"\n',
    );
  });

  test('403 on apply: 1, naming the object', async () => {
    fixture.running.server.faults.forbid({ verb: 'patch', resource: 'configmaps' });
    const result = await run(['apply', '--set', 'metadata.namespace=c-fail']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: applying ConfigMap c-fail\/loki-config: configmaps "loki-config" is forbidden: User .* cannot patch resource "configmaps"/m,
    );
  });

  test('403 on destroy: 1', async () => {
    fixture.running.server.faults.forbid({ verb: 'delete' });
    const result = await run(['destroy', '--set', 'metadata.namespace=c-fail']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: deleting \w+ c-fail\/loki-[\w-]+: .* is forbidden: User .* cannot delete resource/m,
    );
    expect(store().get('StatefulSet', 'c-fail', 'loki-ingester')).toBeDefined();
  });
});

describe('secrets', () => {
  test('the generated credentials never appear in any output', () => {
    expect(secretValues.length).toBeGreaterThanOrEqual(4);
    const everything = printed.join('\n');
    expect(everything.length).toBeGreaterThan(10_000);
    for (const value of secretValues) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      expect(decoded.length).toBeGreaterThanOrEqual(20);
      expect(everything).not.toContain(decoded);
      expect(everything).not.toContain(value);
    }
  });
});
