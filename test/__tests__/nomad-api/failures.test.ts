// The failures a group can be told to show, and what Nomad makes of them: unhealthy allocations, tasks
// that crash, images that cannot be pulled, groups that cannot be placed; deployments that fail on the
// first unhealthy allocation or at the progress deadline, rescheduling, and auto-revert.
import type { NomadApiServer, NomadApiServerOptions } from '../../src/nomad-api/index.js';
import { closeHclParser } from '../../src/hcl.js';
import { all, allocsOf, call, deploy, deploymentIs, evaluated, running, serverStarter, waitFor } from './nomad.js';

afterAll(closeHclParser);

type Json = Record<string, any>;

const FAST: NomadApiServerOptions = {
  runDelayMs: 20,
  healthyDelayMs: 20,
  healthyDeadlineMs: 2000,
  progressDeadlineMs: 5000,
  rescheduleDelayMs: 60_000,
  evalDelayMs: 5,
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: NomadApiServer;
const startServer = serverStarter(FAST);
const start = async (options: NomadApiServerOptions = {}) => (server = await startServer(options));

const taskState = (alloc: Json): Json => Object.values(alloc.TaskStates as Json)[0];
const ingesters = async () => allocsOf((await call(server, 'GET', '/v1/job/loki/allocations')).json, 'ingester');

describe('unhealthy', () => {
  test('without a progress deadline: health stays unknown until the healthy deadline, then the deployment fails at once', async () => {
    await start({ healthyDeadlineMs: 2000, behaviours: { 'loki/ingester': 'unhealthy' } });
    await deploy(server, { progressDeadline: '0' });
    const up = await waitFor(
      server,
      '/v1/job/loki/allocations',
      (allocs: Json[]) => allocsOf(allocs, 'ingester').filter((alloc) => alloc.ClientStatus === 'running').length === 2,
    );
    // Running, checks not passing: the client has not decided yet.
    for (const alloc of allocsOf(up.json, 'ingester')) expect(alloc.DeploymentStatus).toBeNull();

    const deployment = (await deploymentIs(server, 'failed')).json;
    expect(deployment.StatusDescription).toBe('Failed due to unhealthy allocations');
    expect(deployment.TaskGroups.ingester.UnhealthyAllocs).toBeGreaterThanOrEqual(1);
    expect(deployment.TaskGroups.ingester.HealthyAllocs).toBe(0);
    const unhealthy = (await ingesters()).find((alloc) => alloc.DeploymentStatus?.Healthy === false)!;
    // Decided at the healthy deadline, counted from placement; the task keeps running.
    expect(Date.parse(unhealthy.DeploymentStatus.Timestamp)).toBeGreaterThanOrEqual(
      unhealthy.CreateTime / 1e6 + 2000 - 5,
    );
    expect(unhealthy).toMatchObject({ ClientStatus: 'running', DesiredStatus: 'run' });
    expect((await call(server, 'GET', '/v1/job/loki')).json).toMatchObject({ Status: 'running', Stable: false });
  });

  test('with a progress deadline: the allocations stay unhealthy, the deployment fails when the deadline passes', async () => {
    await start({ healthyDeadlineMs: 100, progressDeadlineMs: 3000, behaviours: { 'loki/ingester': 'unhealthy' } });
    await deploy(server);
    const unhealthy = await waitFor(server, '/v1/job/loki/allocations', (allocs: Json[]) =>
      all(allocsOf(allocs, 'ingester'), (alloc) => alloc.DeploymentStatus?.Healthy === false),
    );
    expect(allocsOf(unhealthy.json, 'ingester')).toHaveLength(2);
    // An unhealthy allocation alone does not fail a deployment that has a progress deadline.
    expect((await call(server, 'GET', '/v1/job/loki/deployment')).json.Status).toBe('running');
    const deployment = (await deploymentIs(server, 'failed')).json;
    expect(deployment.StatusDescription).toBe('Failed due to progress deadline');
    expect(deployment.TaskGroups.ingester).toMatchObject({ UnhealthyAllocs: 2, HealthyAllocs: 0, PlacedAllocs: 2 });
    // The deadline fails the deployment, not the other groups' allocations (healthy or, on a busy machine, undecided).
    expect(deployment.TaskGroups.distributor).toMatchObject({ UnhealthyAllocs: 0, PlacedAllocs: 1 });
    expect(deployment.ModifyTime / 1e6).toBeGreaterThanOrEqual(
      Date.parse(deployment.TaskGroups.ingester.RequireProgressBy) - 5,
    );
    expect(running(await ingesters())).toHaveLength(2);
  });
});

describe('crash', () => {
  test('the task exits with code 1, restarts until the restart policy gives up, and the allocation fails', async () => {
    await start({ behaviours: { 'loki/ingester': 'crash' } });
    const { register } = await deploy(server);
    // Nomad evaluates each failure, and the evaluation schedules the replacement for later.
    const failed = await waitFor(server, '/v1/job/loki/allocations', (allocs: Json[]) =>
      all(allocsOf(allocs, 'ingester'), (alloc) => alloc.ClientStatus === 'failed' && alloc.FollowupEvalID !== ''),
    );
    for (const alloc of allocsOf(failed.json, 'ingester')) {
      expect(alloc).toMatchObject({
        ClientDescription: 'Failed tasks',
        DesiredStatus: 'run',
        DeploymentStatus: { Healthy: false },
      });
      const state = taskState(alloc);
      expect(state).toMatchObject({ State: 'dead', Failed: true, Restarts: 2 });
      expect(state.LastRestart).not.toBe('0001-01-01T00:00:00Z');
      // Nomad keeps a task's last ten events.
      expect(state.Events).toHaveLength(10);
      expect(state.Events.map((event: Json) => event.Type)).toEqual([
        'Driver',
        'Started',
        'Terminated',
        'Restarting',
        'Started',
        'Terminated',
        'Restarting',
        'Started',
        'Terminated',
        'Not Restarting',
      ]);
      const terminated = state.Events.find((event: Json) => event.Type === 'Terminated');
      expect(terminated).toMatchObject({
        ExitCode: 1,
        DisplayMessage: 'Exit Code: 1, Exit Message: "Docker container exited with non-zero exit code: 1"',
      });
      expect(state.Events.find((event: Json) => event.Type === 'Restarting')).toMatchObject({
        DisplayMessage: 'Task restarting in 15s',
        RestartReason: 'Restart within policy',
      });
      expect(state.Events.at(-1)).toMatchObject({
        FailsTask: true,
        DisplayMessage: 'Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"',
      });
      expect(alloc.FollowupEvalID).toMatch(UUID);
    }
    const summary = (await call(server, 'GET', '/v1/job/loki/summary')).json.Summary;
    expect(summary.ingester).toMatchObject({ Failed: 2, Running: 0 });
    const evaluations: Json[] = (await call(server, 'GET', '/v1/job/loki/evaluations')).json;
    expect(
      evaluations.filter((evaluation) => evaluation.TriggeredBy === 'alloc-failure' && evaluation.Status === 'complete')
        .length,
    ).toBeGreaterThanOrEqual(1);
    const followup = evaluations.find(
      (evaluation) => evaluation.Status === 'pending' && evaluation.TriggeredBy === 'alloc-failure',
    )!;
    expect(Date.parse(followup.WaitUntil)).toBeGreaterThan(Date.now());
    expect(evaluations.find((evaluation) => evaluation.ID === register.json.EvalID)).toMatchObject({
      Status: 'complete',
    });
    // Still running as a deployment: a failed allocation is replaced, the progress deadline decides.
    expect((await call(server, 'GET', '/v1/job/loki/deployment')).json.TaskGroups.ingester.UnhealthyAllocs).toBe(2);
  });

  test('failed allocations are replaced after the reschedule delay; a group that recovers completes its deployment', async () => {
    await start({ rescheduleDelayMs: 50, progressDeadlineMs: 20_000, behaviours: { 'loki/ingester': 'crash' } });
    await deploy(server);
    const first = await waitFor(server, '/v1/job/loki/allocations', (allocs: Json[]) =>
      allocsOf(allocs, 'ingester').some((alloc) => alloc.NextAllocation !== ''),
    );
    const replaced = allocsOf(first.json, 'ingester').find((alloc) => alloc.NextAllocation !== '')!;
    expect(replaced).toMatchObject({
      DesiredStatus: 'stop',
      DesiredDescription: 'alloc was rescheduled because it failed',
      ClientStatus: 'failed',
    });
    const replacement = allocsOf(first.json, 'ingester').find((alloc) => alloc.ID === replaced.NextAllocation)!;
    expect(replacement.Name).toBe(replaced.Name);
    expect(replacement.RescheduleTracker.Events).toEqual([
      expect.objectContaining({ PrevAllocID: replaced.ID, PrevNodeID: replaced.NodeID, Delay: 50e6 }),
    ]);

    server.setGroupBehaviour('loki', 'ingester', 'healthy');
    const deployment = (await deploymentIs(server, 'successful')).json;
    expect(deployment.TaskGroups.ingester.HealthyAllocs).toBe(2);
    expect(deployment.TaskGroups.ingester.PlacedAllocs).toBeGreaterThan(2);
    const recovered = running(await ingesters());
    expect(recovered).toHaveLength(2);
    expect(
      all(recovered, (alloc) => alloc.ClientStatus === 'running' && alloc.DeploymentStatus?.Healthy === true),
    ).toBe(true);
  });

  test('set on a running group, it reaches the allocations already running', async () => {
    await start();
    await deploy(server);
    await deploymentIs(server, 'successful');
    server.setGroupBehaviour('loki', 'ingester', 'crash');
    const failed = await waitFor(server, '/v1/job/loki/allocations', (allocs: Json[]) =>
      all(allocsOf(allocs, 'ingester'), (alloc) => alloc.ClientStatus === 'failed'),
    );
    expect(all(allocsOf(failed.json, 'ingester'), (alloc) => taskState(alloc).Restarts === 2)).toBe(true);
    expect(allocsOf(failed.json, 'distributor')[0]).toMatchObject({ ClientStatus: 'running' });
    // Health, once decided, stays: the finished deployment is not failed afterwards.
    expect((await call(server, 'GET', '/v1/job/loki/deployment')).json.Status).toBe('successful');
  });
});

describe('image-pull', () => {
  test('the driver cannot pull the image: no restart, the allocation fails', async () => {
    await start({ behaviours: { 'loki/ingester': 'image-pull' } });
    await deploy(server);
    const failed = await waitFor(server, '/v1/job/loki/allocations', (allocs: Json[]) =>
      all(allocsOf(allocs, 'ingester'), (alloc) => alloc.ClientStatus === 'failed'),
    );
    for (const alloc of allocsOf(failed.json, 'ingester')) {
      const state = taskState(alloc);
      expect(state).toMatchObject({ State: 'dead', Failed: true, Restarts: 0 });
      expect(state.Events.map((event: Json) => event.Type)).toEqual([
        'Received',
        'Task Setup',
        'Driver',
        'Driver Failure',
        'Not Restarting',
      ]);
      expect(state.Events[3].DisplayMessage).toMatch(/^Failed to pull `grafana\/loki:3\.7\.8`: /);
      expect(state.Events[4]).toMatchObject({ DisplayMessage: 'Error was unrecoverable', FailsTask: true });
      expect(alloc.DeploymentStatus).toMatchObject({ Healthy: false });
    }
    expect(allocsOf(failed.json, 'distributor')[0]).toMatchObject({ ClientStatus: 'running' });
  });
});

describe('unplaceable', () => {
  test('nothing is placed; the evaluation reports why and blocks; the deployment waits until the group can be placed', async () => {
    await start({ behaviours: { 'loki/ingester': 'unplaceable' } });
    const { register } = await deploy(server);
    const evaluation = (await evaluated(server, register.json.EvalID)).json;
    expect(evaluation).toMatchObject({
      Status: 'complete',
      BlockedEval: expect.stringMatching(UUID),
      QueuedAllocations: { ingester: 2, distributor: 0 },
      FailedTGAllocs: {
        ingester: {
          NodesEvaluated: 3,
          NodesFiltered: 0,
          NodesAvailable: { dc1: 3 },
          NodesExhausted: 3,
          DimensionExhausted: { memory: 3 },
          CoalescedFailures: 1,
        },
      },
    });
    expect(Object.keys(evaluation.FailedTGAllocs)).toEqual(['ingester']);
    const blocked = (await call(server, 'GET', `/v1/evaluation/${evaluation.BlockedEval}`)).json;
    expect(blocked).toMatchObject({
      Status: 'blocked',
      TriggeredBy: 'queued-allocs',
      PreviousEval: evaluation.ID,
      StatusDescription: 'created to place remaining allocations',
    });

    const waiting = await waitFor(
      server,
      '/v1/job/loki/deployment',
      (deployment) => deployment?.TaskGroups.distributor.HealthyAllocs === 1,
    );
    expect(waiting.json).toMatchObject({
      Status: 'running',
      StatusDescription: 'Deployment is running',
      TaskGroups: { ingester: { PlacedAllocs: 0, DesiredTotal: 2 } },
    });
    expect(waiting.json.TaskGroups.ingester.RequireProgressBy).toBe('0001-01-01T00:00:00Z');
    expect(allocsOf((await call(server, 'GET', '/v1/job/loki/allocations')).json, 'ingester')).toEqual([]);
    expect((await call(server, 'GET', '/v1/job/loki/summary')).json.Summary.ingester).toMatchObject({
      Queued: 2,
      Running: 0,
      Starting: 0,
    });
    // The latest evaluation (the deployment watcher's) still reports the group it cannot place.
    const evaluations: Json[] = (await call(server, 'GET', '/v1/job/loki/evaluations')).json;
    const latest = evaluations
      .filter((other) => other.Status === 'complete')
      .sort((a, b) => b.CreateIndex - a.CreateIndex)[0]!;
    expect(latest.FailedTGAllocs.ingester).toMatchObject({ DimensionExhausted: { memory: 3 } });
    expect(latest.BlockedEval).toBe(evaluation.BlockedEval);

    server.setGroupBehaviour('loki', 'ingester', 'healthy');
    await deploymentIs(server, 'successful');
    // The blocked evaluation is done with: it ran and completed, or, when another evaluation of the job (the deployment
    // watcher's) placed everything first (a busy machine's timing), it was cancelled, as Nomad does with it then.
    expect(['complete', 'canceled']).toContain(
      (await call(server, 'GET', `/v1/evaluation/${evaluation.BlockedEval}`)).json.Status,
    );
    expect((await call(server, 'GET', '/v1/job/loki/summary')).json.Summary.ingester).toMatchObject({
      Queued: 0,
      Running: 2,
    });
  });

  test('a job for datacenters without nodes cannot be placed either', async () => {
    await start({ datacenter: 'eu-west-1a' });
    const { register } = await deploy(server);
    const evaluation = (await evaluated(server, register.json.EvalID)).json;
    expect(evaluation.FailedTGAllocs.ingester).toMatchObject({
      NodesEvaluated: 0,
      NodesAvailable: { dc1: 0 },
      DimensionExhausted: null,
    });
    expect((await call(server, 'GET', '/v1/job/loki')).json.Status).toBe('pending');
  });
});

describe('auto_revert', () => {
  test('a failed deployment rolls back to the latest stable version', async () => {
    await start({ healthyDeadlineMs: 300 });
    await deploy(server, { progressDeadline: '0', autoRevert: true });
    await deploymentIs(server, 'successful', 0);
    await waitFor(server, '/v1/job/loki', (job) => job.Stable === true);
    server.setGroupBehaviour('loki', 'ingester', 'unhealthy');
    await deploy(server, { progressDeadline: '0', autoRevert: true, image: 'grafana/loki:3.7.9' });
    const failed = (await deploymentIs(server, 'failed', 1)).json;
    expect(failed.StatusDescription).toBe('Failed due to unhealthy allocations - rolling back to job version 0');
    const job = (await waitFor(server, '/v1/job/loki', (body) => body.Version === 2)).json;
    expect(job.TaskGroups[0].Tasks[0].Config.image).toBe('grafana/loki:3.7.8');
    expect(job.Stable).toBe(false);
    const versions = (await call(server, 'GET', '/v1/job/loki/versions')).json.Versions as Json[];
    expect(versions.map((version) => version.Version)).toEqual([2, 1, 0]);
  });

  test('without a stable version there is nothing to revert to', async () => {
    await start({ healthyDeadlineMs: 300, behaviours: { 'loki/ingester': 'unhealthy' } });
    await deploy(server, { progressDeadline: '0', autoRevert: true });
    const failed = (await deploymentIs(server, 'failed', 0)).json;
    expect(failed.StatusDescription).toBe(
      'Failed due to unhealthy allocations - no stable job version to auto revert to',
    );
    expect((await call(server, 'GET', '/v1/job/loki')).json.Version).toBe(0);
  });
});
