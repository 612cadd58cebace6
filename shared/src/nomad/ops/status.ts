// The status of a stack on Nomad in the same StackStatus shape as on Kubernetes: a component per group,
// its allocations as the "pods" (Ready = running and healthy), the reasons of those that are not from the
// task events, and groups Nomad could not place from the evaluation's FailedTGAllocs. Constant cost: the
// job, its allocations, its deployment and evaluations, and two allocations for the endpoints.
import {
  conditionOf,
  STATUS_API_VERSION,
  type ComponentStatus,
  type PodProblem,
  type PodState,
  type StackStatus,
  type StackUpgrade,
} from '../../stack/status-model.js';
import { upgradeInWaves, wavesOfComponents } from '../../stack/waves.js';
import { assertStackRef } from '../../stack/names.js';
import { schemaPeriodsOf, schemaStatusOf } from '../../stack/schema-periods.js';
import { TASK_PATHS } from '../render/common.js';
import type {
  Allocation,
  AllocationMetric,
  AllocationStub,
  Deployment,
  Evaluation,
  NomadJob,
  TaskState,
} from './api-types.js';
import { NomadApiError, type NomadClient } from './client.js';

export interface NomadStackRef {
  /** Job ID: the stack name. */
  name: string;
  /** Nomad namespace. */
  namespace: string;
}

export interface NomadJobState {
  job: NomadJob;
  allocations: AllocationStub[];
  deployment: Deployment | null;
  evaluations: Evaluation[];
  /** host:port of the HTTP port of a running distributor and query-frontend, when there is one. */
  addresses: { distributor?: string; queryFrontend?: string };
}

export class NomadJobNotFoundError extends NomadApiError {
  constructor(ref: NomadStackRef) {
    super(`no Loki stack "${ref.name}" in Nomad namespace "${ref.namespace}"`, 404);
    this.name = 'NomadJobNotFoundError';
  }
}

/** Reads everything the status needs; `index` is the allocations' index, for a blocking wait on them. */
export async function readNomadJob(
  client: NomadClient,
  ref: NomadStackRef,
  block?: { index: number; waitMs: number; signal?: AbortSignal },
): Promise<{ state: NomadJobState; index: number }> {
  assertStackRef(ref);
  const path = `/v1/job/${encodeURIComponent(ref.name)}`;
  const options = { namespace: ref.namespace, ...(block?.signal ? { signal: block.signal } : {}) };
  const allocations = await client
    .request<AllocationStub[]>('GET', `${path}/allocations`, {
      ...options,
      ...(block ? { index: block.index, waitMs: block.waitMs } : {}),
    })
    .catch((error: unknown) => {
      throw error instanceof NomadApiError && error.code === 404 ? new NomadJobNotFoundError(ref) : error;
    });
  const job = await client.request<NomadJob>('GET', path, options).catch((error: unknown) => {
    throw error instanceof NomadApiError && error.code === 404 ? new NomadJobNotFoundError(ref) : error;
  });
  const [deployment, evaluations] = await Promise.all([
    client.request<Deployment | null>('GET', `${path}/deployment`, options),
    client.request<Evaluation[]>('GET', `${path}/evaluations`, options),
  ]);
  const addresses = await httpAddresses(client, ref.namespace, allocations.body);
  return {
    state: {
      job: job.body,
      allocations: allocations.body,
      deployment: deployment.body,
      evaluations: evaluations.body ?? [],
      addresses,
    },
    index: allocations.index,
  };
}

async function httpAddresses(
  client: NomadClient,
  namespace: string,
  allocations: AllocationStub[],
): Promise<NomadJobState['addresses']> {
  const address = async (group: string) => {
    const running = allocations.find(
      (a) => a.TaskGroup === group && a.DesiredStatus === 'run' && a.ClientStatus === 'running',
    );
    if (!running) return undefined;
    const alloc = await client.request<Allocation>('GET', `/v1/allocation/${running.ID}`, { namespace });
    const port = alloc.body.AllocatedResources?.Shared?.Ports?.find((p) => p.Label === 'http');
    return port ? `${port.HostIP}:${port.Value}` : undefined;
  };
  const [distributor, queryFrontend] = await Promise.all([address('distributor'), address('query-frontend')]);
  return { ...(distributor ? { distributor } : {}), ...(queryFrontend ? { queryFrontend } : {}) };
}

