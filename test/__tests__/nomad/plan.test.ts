// `plan` on Nomad: what apply would change, from Nomad's own dry run (POST /v1/job/:id/plan) against the
// Nomad API double, told in Loki's terms; and the prediction checked against what apply then does.
import { jest } from '@jest/globals';
import {
  applyNomadJob,
  NomadClient,
  parseSpec,
  planNomadJob,
  waitForNomadJob,
  type LokiStackInput,
  type StackPlan,
} from 'loki-microservices';
import type { NomadApiServer } from '../../src/nomad-api/index.js';
import { ref, specOf, startNomadFixture } from './fixture.js';

jest.setTimeout(60_000);

type Json = Record<string, any>;

const TOKEN = 'acl-token-plan-7c1d';
const stackOf = (name: string, extra: LokiStackInput['spec'] = {}) => parseSpec(specOf(name, extra));

let server: NomadApiServer;
let client: NomadClient;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ server, client, close } = await startNomadFixture({
    aclToken: TOKEN,
    runDelayMs: 10,
    healthyDelayMs: 10,
    healthyDeadlineMs: 300,
    progressDeadlineMs: 30_000,
  }));
});

afterAll(() => close());

const GROUPS = [
  'compactor',
  'distributor',
  'index-gateway',
  'ingester',
  'querier',
  'query-frontend',
  'query-scheduler',
  'ruler',
];

async function deployed(name: string, extra: LokiStackInput['spec'] = {}) {
  await applyNomadJob(client, stackOf(name, extra));
  await waitForNomadJob(client, ref(name), { timeoutMs: 20_000 });
}

const jobOf = (name: string) => server.jobs('default').find((job: Json) => job.ID === name) as Json;
const allocations = async (name: string): Promise<Json[]> =>
  (await (
    await fetch(`${server.url}/v1/job/${name}/allocations`, { headers: { 'X-Nomad-Token': TOKEN } })
  ).json()) as Json[];
const runningIds = (allocs: Json[], group: string) =>
  allocs.filter((a) => a.TaskGroup === group && a.DesiredStatus === 'run').map((a) => a.ID as string);

