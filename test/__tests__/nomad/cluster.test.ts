// Apply, wait, status and destroy on Nomad, through the core and the CLI, against the Nomad API test
// double (real HTTP, Nomad's own endpoints, a simulated scheduler with failures on request).
import { jest } from '@jest/globals';
import {
  applyNomadJob,
  destroyNomadJob,
  getNomadStatus,
  NomadApiError,
  NomadClient,
  NomadJobNotFoundError,
  NomadNotReadyError,
  parseSpec,
  waitForNomadJob,
} from 'loki-microservices';
import { parse } from 'yaml';
import { startNomadApiServer, type NomadApiServer } from '../../src/nomad-api/index.js';
import { ref, runCli as cli, specOf, startNomadFixture } from './fixture.js';

jest.setTimeout(60_000);

const TOKEN = 'acl-token-9f3b2c';

let server: NomadApiServer;
let client: NomadClient;
let close: () => Promise<void>;

beforeAll(async () => {
  // A progress deadline no test reaches on a loaded machine; the test that wants one starts its own server.
  ({ server, client, close } = await startNomadFixture({
    aclToken: TOKEN,
    runDelayMs: 20,
    healthyDelayMs: 20,
    healthyDeadlineMs: 300,
    progressDeadlineMs: 30_000,
    maxRestarts: 1,
  }));
});

afterAll(() => close());

