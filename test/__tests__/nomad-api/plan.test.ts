// POST /v1/job/:id/plan on the Nomad API double, checked against the fields Nomad documents for a plan
// (api-docs/jobs#create-job-plan, api/jobs.go JobPlanResponse, nomad/structs/diff.go, scheduler/annotate.go).
import { closeHclParser } from '../../src/hcl.js';
import type { NomadApiServer } from '../../src/nomad-api/index.js';
import { jobFile, type JobFileOptions } from './job-file.js';
import { call, deploy, deploymentIs, serverStarter } from './nomad.js';

afterAll(closeHclParser);

type Json = Record<string, any>;

let server: NomadApiServer;
const start = serverStarter({ runDelayMs: 10, healthyDelayMs: 10, healthyDeadlineMs: 2000, evalDelayMs: 5 });

const parsed = async (options: JobFileOptions = {}, headers: Record<string, string> = {}) =>
  (await call(server, 'POST', '/v1/jobs/parse', { JobHCL: jobFile(options), Canonicalize: true }, headers))
    .json as Json;
const plan = (job: Json, diff = true, id = job.ID) =>
  call(server, 'POST', `/v1/job/${id}/plan`, { Job: job, Diff: diff, PolicyOverride: false });

const DESIRED_UPDATES = [
  'Canary',
  'DestructiveUpdate',
  'Ignore',
  'InPlaceUpdate',
  'Migrate',
  'Place',
  'Preemptions',
  'Stop',
];

test("a new job: every group placed, the diff 'Added', Nomad's response fields; nothing is registered", async () => {
  server = await start();
  const answer = await plan(await parsed());
  expect(answer.status).toBe(200);
  const body = answer.json;
  expect(Object.keys(body)).toEqual(
    expect.arrayContaining([
      'JobModifyIndex',
      'CreatedEvals',
      'Diff',
      'Annotations',
      'FailedTGAllocs',
      'NextPeriodicLaunch',
      'Warnings',
    ]),
  );
  expect(body).toMatchObject({ JobModifyIndex: 0, FailedTGAllocs: null, Warnings: '' });
  expect(Object.keys(body.Annotations.DesiredTGUpdates.ingester).sort()).toEqual(DESIRED_UPDATES);
  expect(body.Annotations.DesiredTGUpdates.ingester).toMatchObject({ Place: 2, Ignore: 0, DestructiveUpdate: 0 });
  expect(body.Diff).toMatchObject({ Type: 'Added', ID: 'loki' });
  expect(body.Diff.TaskGroups.map((group: Json) => [group.Name, group.Type, group.Updates])).toEqual([
    ['distributor', 'Added', { create: 1 }],
    ['ingester', 'Added', { create: 2 }],
  ]);
  const ingester = body.Diff.TaskGroups[1];
  expect(ingester.Fields).toContainEqual({
    Type: 'Added',
    Name: 'Count',
    Old: '',
    New: '2',
    Annotations: ['forces create'],
  });
  expect(ingester.Tasks[0]).toMatchObject({ Type: 'Added', Name: 'ingester', Annotations: ['forces create'] });
  expect((await call(server, 'GET', '/v1/jobs')).json).toEqual([]);
  expect((await call(server, 'GET', '/v1/job/loki')).status).toBe(404);
});