test('a job Nomad does not have yet: the job and every group are created, nothing rolls', async () => {
  const plan = await planNomadJob(client, stackOf('fresh'));
  expect(plan).toMatchObject({
    apiVersion: 'loki-microservices/v1alpha1',
    kind: 'StackPlan',
    name: 'fresh',
    namespace: 'default',
    target: 'nomad',
    hasChanges: true,
    rolls: [],
    blockers: [],
    warnings: [],
  });
  expect(plan.changes).toContainEqual({ kind: 'Job', name: 'fresh', impact: 'create', fields: [] });
  const groups = plan.changes.filter((change) => change.kind === 'TaskGroup');
  expect(groups.map((change) => change.name).sort()).toEqual(GROUPS);
  expect(groups.every((change) => change.impact === 'create')).toBe(true);
  // Planned, not registered.
  expect(jobOf('fresh')).toBeUndefined();
  expect(server.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toContain('POST /v1/job/fresh/plan');
});

test('right after apply there is nothing to do; a plan registers nothing', async () => {
  await deployed('steady');
  const before = jobOf('steady');
  const plan = await planNomadJob(client, stackOf('steady'));
  expect(plan).toMatchObject({ hasChanges: false, changes: [], rolls: [], blockers: [], warnings: [] });
  // A changed spec planned: still the same job version and no new evaluation.
  const evaluations = (await (
    await fetch(`${server.url}/v1/job/steady/evaluations`, { headers: { 'X-Nomad-Token': TOKEN } })
  ).json()) as Json[];
  const changed = await planNomadJob(client, stackOf('steady', { limits: { ingestionRateMB: 9 } }));
  expect(changed.hasChanges).toBe(true);
  expect(jobOf('steady')).toMatchObject({ Version: before.Version, JobModifyIndex: before.JobModifyIndex });
  const after = (await (
    await fetch(`${server.url}/v1/job/steady/evaluations`, { headers: { 'X-Nomad-Token': TOKEN } })
  ).json()) as Json[];
  expect(after).toHaveLength(evaluations.length);
});

test('a change of overrides only is a Variable change naming the tenants; nothing rolls, and apply replaces nothing', async () => {
  await deployed('overridden', {
    auth: { enabled: true },
    overrides: { 'team-a': { queryTimeout: '5m' } },
  });
  const next = stackOf('overridden', {
    auth: { enabled: true },
    overrides: { 'team-a': { queryTimeout: '10m' }, 'team-b': { ingestionRateMB: 40 }, 'team-c': {} },
  });
  const plan = await planNomadJob(client, next);
  expect(plan).toMatchObject({ hasChanges: true, rolls: [], blockers: [], warnings: [] });
  expect(plan.changes).toEqual([
    {
      kind: 'Variable',
      name: 'nomad/jobs/overridden',
      impact: 'in-place',
      fields: ['overrides.team-a', 'overrides.team-b', 'overrides.team-c'],
    },
  ]);
  const before = jobOf('overridden');
  const ids = (await allocations('overridden'))
    .filter((a) => a.DesiredStatus === 'run')
    .map((a) => a.ID)
    .sort();
  expect(await applyNomadJob(client, next)).toMatchObject({ action: 'unchanged', runtime: 'updated' });
  await waitForNomadJob(client, ref('overridden'), { timeoutMs: 20_000 });
  expect(jobOf('overridden')).toMatchObject({ Version: before.Version });
  expect(
    (await allocations('overridden'))
      .filter((a) => a.DesiredStatus === 'run')
      .map((a) => a.ID)
      .sort(),
  ).toEqual(ids);
  expect(await planNomadJob(client, next)).toMatchObject({ hasChanges: false, changes: [] });
  // A job never applied: the variable is created with it.
  const fresh = await planNomadJob(
    client,
    stackOf('fresh-overrides', {
      auth: { enabled: true },
      overrides: { 'team-a': { queryTimeout: '5m' } },
    }),
  );
  expect(fresh.changes[0]).toEqual({
    kind: 'Variable',
    name: 'nomad/jobs/fresh-overrides',
    impact: 'create',
    fields: ['overrides.team-a'],
  });
});

test("a querier's replicas: the querier group changes in place, nothing rolls", async () => {
  await deployed('scaled');
  const plan = await planNomadJob(client, stackOf('scaled', { components: { querier: { replicas: 3 } } }));
  expect(plan.hasChanges).toBe(true);
  // More than one querier: spread over the nodes (the render adds a spread block).
  expect(plan.changes).toEqual([
    { kind: 'TaskGroup', name: 'querier', impact: 'in-place', fields: ['Count', 'Spread'] },
  ]);
  expect(plan.rolls).toEqual([]);
  expect(plan.warnings).toEqual([]);
});

test('a Loki config change rolls every group, naming the key; apply then replaces exactly those allocations', async () => {
  // Two queriers: Nomad's first evaluation replaces max_parallel (1) of them, the plan still counts both.
  await deployed('tuned', { components: { querier: { replicas: 2 } } });
  const next = stackOf('tuned', { components: { querier: { replicas: 2 } }, limits: { ingestionRateMB: 8 } });
  const plan = await planNomadJob(client, next);
  expect(plan.hasChanges).toBe(true);
  expect(plan.changes.map((change) => [change.name, change.impact]).sort()).toEqual(
    GROUPS.map((group) => [group, 'rolls']),
  );
  // Named by destination, never by the template's text.
  const ingester = plan.changes.find((change) => change.name === 'ingester')!;
  expect(ingester.fields).toEqual(['Tasks[ingester].Template[local/config.yaml]']);
  expect(JSON.stringify(plan)).not.toContain('ingestion_rate_mb: 8');
  expect(plan.rolls.map((roll) => roll.workload).sort()).toEqual(GROUPS);
  for (const roll of plan.rolls) {
    expect(roll.component).toBe(roll.workload);
    expect(roll.reasons).toEqual(['config: limits_config.ingestion_rate_mb']);
  }
  expect(plan.rolls.find((roll) => roll.workload === 'querier')!.pods).toBe(2);

  const before = await allocations('tuned');
  await applyNomadJob(client, next);
  await waitForNomadJob(client, ref('tuned'), { timeoutMs: 30_000 });
  const after = await allocations('tuned');
  for (const roll of plan.rolls) {
    const old = runningIds(before, roll.workload);
    const replaced = old.filter((id) => !runningIds(after, roll.workload).includes(id));
    expect([roll.workload, replaced.length]).toEqual([roll.workload, roll.pods]);
  }
  expect((await planNomadJob(client, next)).hasChanges).toBe(false);
});

test('an image change says which image; a placement Nomad would refuse is a blocker', async () => {
  await deployed('imaged');
  server.setGroupBehaviour('imaged', 'compactor', 'unplaceable', 'default');
  const plan = await planNomadJob(client, stackOf('imaged', { version: '3.7.1' } as LokiStackInput['spec']));
  const ingester = plan.rolls.find((roll) => roll.workload === 'ingester')!;
  expect(ingester.reasons).toContainEqual(
    expect.stringMatching(/^image: \S*grafana\/loki:3\.7\.\d+ → \S*grafana\/loki:3\.7\.1$/),
  );
  expect(plan.blockers).toEqual([
    {
      kind: 'TaskGroup',
      name: 'compactor',
      message: expect.stringMatching(
        /^Nomad cannot place task group "compactor": 1 allocation not placed: memory exhausted/,
      ),
    },
  ]);
});

test('turning auth on warns that the logs pushed so far stay with tenant "fake"', async () => {
  await deployed('tenants');
  const plan: StackPlan = await planNomadJob(client, stackOf('tenants', { auth: { enabled: true } }));
  expect(plan.warnings).toEqual([expect.objectContaining({ code: 'AuthToggled' })]);
  expect(plan.rolls.length).toBeGreaterThan(0);
});

test('fewer ingesters warn; the stack name is checked as apply checks it', async () => {
  await deployed('shrink', { components: { ingester: { replicas: 3 } } });
  const plan = await planNomadJob(client, stackOf('shrink', { components: { ingester: { replicas: 2 } } }));
  expect(plan.warnings.map((warning) => warning.code)).toEqual(['IngestersScaledDown']);
  expect(plan.changes).toContainEqual(expect.objectContaining({ name: 'ingester', impact: 'in-place' }));
  const bad = { ...stackOf('ok'), metadata: { name: 'Not_A_Name' } } as ReturnType<typeof stackOf>;
  await expect(planNomadJob(client, bad)).rejects.toThrow(/name/);
});