test('apply registers the job; wait returns once every group is running and healthy; status tells it per group', async () => {
  const stack = parseSpec(specOf('loki'));
  const applied = await applyNomadJob(client, stack);
  expect(applied).toMatchObject({ jobId: 'loki', namespace: 'default', action: 'created', version: 0 });
  expect(server.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(
    expect.arrayContaining(['POST /v1/jobs/parse', 'POST /v1/jobs']),
  );

  const progress: string[] = [];
  const ready = await waitForNomadJob(client, ref('loki'), {
    timeoutMs: 20_000,
    onProgress: (line) => progress.push(line),
  });
  expect(ready.condition).toMatchObject({ type: 'Ready', reason: 'AllComponentsReady' });
  expect(progress).toContain('ingester 1/1 ready');

  const status = await getNomadStatus(client, ref('loki'));
  expect(status).toMatchObject({
    apiVersion: 'loki-microservices/v1alpha1',
    kind: 'StackStatus',
    name: 'loki',
    namespace: 'default',
    version: stack.spec.version,
  });
  expect(Object.keys(status.components).sort()).toEqual([
    'compactor',
    'distributor',
    'index-gateway',
    'ingester',
    'querier',
    'query-frontend',
    'query-scheduler',
    'ruler',
  ]);
  expect(status.components.ingester).toMatchObject({
    kind: 'TaskGroup',
    desired: 1,
    ready: 1,
    updated: 1,
    current: true,
    notReady: [],
  });
  expect(status.endpoints.push).toMatch(/^http:\/\/10\.0\.0\.\d+:\d{5}\/loki\/api\/v1\/push$/);
  expect(status.endpoints.query).toMatch(/^http:\/\/10\.0\.0\.\d+:\d{5}$/);
  expect(status.createdAt).toMatch(/^\d{4}-/);
});

test('applying the same spec again registers no new version; a changed spec does, and rolls out', async () => {
  const again = await applyNomadJob(client, parseSpec(specOf('loki')));
  expect(again).toMatchObject({ action: 'unchanged', version: 0 });
  const scaled = await applyNomadJob(client, parseSpec(specOf('loki', { components: { querier: { replicas: 2 } } })));
  expect(scaled).toMatchObject({ action: 'updated', version: 1 });
  const status = await waitForNomadJob(client, ref('loki'), { timeoutMs: 20_000 });
  expect(status.components.querier).toMatchObject({ desired: 2, ready: 2, current: true });
});

test('a crash-looping group ends the wait with the allocation, its task and the exit', async () => {
  server.setGroupBehaviour('crashy', 'ingester', 'crash');
  await applyNomadJob(client, parseSpec(specOf('crashy')));
  const error = await waitForNomadJob(client, ref('crashy'), { timeoutMs: 20_000, failAfterMs: 200 }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NomadNotReadyError);
  const { status, why } = error as NomadNotReadyError;
  expect(why).toBe('failing');
  expect(status.condition).toMatchObject({ type: 'Failed', reason: 'ComponentsFailing' });
  const [problem] = status.components.ingester!.notReady;
  // Still restarting (CrashLoop), given up on (the cause, then what Nomad did about it), or, on a machine slow
  // enough for Nomad to have rescheduled it by then, its replacement (placed or already started, not yet
  // crashed), which says why the last one failed.
  if (problem!.reason === 'Rescheduled') {
    expect(problem).toMatchObject({
      name: 'crashy.ingester[0]',
      state: expect.stringMatching(/^(Pending|Running)$/),
      failing: true,
      message: expect.stringMatching(/^rescheduled \d+ times? after failures; the last one .*Exit Code: 1/),
    });
  } else {
    expect(problem).toMatchObject({
      name: 'crashy.ingester[0]',
      state: 'Failed',
      container: 'ingester',
      failing: true,
    });
    expect(problem!.reason).toMatch(/^(CrashLoop|Terminated)$/);
    expect(problem!.message).toMatch(
      problem!.reason === 'Terminated' ? /Exit Code: 1.*Exceeded allowed attempts/ : /Exit Code: 1/,
    );
  }
  expect((error as Error).message).toContain('crashy.ingester[0]');
  // The other groups are fine and say so.
  expect(status.components.distributor).toMatchObject({ ready: 1, notReady: [] });
});

test('a group Nomad cannot place is reported with the placement failure', async () => {
  server.setGroupBehaviour('tight', 'querier', 'unplaceable');
  await applyNomadJob(client, parseSpec(specOf('tight')));
  const error = (await waitForNomadJob(client, ref('tight'), { timeoutMs: 20_000, failAfterMs: 200 }).catch(
    (e: unknown) => e,
  )) as NomadNotReadyError;
  expect(error).toBeInstanceOf(NomadNotReadyError);
  expect(error.status.components.querier).toMatchObject({ desired: 1, ready: 0 });
  expect(error.status.components.querier!.notReady).toEqual([
    expect.objectContaining({
      name: 'tight.querier',
      state: 'Pending',
      reason: 'Unplaceable',
      message: expect.stringMatching(/1 allocation not placed: .*exhausted/),
    }),
  ]);
});

test('an image that cannot be pulled, and allocations that never pass their check', async () => {
  server.setGroupBehaviour('pull', 'distributor', 'image-pull');
  server.setGroupBehaviour('sick', 'compactor', 'unhealthy');
  await applyNomadJob(client, parseSpec(specOf('pull')));
  await applyNomadJob(client, parseSpec(specOf('sick')));
  const pull = (await waitForNomadJob(client, ref('pull'), { timeoutMs: 20_000, failAfterMs: 200 }).catch(
    (e: unknown) => e,
  )) as NomadNotReadyError;
  // The failed allocation itself, or its replacement that tells why the one before failed.
  const [pulled] = pull.status.components.distributor!.notReady;
  expect(pulled).toMatchObject({ failing: true, message: expect.stringContaining('Failed to pull') });
  expect(pulled!.reason).toMatch(/^(DriverFailure|Rescheduled)$/);
  const sick = (await waitForNomadJob(client, ref('sick'), { timeoutMs: 20_000, failAfterMs: 200 }).catch(
    (e: unknown) => e,
  )) as NomadNotReadyError;
  expect(sick.status.components.compactor!.notReady[0]).toMatchObject({
    state: 'Failed',
    reason: 'Unhealthy',
    failing: true,
  });
});

test('a wait that runs out of time says so, with the status as it was', async () => {
  const slow = await startNomadApiServer({ runDelayMs: 60_000, healthyDeadlineMs: 60_000, progressDeadlineMs: 60_000 });
  try {
    const slowClient = new NomadClient({ address: slow.url }, {});
    await applyNomadJob(slowClient, parseSpec(specOf('slow')));
    const error = (await waitForNomadJob(slowClient, ref('slow'), { timeoutMs: 1500 }).catch(
      (e: unknown) => e,
    )) as NomadNotReadyError;
    expect(error).toBeInstanceOf(NomadNotReadyError);
    expect(error.why).toBe('timeout');
    expect(error.status.condition.type).toBe('Pending');
    expect(error.status.components.ingester!.notReady[0]).toMatchObject({ state: 'Pending', failing: false });
  } finally {
    await slow.close();
  }
});

test("a deployment Nomad gives up on ends the wait with Nomad's reason", async () => {
  const stalled = await startNomadApiServer({ runDelayMs: 60_000, healthyDeadlineMs: 60_000, progressDeadlineMs: 300 });
  try {
    const stalledClient = new NomadClient({ address: stalled.url }, {});
    await applyNomadJob(stalledClient, parseSpec(specOf('stalled')));
    const error = (await waitForNomadJob(stalledClient, ref('stalled'), { timeoutMs: 20_000 }).catch(
      (e: unknown) => e,
    )) as NomadNotReadyError;
    expect(error).toBeInstanceOf(NomadNotReadyError);
    expect(error.why).toBe('failing');
    expect(error.deployment).toMatch(/progress deadline/);
    expect(error.message).toMatch(/failing \(deployment: Failed due to progress deadline/);
  } finally {
    await stalled.close();
  }
});

test('without the ACL token Nomad refuses, and the error says what to set; the token is never in a message', async () => {
  const anonymous = new NomadClient({ address: server.url }, {});
  const error = (await getNomadStatus(anonymous, ref('loki')).catch((e: unknown) => e)) as NomadApiError;
  expect(error).toBeInstanceOf(NomadApiError);
  expect(error.code).toBe(403);
  expect(error.message).toMatch(/Permission denied.*NOMAD_TOKEN/);
  const wrong = new NomadClient({ address: server.url, token: 'not-the-token' }, {});
  const wrongError = (await applyNomadJob(wrong, parseSpec(specOf('loki'))).catch((e: unknown) => e)) as Error;
  expect(wrongError.message).not.toContain('not-the-token');
  expect(new NomadClient({}, { NOMAD_ADDR: server.url, NOMAD_TOKEN: TOKEN }).address).toBe(server.url);
});

test('status of a job that does not exist is a not-found error naming it', async () => {
  await expect(getNomadStatus(client, ref('nothing'))).rejects.toThrow(NomadJobNotFoundError);
  await expect(getNomadStatus(client, ref('nothing'))).rejects.toThrow(
    'no Loki stack "nothing" in Nomad namespace "default"',
  );
});

const variable = async (name: string) => {
  const response = await fetch(`${server.url}/v1/var/nomad/jobs/${name}?namespace=default`, {
    headers: { 'X-Nomad-Token': TOKEN },
  });
  return { status: response.status, body: (response.ok ? await response.json() : undefined) as any };
};
const runningAllocations = async (name: string) =>
  (
    (await (
      await fetch(`${server.url}/v1/job/${name}/allocations`, { headers: { 'X-Nomad-Token': TOKEN } })
    ).json()) as { ID: string; DesiredStatus: string }[]
  )
    .filter((alloc) => alloc.DesiredStatus === 'run')
    .map((alloc) => alloc.ID)
    .sort();

test('changing only overrides writes the Nomad Variable: no new job version, no allocation replaced', async () => {
  // The user keeps the object-store credentials in the same variable (specOf): apply leaves them alone.
  const headers = { 'X-Nomad-Token': TOKEN };
  const put = await fetch(`${server.url}/v1/var/nomad/jobs/tenants?namespace=default&cas=0`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ Path: 'nomad/jobs/tenants', Items: { access_key_id: 'AKIA', secret_access_key: 's3cr3t' } }),
  });
  expect(put.status).toBe(200);
  const first = await applyNomadJob(client, parseSpec(specOf('tenants', { auth: { enabled: true } })));
  expect(first).toMatchObject({ action: 'created', version: 0, runtime: 'updated' });
  await waitForNomadJob(client, ref('tenants'), { timeoutMs: 20_000 });
  const allocations = await runningAllocations('tenants');
  expect(allocations.length).toBeGreaterThan(0);
  const registrations = server.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/jobs?')).length;

  const overrides = { 'team-a': { queryTimeout: '5m', retention: '2160h' }, 'team-b': { ingestionRateMB: 40 } };
  const changed = await applyNomadJob(client, parseSpec(specOf('tenants', { auth: { enabled: true }, overrides })));
  expect(changed).toMatchObject({ action: 'unchanged', version: 0, runtime: 'updated' });
  // The variable was written before the job was registered again (an identical job: no new version).
  const writes = server.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
  expect(writes.lastIndexOf('PUT /v1/var/nomad/jobs/tenants')).toBeLessThan(writes.lastIndexOf('POST /v1/jobs'));
  expect(server.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/jobs?')).length).toBe(
    registrations + 1,
  );
  const { body } = await variable('tenants');
  expect(Object.keys(body.Items).sort()).toEqual(['access_key_id', 'runtime.yaml', 'secret_access_key']);
  expect(Object.keys((parse(body.Items['runtime.yaml']) as { overrides: object }).overrides)).toEqual([
    'team-a',
    'team-b',
  ]);
  expect(server.jobs('default').find((job) => job.ID === 'tenants')).toMatchObject({ Version: 0 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await runningAllocations('tenants')).toEqual(allocations);

  // The same overrides again: the variable is not written.
  const putsBefore = server.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/v1/var/')).length;
  expect(
    await applyNomadJob(client, parseSpec(specOf('tenants', { auth: { enabled: true }, overrides }))),
  ).toMatchObject({
    runtime: 'unchanged',
  });
  expect(server.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/v1/var/')).length).toBe(putsBefore);

  // Purge takes the overrides out of the variable and keeps the credentials.
  expect(await destroyNomadJob(client, ref('tenants'), { purge: true })).toMatchObject({ runtimeRemoved: true });
  expect(Object.keys((await variable('tenants')).body.Items).sort()).toEqual(['access_key_id', 'secret_access_key']);
});

test('destroy stops only a job loki-microservices made, and purges on request', async () => {
  expect(await destroyNomadJob(client, ref('loki'))).toEqual({
    jobId: 'loki',
    namespace: 'default',
    stopped: true,
    purged: false,
    runtimeRemoved: false,
  });
  // A plain stop keeps the overrides variable; purge deletes it (it held nothing else).
  expect((await variable('loki')).status).toBe(200);
  const stopped = await getNomadStatus(client, ref('loki'));
  expect(stopped.condition).toMatchObject({ type: 'Failed', reason: 'JobStopped' });
  expect(await destroyNomadJob(client, ref('loki'))).toMatchObject({ stopped: false });
  expect(await destroyNomadJob(client, ref('loki'), { purge: true })).toMatchObject({
    stopped: true,
    purged: true,
    runtimeRemoved: true,
  });
  expect((await variable('loki')).status).toBe(404);
  await expect(getNomadStatus(client, ref('loki'))).rejects.toThrow(NomadJobNotFoundError);
  expect(await destroyNomadJob(client, ref('never-there'))).toMatchObject({ stopped: false });

  // Somebody else's job of the same name: neither replaced nor stopped.
  const foreign = `job "theirs" {\n  group "web" {\n    task "web" {\n      driver = "docker"\n      config { image = "nginx:1.27" }\n    }\n  }\n}\n`;
  const headers = { 'X-Nomad-Token': TOKEN };
  const parsed = await (
    await fetch(`${server.url}/v1/jobs/parse`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ JobHCL: foreign, Canonicalize: true }),
    })
  ).json();
  await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ Job: parsed }) });
  await expect(destroyNomadJob(client, ref('theirs'))).rejects.toThrow(/not deployed by loki-microservices/);
  await expect(applyNomadJob(client, parseSpec(specOf('theirs')))).rejects.toThrow(
    /not deployed by loki-microservices/,
  );
});

