// Nomad upgrades in waves, against the Nomad API double: the job is registered once per wave (servers before
// clients), each wave's groups as rendered and the others as they run, each after the previous wave's
// deployment succeeded; the last registration is the rendered job. A failing wave stops the rollout.
import { jest } from '@jest/globals';
import {
  applyNomadJob,
  getNomadStatus,
  NomadClient,
  NomadWaveFailedError,
  parseSpec,
  planNomadJob,
  waitForNomadJob,
  type NomadWaveStart,
  type StackStatus,
} from 'loki-microservices';
import type { NomadApiServer } from '../../src/nomad-api/index.js';
import { ref, runCli, specOf, startNomadFixture } from './fixture.js';

jest.setTimeout(90_000);

type Json = Record<string, any>;

const TOKEN = 'acl-token-waves-51e0';
const OLD = '3.6.2';
const NEW = '3.7.8';
const stackOf = (name: string, version: string) => parseSpec(specOf(name, { version }));
/** The wave order of stack/waves.ts, as Nomad task groups. */
const WAVES = [
  'compactor',
  'index-gateway',
  'ingester',
  'query-scheduler',
  'querier',
  'query-frontend',
  'ruler',
  'distributor',
];

let server: NomadApiServer;
let client: NomadClient;
let close: () => Promise<void>;

beforeAll(async () => {
  // Deadlines a healthy wave never reaches on a loaded machine (each healthy allocation renews the progress
  // deadline) and a crashing one does (its allocations fail after a restart, then nothing progresses).
  ({ server, client, close } = await startNomadFixture({
    aclToken: TOKEN,
    runDelayMs: 10,
    healthyDelayMs: 10,
    healthyDeadlineMs: 3000,
    progressDeadlineMs: 3000,
    rescheduleDelayMs: 50,
    maxRestarts: 1,
  }));
});

afterAll(() => close());

const get = async <T = Json[]>(path: string) => (await client.request<T>('GET', path, { namespace: 'default' })).body;
/** The Loki version a group of a job runs: its image's tag. */
const imageOf = (job: Json, group: string) =>
  (job.TaskGroups.find((g: Json) => g.Name === group).Tasks[0].Config.image as string).split(':').at(-1);
/** POST /v1/jobs so far (the path does not name the job: the tests run one after the other). */
const registrations = () =>
  server.requests.filter((r) => r.method === 'POST' && r.path.split('?')[0] === '/v1/jobs').length;

/** The status once the job has reached `version` (read right after, while that wave rolls). */
async function statusAtVersion(name: string, version: number): Promise<StackStatus> {
  while ((server.jobs().find((j) => j.ID === name)?.Version ?? -1) < version)
    await new Promise((resolve) => setTimeout(resolve, 5));
  return getNomadStatus(client, ref(name));
}

/** The CLI, with the spec of specOf() as --set flags. */
const cli = (name: string, args: string[]) =>
  runCli(
    [
      ...args,
      '--target',
      'nomad',
      '--set',
      `metadata.name=${name}`,
      '--set',
      'spec.storage.type=s3',
      '--set',
      'spec.storage.s3.bucket=loki-chunks',
      '--set',
      'spec.storage.s3.endpoint=http://minio.service.consul:9000',
      '--set',
      'spec.nomad.credentials.source=nomadVariable',
      '--set',
      `spec.nomad.credentials.path=nomad/jobs/${name}`,
    ],
    { NOMAD_ADDR: server.url, NOMAD_TOKEN: TOKEN },
  );

async function deployOld(name: string) {
  await applyNomadJob(client, stackOf(name, OLD));
  await waitForNomadJob(client, ref(name), { timeoutMs: 30_000 });
}