export async function getNomadStatus(client: NomadClient, ref: NomadStackRef): Promise<StackStatus> {
  return nomadStatusOf((await readNomadJob(client, ref)).state);
}

export function nomadStatusOf(state: NomadJobState): StackStatus {
  const { job } = state;
  const failedPlacements = latestFailedPlacements(state.evaluations);
  const components: Record<string, ComponentStatus> = {};
  for (const group of [...(job.TaskGroups ?? [])].sort((a, b) => a.Name.localeCompare(b.Name))) {
    const ofGroup = state.allocations.filter((a) => a.TaskGroup === group.Name);
    // A failed allocation Nomad has replaced counts through its replacement, as a deleted pod would.
    const current = ofGroup.filter((a) => a.DesiredStatus === 'run' && !a.NextAllocation);
    components[group.Name] = groupStatus(
      job,
      group.Count ?? 1,
      current,
      ofGroup,
      failedPlacements[group.Name],
      `${job.ID}.${group.Name}`,
    );
  }
  const url = (address: string | undefined, path = '') => (address ? `http://${address}${path}` : '');
  const submitted = job.SubmitTime ? new Date(Math.floor(job.SubmitTime / 1e6)).toISOString() : null;
  const created = state.allocations.map((a) => a.CreateTime).filter((t): t is number => !!t);
  return {
    apiVersion: STATUS_API_VERSION,
    kind: 'StackStatus',
    name: job.ID,
    namespace: job.Namespace ?? 'default',
    condition: job.Stop
      ? {
          type: 'Failed',
          reason: 'JobStopped',
          message: 'the job is stopped (nomad job stop); apply it again to start it',
        }
      : conditionOf(components),
    components,
    endpoints: {
      push: url(state.addresses.distributor, '/loki/api/v1/push'),
      query: url(state.addresses.queryFrontend),
      basicAuth: false,
    },
    version: job.Meta?.loki_version ?? null,
    createdAt: created.length > 0 ? new Date(Math.floor(Math.min(...created) / 1e6)).toISOString() : submitted,
    ...schemaStatusOf(schemaPeriodsOf(lokiConfigTemplateOf(job))),
    ...upgradeOf(job, state.allocations, components),
  };
}

/**
 * A rollout in waves under way, read off the job alone (ops/apply.ts): while wave k rolls, the registered job
 * has the groups of waves up to k at the new version (their meta.loki_version) and the later ones at the old,
 * the job's own meta the old one until the last wave. The target is the first wave's version; the wave rolling
 * is the first whose group is not at it, or not settled. The last group at it must run the current job version
 * (what the latest registration rolls, unless it only updates it in place: a revert, a registration of a later
 * wave), healthy if that version placed new allocations; the earlier ones only not fail (a registration updates
 * their allocations in place a moment after, and Nomad checks their health again). The last wave registers the rendered job, whose groups
 * agree again: that wave shows only as a group not up to date.
 */
function upgradeOf(
  job: NomadJob,
  allocations: AllocationStub[],
  components: Record<string, ComponentStatus>,
): { upgrade?: StackUpgrade } {
  const versionOf = (name: string) =>
    (job.TaskGroups ?? []).find((group) => group.Name === name)?.Meta?.loki_version ?? job.Meta?.loki_version;
  const names = (job.TaskGroups ?? []).map((group) => group.Name);
  // The groups in no wave (the caches) roll with the first wave; the Loki groups tell the upgrade.
  const inWaves = wavesOfComponents(names).flatMap((wave) => wave.components);
  if (new Set(inWaves.map(versionOf)).size < 2) return {};
  const to = versionOf(inWaves[0]!);
  const rolled = inWaves.filter((name) => versionOf(name) === to).at(-1);
  // Its allocations all of the current job version, none failing, and healthy if that version replaced any.
  const rolledOut = (component: string, status: ComponentStatus) =>
    status.updated === status.desired &&
    !status.notReady.some((problem) => problem.failing) &&
    (status.ready === status.desired ||
      !allocations.some(
        (a) => a.TaskGroup === component && a.DesiredStatus === 'run' && (a.CreateTime ?? 0) >= (job.SubmitTime ?? 0),
      ));
  const upgrade = upgradeInWaves(
    names,
    inWaves.flatMap((component) => {
      const status = components[component];
      if (!status) return [];
      const failing = status.notReady.some((problem) => problem.failing);
      return [
        {
          component,
          version: versionOf(component),
          settled: component === rolled ? rolledOut(component, status) : !failing,
          updated: status.updated,
          desired: status.desired,
        },
      ];
    }),
  );
  return upgrade ? { upgrade } : {};
}