test('an unchanged job: Diff None, every allocation ignored; a new image: create/destroy, max_parallel at a time', async () => {
  server = await start();
  const { job } = await deploy(server);
  await deploymentIs(server, 'successful', 0);
  const stored = (await call(server, 'GET', '/v1/job/loki')).json;
  const same = (await plan(job)).json;
  expect(same.JobModifyIndex).toBe(stored.JobModifyIndex);
  expect(same.Diff).toMatchObject({ Type: 'None', Fields: null, Objects: null });
  expect(same.Diff.TaskGroups.map((group: Json) => [group.Type, group.Updates])).toEqual([
    ['None', { ignore: 1 }],
    ['None', { ignore: 2 }],
  ]);

  const changed = (await plan(await parsed({ image: 'grafana/loki:3.7.9' }))).json;
  const [distributor, ingester] = changed.Diff.TaskGroups as Json[];
  // The distributor did not change: its allocation takes the new version in place.
  expect(distributor).toMatchObject({ Type: 'None', Updates: { 'in-place update': 1 } });
  // max_parallel = 1: the first evaluation replaces one ingester, the deployment the other.
  expect(ingester).toMatchObject({ Type: 'Edited', Updates: { 'create/destroy update': 1, ignore: 1 } });
  expect(changed.Annotations.DesiredTGUpdates.ingester).toMatchObject({ DestructiveUpdate: 1, Ignore: 1 });
  expect(ingester!.Tasks[0]).toMatchObject({
    Type: 'Edited',
    Name: 'ingester',
    Annotations: ['forces create/destroy update'],
    Objects: [
      {
        Type: 'Edited',
        Name: 'Config',
        Fields: expect.arrayContaining([
          { Type: 'Edited', Name: 'image', Old: 'grafana/loki:3.7.8', New: 'grafana/loki:3.7.9', Annotations: null },
          // Contextual: the block's unchanged fields come along as None.
          expect.objectContaining({ Type: 'None', Name: 'args[0]' }),
        ]),
        Objects: null,
      },
    ],
  });
  // Planned only: the job is where it was.
  expect((await call(server, 'GET', '/v1/job/loki')).json).toMatchObject({
    Version: stored.Version,
    JobModifyIndex: stored.JobModifyIndex,
  });
});

test('a count change is an in-place update annotated with its direction; fewer allocations are destroyed', async () => {
  server = await start();
  await deploy(server);
  await deploymentIs(server, 'successful', 0);
  const fewer = (await plan(await parsed({ ingesterCount: 1 }))).json;
  const ingester = fewer.Diff.TaskGroups[1];
  expect(ingester).toMatchObject({ Type: 'Edited', Updates: { destroy: 1, 'in-place update': 1 } });
  expect(ingester.Fields).toEqual([
    { Type: 'Edited', Name: 'Count', Old: '2', New: '1', Annotations: ['forces destroy'] },
  ]);
  const more = (await plan(await parsed({ ingesterCount: 3 }))).json;
  expect(more.Annotations.DesiredTGUpdates.ingester).toMatchObject({ Place: 1, InPlaceUpdate: 2, Stop: 0 });
});

test("a group Nomad cannot place is in FailedTGAllocs, as an evaluation's", async () => {
  server = await start();
  server.setGroupBehaviour('loki', 'ingester', 'unplaceable');
  const body = (await plan(await parsed())).json;
  expect(Object.keys(body.FailedTGAllocs)).toEqual(['ingester']);
  expect(body.FailedTGAllocs.ingester).toMatchObject({ DimensionExhausted: { memory: 3 }, CoalescedFailures: 1 });
});

test("requests checked as Nomad's agent checks them", async () => {
  server = await start({ aclToken: 'plan-token' });
  const auth = { 'X-Nomad-Token': 'plan-token' };
  const job = await parsed({}, auth);
  const send = (body: unknown, path = '/v1/job/loki/plan', method = 'POST', headers: Record<string, string> = auth) =>
    call(server, method, path, body, headers);
  expect(await send({ Job: job, Diff: true }, '/v1/job/other/plan')).toMatchObject({
    status: 400,
    text: 'Job ID does not match',
  });
  expect(await send({ Diff: true })).toMatchObject({ status: 400, text: 'Job must be specified' });
  expect(await send({ Job: { ...job, ID: null } })).toMatchObject({ status: 400, text: 'Job must have a valid ID' });
  expect((await send(undefined, undefined, 'GET')).status).toBe(405);
  expect((await send({ Job: job }, undefined, 'POST', {})).status).toBe(403);
  expect((await send({ Job: job }, '/v1/job/loki/plan?namespace=nope')).text).toContain(
    'job "loki" is in nonexistent namespace "nope"',
  );
  // Without Diff, no diff.
  expect((await send({ Job: job })).json).toMatchObject({ Diff: null });
});