test('an upgrade registers the job once per wave, each after the previous deployment succeeded, and ends as the rendered job', async () => {
  await deployOld('loki');
  const before = await get(`/v1/job/loki/allocations`);
  const registered = registrations();

  // The plan tells the waves apply will register, in the same order.
  const planned = await planNomadJob(client, stackOf('loki', NEW));
  expect(planned.waves).toEqual(WAVES.map((group, index) => ({ number: index + 1, components: [group], pods: 1 })));

  const started: NomadWaveStart[] = [];
  const applied = await applyNomadJob(client, stackOf('loki', NEW), {
    wait: { timeoutMs: 60_000 },
    onWave: (wave) => void started.push(wave),
  });

  // One registration and one new job version per wave, in wave order, each ready.
  expect(started.map((wave) => wave.groups)).toEqual(WAVES.map((group) => [group]));
  expect(registrations() - registered).toBe(WAVES.length);
  expect(applied.action).toBe('updated');
  expect(applied.version).toBe(WAVES.length);
  expect(applied.rollout).toMatchObject({ from: OLD, to: NEW });
  expect(applied.rollout!.waves.map((w) => [w.number, w.groups, w.version, w.result])).toEqual(
    WAVES.map((group, index) => [index + 1, [group], index + 1, 'ready']),
  );

  // Each version rolls its wave's group only: the earlier waves' groups new, the later ones as they were.
  const versions = (await get<{ Versions: Json[] }>('/v1/job/loki/versions')).Versions;
  expect(versions.length).toBeGreaterThan(3);
  for (const version of versions.filter((v) => v.Version > 0 && v.Version < WAVES.length)) {
    WAVES.forEach((group, index) =>
      expect([version.Version, group, imageOf(version, group)]).toEqual([
        version.Version,
        group,
        index < version.Version ? NEW : OLD,
      ]),
    );
    // The live meta until the last wave: a new job-level loki_version would replace every allocation.
    expect(version.Meta.loki_version).toBe(OLD);
  }

  // Each wave's version was submitted after the previous wave's deployment succeeded (the double's clock).
  const deployments = await get('/v1/job/loki/deployments');
  const deploymentOf = (version: number) => deployments.find((d) => d.JobVersion === version)!;
  for (let version = 0; version <= WAVES.length; version++)
    expect([version, deploymentOf(version)?.Status]).toEqual([version, 'successful']);
  for (let version = 1; version <= WAVES.length; version++) {
    expect(deploymentOf(version).CreateTime).toBeGreaterThanOrEqual(deploymentOf(version - 1).ModifyTime);
    const submitted = versions.find((v) => v.Version === version)?.SubmitTime;
    if (submitted !== undefined) expect(submitted).toBeGreaterThanOrEqual(deploymentOf(version - 1).ModifyTime);
  }

  // Allocations: a wave replaces its own group's only; every other allocation lives through it.
  const after = await get(`/v1/job/loki/allocations`);
  const created = after.filter((a) => !before.some((b: Json) => b.ID === a.ID));
  for (const alloc of created) {
    const wave = deploymentOf(WAVES.indexOf(alloc.TaskGroup) + 1);
    expect([alloc.TaskGroup, alloc.CreateTime >= wave.CreateTime, alloc.CreateTime <= wave.ModifyTime]).toEqual([
      alloc.TaskGroup,
      true,
      true,
    ]);
  }
  for (const old of before) {
    const replacedIn = deploymentOf(WAVES.indexOf(old.TaskGroup) + 1);
    const stopped = after.find((a) => a.ID === old.ID);
    // Stopped by its own wave, not before: still running when the wave before it ended.
    expect(stopped?.DesiredStatus).toBe('stop');
    expect(stopped!.ModifyTime).toBeGreaterThanOrEqual(replacedIn.CreateTime);
  }
  expect(new Set(created.map((a) => a.TaskGroup))).toEqual(new Set(WAVES));

  // The last registration is the rendered job: a plan shows nothing to change.
  const job = (await get<Json>('/v1/job/loki')) as Json;
  expect(job.Meta.loki_version).toBe(NEW);
  for (const group of WAVES) expect(imageOf(job, group)).toBe(NEW);
  const plan = await planNomadJob(client, stackOf('loki', NEW));
  expect(plan).toMatchObject({ hasChanges: false, changes: [], rolls: [] });
  // Rolled out: every group at one version, no upgrade under way.
  expect(applied.status?.upgrade).toBeUndefined();
  const status = await getNomadStatus(client, ref('loki'));
  expect([status.version, status.condition.type, status.upgrade]).toEqual([NEW, 'Ready', undefined]);

  // The same version again: no wave, no registration of a new version.
  const again = await applyNomadJob(client, stackOf('loki', NEW));
  expect(again).toMatchObject({ action: 'unchanged', version: WAVES.length });
  expect(again.rollout).toBeUndefined();
});

test('groups in no wave, the memcached caches, are registered with the first wave and not replaced by a Loki upgrade', async () => {
  const cached = (version: string) => parseSpec(specOf('cached', { version, caches: { type: 'memcached' } }));
  await applyNomadJob(client, cached(OLD));
  await waitForNomadJob(client, ref('cached'), { timeoutMs: 30_000 });

  const cacheAllocations = async () =>
    (await get('/v1/job/cached/allocations'))
      .filter((a) => a.TaskGroup.endsWith('-cache') && a.DesiredStatus === 'run')
      .map((a) => a.ID)
      .sort();
  const before = await cacheAllocations();
  expect(before).toHaveLength(2);

  const started: NomadWaveStart[] = [];
  await applyNomadJob(client, cached(NEW), { wait: { timeoutMs: 60_000 }, onWave: (wave) => void started.push(wave) });
  // memcached does not run Loki: the upgrade keeps its allocations, and what they hold.
  expect(await cacheAllocations()).toEqual(before);

  expect(started.map((wave) => wave.groups)).toEqual([
    ['chunks-cache', 'results-cache', WAVES[0]],
    ...WAVES.slice(1).map((group) => [group]),
  ]);
  const status = await getNomadStatus(client, ref('cached'));
  expect([status.condition.type, Object.keys(status.components)]).toEqual([
    'Ready',
    expect.arrayContaining(['chunks-cache', 'results-cache']),
  ]);
});