/** The Loki config template of a live job (every Loki task has the same one). */
export function lokiConfigTemplateOf(job: NomadJob): string | undefined {
  const tasks = (job.TaskGroups ?? []).flatMap((group) => group.Tasks ?? []);
  const templates = tasks.flatMap((task) => task.Templates ?? []);
  return templates.find((template) => template.DestPath === TASK_PATHS.configFile)?.EmbeddedTmpl;
}

function groupStatus(
  job: NomadJob,
  desired: number,
  allocations: AllocationStub[],
  history: AllocationStub[],
  placement: AllocationMetric | undefined,
  groupId: string,
): ComponentStatus {
  const pods: Record<PodState, number> = { Ready: 0, Running: 0, Pending: 0, Failed: 0, Unknown: 0 };
  const notReady: PodProblem[] = [];
  for (const allocation of allocations) {
    const problem = withRescheduleHistory(allocationProblem(allocation), allocation, history);
    pods[problem?.state ?? 'Ready']++;
    if (problem) notReady.push(problem);
  }
  if (placement && allocations.length < desired) {
    notReady.push({
      name: groupId,
      state: 'Pending',
      reason: 'Unplaceable',
      message: placementMessage(placement, desired - allocations.length),
      restarts: 0,
      failing: true,
    });
  }
  notReady.sort((a, b) => a.name.localeCompare(b.name));
  const ready = pods.Ready;
  const updated = allocations.filter((a) => a.JobVersion === (job.Version ?? 0)).length;
  return {
    kind: 'TaskGroup',
    desired,
    ready,
    updated,
    current: updated === desired && ready === desired && allocations.length === desired,
    pods,
    notReady,
  };
}

/** Why an allocation is not ready (running and healthy), or undefined when it is. */
export function allocationProblem(allocation: AllocationStub): PodProblem | undefined {
  const healthy = allocation.DeploymentStatus?.Healthy;
  if (allocation.ClientStatus === 'running' && healthy === true) return undefined;
  const tasks = Object.entries(allocation.TaskStates ?? {});
  const restarts = tasks.reduce((sum, [, task]) => sum + (task.Restarts ?? 0), 0);
  const base = { name: allocation.Name, restarts };
  const failedTask = tasks.find(([, task]) => task.Failed);
  const event = lastTelling(tasks);
  if (allocation.ClientStatus === 'failed' || allocation.ClientStatus === 'lost' || failedTask) {
    return {
      ...base,
      state: 'Failed',
      reason: event?.reason ?? (allocation.ClientStatus === 'lost' ? 'Lost' : 'Failed'),
      message: event?.message ?? allocation.ClientDescription,
      ...(event ? { container: event.task } : {}),
      failing: true,
    };
  }
  if (healthy === false) {
    return {
      ...base,
      state: 'Failed',
      reason: 'Unhealthy',
      message: event?.message ?? 'the /ready check did not pass before the healthy deadline',
      failing: true,
    };
  }
  const crashing =
    restarts > 0 && event !== undefined && (event.reason === 'Terminated' || event.reason === 'Restarting');
  const state: PodState =
    allocation.ClientStatus === 'running' ? 'Running' : allocation.ClientStatus === 'pending' ? 'Pending' : 'Unknown';
  if (crashing)
    return {
      ...base,
      state: 'Failed',
      reason: 'CrashLoop',
      message: event.message,
      container: event.task,
      failing: true,
    };
  return {
    ...base,
    state,
    reason: state === 'Running' ? 'NotHealthyYet' : (event?.reason ?? allocation.ClientStatus),
    ...(state === 'Running'
      ? { message: 'running; waiting for the /ready check' }
      : event?.message
        ? { message: event.message }
        : {}),
    failing: false,
  };
}