describe('the CLI with --target nomad', () => {
  const env = () => ({ NOMAD_ADDR: server.url, NOMAD_TOKEN: TOKEN });
  const sets = (name: string) => [
    '--set',
    `metadata.name=${name}`,
    '--set',
    'spec.storage.type=s3',
    '--set',
    'spec.storage.s3.bucket=loki-chunks',
    '--set',
    'spec.storage.s3.region=eu-west-1',
  ];

  test('apply --wait, status -o json, destroy: exit codes and output', async () => {
    const applied = await cli(
      ['apply', '--target', 'nomad', ...sets('cli'), '--wait', '--timeout', '30s', '-o', 'json'],
      env(),
    );
    expect(applied.stderr).toContain('registering Nomad job default/cli');
    expect(applied.code).toBe(0);
    const output = JSON.parse(applied.stdout) as { apply: { action: string }; status: { condition: { type: string } } };
    expect(output.apply.action).toBe('created');
    expect(output.status.condition.type).toBe('Ready');

    const status = await cli(['status', '-t', 'nomad', ...sets('cli'), '-o', 'json'], env());
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ kind: 'StackStatus', name: 'cli', condition: { type: 'Ready' } });
    const table = await cli(['status', '-t', 'nomad', ...sets('cli')], env());
    expect(table.stdout).toMatch(/ingester\s+TaskGroup\s+1\/1/);

    const destroyed = await cli(['destroy', '--target', 'nomad', ...sets('cli'), '--purge'], env());
    expect(destroyed.code).toBe(0);
    expect(destroyed.stdout).toContain('Nomad job default/cli: stopped and purged');
    const gone = await cli(['status', '-t', 'nomad', ...sets('cli')], env());
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain('no Loki stack "cli"');
    for (const result of [applied, status, table, destroyed, gone])
      expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  test('a stack that does not get ready exits 3 with the reason', async () => {
    server.setGroupBehaviour('cli-crash', 'querier', 'crash');
    const result = await cli(['apply', '-t', 'nomad', ...sets('cli-crash'), '--wait', '--timeout', '10s'], env());
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cli-crash\.querier\[0\]: Failed \((CrashLoop|Terminated)\): Exit Code: 1/);
  });

  test('invalid input exits 2 before contacting Nomad', async () => {
    const before = server.requests.length;
    const bundled = await cli(['apply', '-t', 'nomad', '--set', 'metadata.name=bad'], env());
    expect(bundled.code).toBe(2);
    expect(bundled.stderr).toContain('spec.storage.type: bundled runs a Kubernetes pod');
    const mixed = await cli(['apply', '-t', 'nomad', ...sets('bad'), '--kubeconfig', '/dev/null'], env());
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('--kubeconfig is not available with --target nomad');
    const target = await cli(['status', '-t', 'swarm'], env());
    expect(target.code).toBe(2);
    expect(target.stderr).toContain('--target must be kubernetes or nomad');
    const nomadOnly = await cli(['status', '--nomad-addr', server.url], env());
    expect(nomadOnly.code).toBe(2);
    expect(server.requests.length).toBe(before);
  });

  test('Nomad unreachable: a clear error and exit 1', async () => {
    const result = await cli(['status', '-t', 'nomad', ...sets('x'), '--nomad-addr', 'http://127.0.0.1:9'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach Nomad at http:\/\/127\.0\.0\.1:9/);
  });
});