test('a crashing ingester stops the rollout at its wave: later groups keep the old image, the error names the wave and the way back', async () => {
  await deployOld('crashy');
  const registered = registrations();
  expect((await getNomadStatus(client, ref('crashy'))).upgrade).toBeUndefined();
  let rolling: Promise<StackStatus> | undefined;
  const error = await applyNomadJob(client, stackOf('crashy', NEW), {
    wait: { timeoutMs: 60_000 },
    rollbackCommand: 'loki-microservices apply --target nomad -f crashy.yaml',
    // The ingesters crash from their wave on (set earlier, the old ones would crash in the waves before).
    onWave: (wave) => {
      if (!wave.groups.includes('ingester')) return;
      server.setGroupBehaviour('crashy', 'ingester', 'crash');
      // The status while the ingester wave (job version 3) rolls.
      rolling = statusAtVersion('crashy', 3);
    },
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NomadWaveFailedError);
  const failed = error as NomadWaveFailedError;
  expect(failed.name).toBe('NomadWaveFailedError');
  expect(failed.wave).toMatchObject({ number: 3, total: WAVES.length, groups: ['ingester'], result: 'failed' });
  expect(failed.rollout.waves.map((w) => w.result)).toEqual(['ready', 'ready', 'failed']);
  expect(failed.message).toContain('wave 3/8 (ingester, job version 3) failed');
  expect(failed.message).toContain('later waves were not registered');
  expect(failed.message).toMatch(/rolling back to job version 2/);
  expect(failed.message).toContain(
    `to go back: loki-microservices apply --target nomad -f crashy.yaml --set spec.version=${OLD}`,
  );
  expect(failed.status.components.ingester!.notReady.length).toBeGreaterThan(0);

  // Three registrations (the waves up to the failing one); Nomad's auto_revert registered the stable version 2.
  expect(registrations() - registered).toBe(3);
  const job = server.jobs().find((j) => j.ID === 'crashy')!;
  expect(job.Version).toBe(4);
  expect(imageOf(job, 'compactor')).toBe(NEW);
  expect(imageOf(job, 'index-gateway')).toBe(NEW);
  for (const group of WAVES.slice(2)) expect(imageOf(job, group)).toBe(OLD);
  const versions = (await get<{ Versions: Json[] }>('/v1/job/crashy/versions')).Versions;
  for (const version of versions) expect(imageOf(version, 'query-scheduler')).toBe(OLD);

  // Status says where the upgrade stands: while the ingester wave rolled, at its failure, and once reverted
  // (the ingester group back at the old version: none of its allocations updated).
  const upgrade = { to: NEW, wave: 3, waves: WAVES.length, component: 'ingester', desired: 1 };
  expect((await rolling!).upgrade).toMatchObject(upgrade);
  expect(failed.status.upgrade).toMatchObject(upgrade);
  // Reverted (job version 4): once the earlier waves' allocations are updated in place to it.
  let reverted = await getNomadStatus(client, ref('crashy'));
  while (reverted.components['index-gateway']!.updated < 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    reverted = await getNomadStatus(client, ref('crashy'));
  }
  expect([reverted.version, reverted.upgrade]).toEqual([OLD, { ...upgrade, updated: 0 }]);
  const shown = await cli('crashy', ['status', '--set', `spec.version=${NEW}`]);
  expect(shown.stdout).toContain(`Loki ${OLD}`);
  expect(shown.stdout).toContain(`upgrading to ${NEW}: wave 3/${WAVES.length}, ingester 0/1`);
  server.setGroupBehaviour('crashy', 'ingester', 'healthy');
});

test('apply --target nomad rolls an upgrade in waves and reports them; --all-at-once registers once', async () => {
  await deployOld('cli');
  const apply = (args: string[]) => cli('cli', ['apply', ...args]);
  const waved = await apply(['--set', `spec.version=${NEW}`, '-o', 'json']);
  expect(waved.stderr).toContain('wave 3/8: ingester, waiting until it is ready');
  expect(waved.code).toBe(0);
  const output = JSON.parse(waved.stdout) as Json;
  expect(output.apply.rollout.waves.map((w: Json) => w.groups[0])).toEqual(WAVES);
  expect(output.apply.version).toBe(WAVES.length);

  const back = await apply(['--set', `spec.version=${OLD}`, '--allow-downgrade', '--all-at-once']);
  expect(back.code).toBe(0);
  expect(back.stderr).not.toContain('wave 1/');
  expect(back.stdout).toContain(`version ${WAVES.length + 1}`);
  expect(back.stdout).not.toContain('rolled out in waves');
});
