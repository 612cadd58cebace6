// The Nomad status model on hand-made API objects: what each allocation state means for the stack.
import { nomadStatusOf } from 'loki-microservices/testing';

const NS = 1e6;
const job = {
  ID: 'loki',
  Namespace: 'default',
  Version: 2,
  Meta: { loki_version: '3.7.8' },
  TaskGroups: [{ Name: 'ingester', Count: 2 }],
};
const event = (Type: string, Time: number, DisplayMessage?: string) => ({
  Type,
  Time: Time * NS,
  ...(DisplayMessage ? { DisplayMessage } : {}),
});
const alloc = (id: string, overrides: Record<string, unknown>) => ({
  ID: id,
  Name: `loki.ingester[${id.slice(-1)}]`,
  TaskGroup: 'ingester',
  JobVersion: 2,
  DesiredStatus: 'run',
  ClientStatus: 'running',
  DeploymentStatus: { Healthy: true },
  TaskStates: { ingester: { State: 'running', Restarts: 0, Events: [event('Received', 1), event('Started', 2)] } },
  CreateTime: 1_700_000_000_000 * NS,
  ...overrides,
});
const statusOf = (allocations: ReturnType<typeof alloc>[], extra: Record<string, unknown> = {}) =>
  nomadStatusOf({ job, allocations, deployment: null, evaluations: [], addresses: {}, ...extra } as Parameters<
    typeof nomadStatusOf
  >[0]);

test('running and healthy allocations make a Ready group', () => {
  const status = statusOf([alloc('a0', {}), alloc('a1', {})]);
  expect(status.condition.type).toBe('Ready');
  expect(status.components.ingester).toMatchObject({
    kind: 'TaskGroup',
    desired: 2,
    ready: 2,
    updated: 2,
    current: true,
    pods: { Ready: 2 },
  });
  expect(status.endpoints).toEqual({ push: '', query: '', basicAuth: false });
  expect(status.version).toBe('3.7.8');
});

test('a failed allocation gives its cause and what Nomad did about it', () => {
  const failed = alloc('a1', {
    ClientStatus: 'failed',
    DeploymentStatus: { Healthy: false },
    TaskStates: {
      ingester: {
        State: 'dead',
        Failed: true,
        Restarts: 2,
        Events: [
          event('Started', 1),
          event('Terminated', 5, 'Exit Code: 1, Exit Message: "config error"'),
          event('Not Restarting', 6, 'Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"'),
        ],
      },
    },
  });
  const status = statusOf([alloc('a0', {}), failed]);
  expect(status.condition).toMatchObject({ type: 'Degraded', reason: 'ComponentsDegraded' });
  expect(status.components.ingester!.notReady).toEqual([
    {
      name: 'loki.ingester[1]',
      state: 'Failed',
      reason: 'Terminated',
      message:
        'Exit Code: 1, Exit Message: "config error"; Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"',
      container: 'ingester',
      restarts: 2,
      failing: true,
    },
  ]);
});

test('a replacement for a failed allocation is failing until it is healthy, and says why the last one failed', () => {
  const failed = alloc('b1', {
    ClientStatus: 'failed',
    NextAllocation: 'c1',
    TaskStates: {
      ingester: {
        State: 'dead',
        Failed: true,
        Events: [event('Driver Failure', 3, 'Failed to pull `grafana/loki:3.7.8`: not found')],
      },
    },
  });
  const replacement = alloc('c1', {
    ClientStatus: 'pending',
    DeploymentStatus: null,
    RescheduleTracker: { Events: [{}] },
    TaskStates: { ingester: { State: 'pending', Events: [event('Received', 4)] } },
  });
  const status = statusOf([alloc('a0', {}), failed, replacement]);
  // The replaced allocation no longer counts; its replacement does.
  expect(status.components.ingester).toMatchObject({ ready: 1, pods: { Ready: 1, Pending: 1, Failed: 0 } });
  expect(status.components.ingester!.notReady).toEqual([
    expect.objectContaining({
      name: 'loki.ingester[1]',
      state: 'Pending',
      reason: 'Rescheduled',
      failing: true,
      message:
        'rescheduled 1 time after failures; the last one DriverFailure: Failed to pull `grafana/loki:3.7.8`: not found',
    }),
  ]);
});

test('allocations of an older version count as not updated; a stopped job is Failed with JobStopped', () => {
  const old = statusOf([alloc('a0', { JobVersion: 1 }), alloc('a1', {})]);
  expect(old.components.ingester).toMatchObject({ ready: 2, updated: 1, current: false });
  expect(old.condition.type).toBe('Pending');
  const stopped = nomadStatusOf({
    job: { ...job, Stop: true },
    allocations: [],
    deployment: null,
    evaluations: [],
    addresses: {},
  } as Parameters<typeof nomadStatusOf>[0]);
  expect(stopped.condition).toMatchObject({ type: 'Failed', reason: 'JobStopped' });
});

test('an allocation still starting is Pending and not failing; a running one waits for its check', () => {
  const status = statusOf([
    alloc('a0', {
      ClientStatus: 'pending',
      DeploymentStatus: null,
      TaskStates: {
        ingester: { State: 'pending', Events: [event('Received', 1), event('Driver', 2, 'Downloading image')] },
      },
    }),
    alloc('a1', { DeploymentStatus: { Healthy: null } }),
  ]);
  expect(status.condition.type).toBe('Pending');
  expect(status.components.ingester!.notReady).toEqual([
    expect.objectContaining({
      name: 'loki.ingester[0]',
      state: 'Pending',
      reason: 'Driver',
      message: 'Downloading image',
      failing: false,
    }),
    expect.objectContaining({ name: 'loki.ingester[1]', state: 'Running', reason: 'NotHealthyYet', failing: false }),
  ]);
});