/**
 * A replacement for a failed allocation that is not ready yet is failing too (the analogue of a pod in
 * CrashLoopBackOff): it says why its predecessor failed and how many times Nomad has rescheduled.
 */
function withRescheduleHistory(
  problem: PodProblem | undefined,
  allocation: AllocationStub,
  history: AllocationStub[],
): PodProblem | undefined {
  const reschedules = allocation.RescheduleTracker?.Events?.length ?? 0;
  if (!problem || problem.failing || reschedules === 0) return problem;
  const previous = history.find((a) => a.NextAllocation === allocation.ID);
  const cause = previous && allocationProblem(previous);
  const why = cause ? `${cause.reason ?? 'failed'}${cause.message ? `: ${cause.message}` : ''}` : 'failed';
  return {
    ...problem,
    reason: 'Rescheduled',
    message: `rescheduled ${reschedules} time${reschedules === 1 ? '' : 's'} after failures; the last one ${why}`,
    failing: true,
  };
}

const ROUTINE_EVENTS = new Set(['Received', 'Task Setup', 'Started', 'Alloc Unhealthy']);
/** What Nomad did about a failure, rather than the failure: told after the cause. */
const CONSEQUENCE_EVENTS = new Set(['Restarting', 'Not Restarting', 'Killing', 'Killed']);

/**
 * The most recent event that tells what is wrong or going on, across the allocation's tasks: the cause
 * (a driver failure, a non-zero exit) with Nomad's consequence appended ("Exceeded allowed attempts…").
 */
function lastTelling(tasks: [string, TaskState][]): { task: string; reason: string; message?: string } | undefined {
  const events = tasks.flatMap(([task, state]) => (state.Events ?? []).map((event) => ({ task, event })));
  events.sort((a, b) => (a.event.Time ?? 0) - (b.event.Time ?? 0));
  const latest = [...events].reverse();
  const telling =
    latest.find(({ event }) => !ROUTINE_EVENTS.has(event.Type) && !CONSEQUENCE_EVENTS.has(event.Type)) ??
    latest.find(({ event }) => !ROUTINE_EVENTS.has(event.Type)) ??
    latest[0];
  if (!telling) return undefined;
  const consequence = latest.find(
    ({ event }) =>
      CONSEQUENCE_EVENTS.has(event.Type) && (event.Time ?? 0) >= (telling.event.Time ?? 0) && event !== telling.event,
  );
  const message = [telling.event.DisplayMessage, consequence?.event.DisplayMessage].filter(Boolean).join('; ');
  return { task: telling.task, reason: telling.event.Type.replace(/\s+/g, ''), ...(message ? { message } : {}) };
}

function latestFailedPlacements(evaluations: Evaluation[]): Record<string, AllocationMetric> {
  const latest = [...evaluations]
    .sort((a, b) => (b.CreateIndex ?? 0) - (a.CreateIndex ?? 0))
    .find((e) => e.FailedTGAllocs && Object.keys(e.FailedTGAllocs).length > 0);
  return latest?.FailedTGAllocs ?? {};
}

/** Nomad's placement failure in a sentence: what ran out, or which constraints filtered the nodes out. */
export function placementMessage(metric: AllocationMetric, missing: number): string {
  const parts = [
    ...Object.entries(metric.DimensionExhausted ?? {}).map(
      ([dimension, nodes]) => `${dimension} exhausted on ${nodes} node${nodes === 1 ? '' : 's'}`,
    ),
    ...Object.entries(metric.ConstraintFiltered ?? {}).map(
      ([constraint, nodes]) => `constraint ${constraint} filtered ${nodes} node${nodes === 1 ? '' : 's'}`,
    ),
  ];
  return `${missing} allocation${missing === 1 ? '' : 's'} not placed: ${parts.length > 0 ? parts.join('; ') : `no node fits (${metric.NodesEvaluated ?? 0} evaluated)`}`;
}
