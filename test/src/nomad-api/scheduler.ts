// The service scheduler, reduced to what a deployment shows: each evaluation reconciles every group of
// the job with its allocations. It stops surplus allocations (highest index first), updates in place
// the ones whose tasks did not change (updates.ts, Nomad's tasksUpdated), replaces the others at most
// max_parallel at a time while the deployment waits for them to get healthy, places what is missing,
// replaces failed allocations after the reschedule delay, and reports what it could not place in the
// evaluation (FailedTGAllocs, a blocked evaluation, queued allocations in the job summary).
import { randomUUID } from 'node:crypto';
import type { Cluster } from './cluster.js';
import { clone, type Json } from './json.js';
import {
  DEPLOYMENT,
  STOP_REASON,
  isActiveDeployment,
  isClientTerminal,
  isLiveIn,
  isTerminalEval,
  type AllocMetric,
  type Allocation,
  type Deployment,
  type Evaluation,
} from './model.js';
import { goTime, nowNs, ZERO_TIME } from './time.js';
import { tasksUpdated } from './updates.js';

export class Scheduler {
  constructor(private readonly cluster: Cluster) {}

  private get store() {
    return this.cluster.store;
  }

  /** A new evaluation of the job, processed after the scheduler's delay unless it waits for something. */
  createEval(job: Json, triggeredBy: string, fields: Partial<Evaluation> = {}): Evaluation {
    return this.store.write((index) => {
      const now = nowNs();
      const evaluation: Evaluation = {
        ID: randomUUID(),
        Namespace: job.Namespace,
        Priority: job.Priority ?? 50,
        Type: job.Type ?? 'service',
        TriggeredBy: triggeredBy,
        JobID: job.ID,
        JobModifyIndex: job.JobModifyIndex ?? 0,
        NodeID: '',
        NodeModifyIndex: 0,
        DeploymentID: '',
        Status: 'pending',
        StatusDescription: '',
        Wait: 0,
        WaitUntil: ZERO_TIME,
        NextEval: '',
        PreviousEval: '',
        BlockedEval: '',
        RelatedEvals: null,
        FailedTGAllocs: null,
        ClassEligibility: null,
        QuotaLimitReached: '',
        EscapedComputedClass: false,
        AnnotatePlan: false,
        QueuedAllocations: null,
        LeaderACL: '',
        SnapshotIndex: 0,
        CreateIndex: index,
        ModifyIndex: index,
        CreateTime: now,
        ModifyTime: now,
        ...fields,
      };
      this.store.saveEval(evaluation);
      if (evaluation.Status === 'pending' && evaluation.WaitUntil === ZERO_TIME) {
        this.cluster.timers.after(this.cluster.settings.evalDelayMs, () => this.process(evaluation.ID));
      }
      return evaluation;
    });
  }

  /** A client reported a failed allocation: Nomad evaluates the job again (and reschedules it later). */
  allocFailed(alloc: Allocation): void {
    const record = this.store.job(alloc.Namespace, alloc.JobID);
    if (alloc.DesiredStatus === 'run' && record && !record.job.Stop) this.createEval(record.job, 'alloc-failure');
  }

  /** Capacity changed (a group's behaviour no longer refuses placement): blocked evaluations run again. */
  unblock(namespace: string, jobId: string): void {
    for (const evaluation of this.store.evalsOf(namespace, jobId)) {
      if (evaluation.Status === 'blocked')
        this.cluster.timers.after(this.cluster.settings.evalDelayMs, () => this.process(evaluation.ID));
    }
  }

  process(id: string): void {
    const evaluation = this.store.evals.get(id);
    if (!evaluation || (isTerminalEval(evaluation) && evaluation.Status !== 'blocked')) return;
    this.store.write((index) => {
      evaluation.SnapshotIndex = index;
      const record = this.store.job(evaluation.Namespace, evaluation.JobID);
      if (!record || record.job.Stop) return this.stopJob(evaluation);
      const { job } = record;
      const deployment = this.deploymentFor(job, evaluation);
      const failures: Record<string, AllocMetric> = {};
      const queued: Record<string, number> = {};
      for (const group of job.TaskGroups as Json[]) {
        const unplaced = this.reconcileGroup(job, group, deployment, evaluation);
        queued[group.Name] = unplaced;
        if (unplaced > 0) failures[group.Name] = this.failureMetric(job, unplaced);
      }
      const groups = new Set((job.TaskGroups as Json[]).map((group) => group.Name as string));
      for (const alloc of this.store.allocsOf(job.Namespace, job.ID)) {
        if (alloc.DesiredStatus === 'run' && !groups.has(alloc.TaskGroup)) this.stop(alloc, STOP_REASON.notNeeded);
      }
      record.queued = { ...record.queued, ...queued };
      evaluation.QueuedAllocations = queued;
      evaluation.DeploymentID = deployment?.ID ?? '';
      this.conclude(evaluation, failures);
    });
  }

  /** The job is stopped or purged: every allocation stops, its deployment is cancelled. */
  private stopJob(evaluation: Evaluation): void {
    for (const alloc of this.store.allocsOf(evaluation.Namespace, evaluation.JobID)) {
      if (alloc.DesiredStatus === 'run') this.stop(alloc, STOP_REASON.notNeeded);
    }
    for (const deployment of this.store.activeDeployments(evaluation.Namespace, evaluation.JobID)) {
      this.cluster.watcher.cancel(deployment, DEPLOYMENT.stoppedJob);
    }
    const record = this.store.job(evaluation.Namespace, evaluation.JobID);
    if (record) record.queued = Object.fromEntries(Object.keys(record.queued).map((group) => [group, 0]));
    evaluation.QueuedAllocations = {};
    this.conclude(evaluation, {});
  }

  private conclude(evaluation: Evaluation, failures: Record<string, AllocMetric>): void {
    const blocked = this.store
      .evalsOf(evaluation.Namespace, evaluation.JobID)
      .filter((other) => other.Status === 'blocked' && other.ID !== evaluation.ID);
    if (Object.keys(failures).length === 0) {
      evaluation.FailedTGAllocs = null;
      evaluation.Status = 'complete';
      for (const other of blocked) {
        other.Status = 'canceled';
        this.store.saveEval(other);
      }
    } else if (evaluation.Status === 'blocked') {
      evaluation.FailedTGAllocs = failures;
    } else {
      evaluation.FailedTGAllocs = failures;
      evaluation.Status = 'complete';
      // One blocked evaluation per job waits for capacity (Nomad cancels the duplicates).
      const waiting =
        blocked[0] ??
        this.createEval(
          this.store.job(evaluation.Namespace, evaluation.JobID)?.job ?? {
            Namespace: evaluation.Namespace,
            ID: evaluation.JobID,
          },
          'queued-allocs',
          {
            Status: 'blocked',
            StatusDescription: 'created to place remaining allocations',
            PreviousEval: evaluation.ID,
            ClassEligibility: {},
          },
        );
      waiting.FailedTGAllocs = failures;
      waiting.QueuedAllocations = evaluation.QueuedAllocations;
      this.store.saveEval(waiting);
      evaluation.BlockedEval = waiting.ID;
    }
    this.store.saveEval(evaluation);
  }

  /** The deployment of the job's current version: the existing one, or a new one (older ones are cancelled). */
  private deploymentFor(job: Json, evaluation: Evaluation): Deployment | undefined {
    const latest = this.store.latestDeployment(job.Namespace, job.ID);
    const current =
      latest && latest.JobVersion === job.Version && latest.JobCreateIndex === job.CreateIndex ? latest : undefined;
    for (const deployment of this.store.activeDeployments(job.Namespace, job.ID)) {
      if (deployment !== current) this.cluster.watcher.cancel(deployment, DEPLOYMENT.newerJob);
    }
    if (current || job.Type !== 'service') return current;
    const groups = (job.TaskGroups as Json[]).filter((group) => group.Update && group.Count > 0);
    if (groups.length === 0) return undefined;
    const now = nowNs();
    const deployment: Deployment = {
      ID: randomUUID(),
      Namespace: job.Namespace,
      JobID: job.ID,
      JobVersion: job.Version,
      JobModifyIndex: job.JobModifyIndex,
      JobSpecModifyIndex: job.JobModifyIndex,
      JobCreateIndex: job.CreateIndex,
      IsMultiregion: false,
      TaskGroups: Object.fromEntries(
        groups.map((group) => [
          group.Name,
          {
            AutoRevert: group.Update.AutoRevert,
            AutoPromote: group.Update.AutoPromote,
            ProgressDeadline: group.Update.ProgressDeadline,
            RequireProgressBy: ZERO_TIME,
            Promoted: false,
            PlacedCanaries: null,
            DesiredCanaries: 0,
            DesiredTotal: group.Count,
            PlacedAllocs: 0,
            HealthyAllocs: 0,
            UnhealthyAllocs: 0,
          },
        ]),
      ),
      Status: 'running',
      StatusDescription: DEPLOYMENT.running,
      EvalPriority: evaluation.Priority,
      CreateIndex: this.store.index,
      ModifyIndex: this.store.index,
      CreateTime: now,
      ModifyTime: now,
    };
    this.store.saveDeployment(deployment);
    return deployment;
  }

  /** Returns how many allocations of the group could not be placed. */
  private reconcileGroup(job: Json, group: Json, deployment: Deployment | undefined, evaluation: Evaluation): number {
    const placeable =
      this.cluster.behaviourOf(job.Namespace, job.ID, group.Name) !== 'unplaceable' &&
      this.cluster.nodesFor(job).length > 0;
    const active = deployment && isActiveDeployment(deployment) ? deployment : undefined;
    let unplaced = 0;
    const live = this.store
      .allocsOf(job.Namespace, job.ID)
      .filter(isLiveIn(group.Name))
      .sort((a, b) => a.nameIndex - b.nameIndex || a.CreateIndex - b.CreateIndex);
    const slots = new Map<number, Allocation>();
    for (const alloc of live.reverse()) {
      if (alloc.nameIndex >= group.Count || slots.has(alloc.nameIndex)) this.stop(alloc, STOP_REASON.notNeeded);
      else slots.set(alloc.nameIndex, alloc);
    }

    for (const alloc of [...slots.values()].filter((a) => a.ClientStatus === 'failed')) {
      const followup = this.store.evals.get(alloc.FollowupEvalID);
      if (!followup) {
        this.rescheduleLater(alloc, evaluation);
      } else if (followup === evaluation || isTerminalEval(followup)) {
        if (!placeable) {
          unplaced++;
          continue;
        }
        this.stop(alloc, STOP_REASON.rescheduled);
        slots.set(alloc.nameIndex, this.place(job, group, alloc.nameIndex, evaluation, active, alloc));
      }
    }

    const maxParallel: number = group.Update?.MaxParallel ?? 0;
    let limit =
      !deployment || maxParallel === 0
        ? Infinity
        : active
          ? Math.max(0, maxParallel - this.inFlight(active, group.Name))
          : 0;
    for (const alloc of [...slots.values()].sort((a, b) => a.nameIndex - b.nameIndex)) {
      if (alloc.JobVersion === job.Version && alloc.job.CreateIndex === job.CreateIndex) continue;
      if (alloc.ClientStatus !== 'failed' && updatesInPlace(alloc.job, job, group.Name)) {
        this.updateInPlace(alloc, job, active, evaluation);
      } else if (!placeable) {
        unplaced++;
      } else if (limit > 0) {
        limit--;
        this.stop(alloc, STOP_REASON.updating);
        slots.set(alloc.nameIndex, this.place(job, group, alloc.nameIndex, evaluation, active));
      }
    }

    for (let index = 0; index < group.Count; index++) {
      if (slots.has(index)) continue;
      if (placeable) this.place(job, group, index, evaluation, active);
      else unplaced++;
    }
    return unplaced;
  }

  /** Allocations of the deployment not yet healthy: max_parallel bounds them. */
  private inFlight(deployment: Deployment, group: string): number {
    return this.store
      .allocsOf(deployment.Namespace, deployment.JobID)
      .filter(
        (alloc) =>
          alloc.DeploymentID === deployment.ID &&
          alloc.TaskGroup === group &&
          alloc.DesiredStatus === 'run' &&
          !isClientTerminal(alloc) &&
          alloc.DeploymentStatus?.Healthy !== true,
      ).length;
  }

  private place(
    job: Json,
    group: Json,
    nameIndex: number,
    evaluation: Evaluation,
    deployment: Deployment | undefined,
    previous?: Allocation,
  ): Allocation {
    const node = this.pickNode(job, group.Name);
    const now = nowNs();
    const index = this.store.index;
    const alloc: Allocation = {
      ID: randomUUID(),
      Namespace: job.Namespace,
      EvalID: evaluation.ID,
      Name: `${job.ID}.${group.Name}[${nameIndex}]`,
      NodeID: node.ID,
      NodeName: node.Name,
      JobID: job.ID,
      JobType: job.Type,
      JobVersion: job.Version,
      TaskGroup: group.Name,
      DesiredStatus: 'run',
      DesiredDescription: '',
      DesiredTransition: { Migrate: null, Reschedule: null, ForceReschedule: null, NoShutdownDelay: null },
      ClientStatus: 'pending',
      ClientDescription: '',
      TaskStates: null,
      DeploymentID: deployment?.ID ?? '',
      DeploymentStatus: null,
      FollowupEvalID: '',
      NextAllocation: '',
      PreviousAllocation: previous?.ID ?? '',
      RescheduleTracker: previous
        ? {
            Events: [
              ...(previous.RescheduleTracker?.Events ?? []),
              {
                RescheduleTime: now,
                PrevAllocID: previous.ID,
                PrevNodeID: previous.NodeID,
                Delay: this.rescheduleDelayMs(previous) * 1e6,
              },
            ],
          }
        : null,
      CreateIndex: index,
      ModifyIndex: index,
      AllocModifyIndex: index,
      CreateTime: now,
      ModifyTime: now,
      AllocatedResources: { Shared: { Ports: this.allocatePorts(group, node) } },
      nameIndex,
      job: clone(job),
    };
    if (previous) {
      previous.NextAllocation = alloc.ID;
      this.store.saveAlloc(previous);
    }
    this.store.saveAlloc(alloc);
    if (deployment) this.cluster.watcher.placed(deployment, alloc);
    this.cluster.client.start(alloc);
    return alloc;
  }

  /** Dynamic ports from Nomad's default range (20000-32000) and reserved ones as asked, on the node's address. */
  private allocatePorts(
    group: Json,
    node: { Address: string },
  ): { Label: string; Value: number; To: number; HostIP: string }[] {
    const networks = (group.Networks ?? []) as {
      DynamicPorts?: { Label: string; To?: number }[] | null;
      ReservedPorts?: { Label: string; Value: number; To?: number }[] | null;
    }[];
    return networks.flatMap((network) => [
      ...(network.ReservedPorts ?? []).map((port) => ({
        Label: port.Label,
        Value: port.Value,
        To: port.To ?? 0,
        HostIP: node.Address,
      })),
      ...(network.DynamicPorts ?? []).map((port) => ({
        Label: port.Label,
        Value: 20000 + (this.nextPort++ % 12000),
        To: port.To ?? 0,
        HostIP: node.Address,
      })),
    ]);
  }

  private nextPort = 0;

  /** The node with the fewest allocations of the group, then of the job: replicas spread over the nodes. */
  private pickNode(job: Json, group: string) {
    const live = this.store.allocsOf(job.Namespace, job.ID).filter((alloc) => alloc.DesiredStatus === 'run');
    const load = (nodeId: string, of: Allocation[]) => of.filter((alloc) => alloc.NodeID === nodeId).length;
    const nodes = this.cluster.nodesFor(job);
    return nodes.reduce((best, node) => {
      const mine = live.filter((alloc) => alloc.TaskGroup === group);
      const score = load(node.ID, mine) * 1000 + load(node.ID, live);
      const bestScore = load(best.ID, mine) * 1000 + load(best.ID, live);
      return score < bestScore ? node : best;
    }, nodes[0]!);
  }

  stop(alloc: Allocation, reason: string): void {
    alloc.DesiredStatus = 'stop';
    alloc.DesiredDescription = reason;
    alloc.AllocModifyIndex = this.store.index;
    this.store.saveAlloc(alloc);
    this.cluster.client.stop(alloc);
  }

  private updateInPlace(
    alloc: Allocation,
    job: Json,
    deployment: Deployment | undefined,
    evaluation: Evaluation,
  ): void {
    alloc.JobVersion = job.Version;
    alloc.job = clone(job);
    alloc.EvalID = evaluation.ID;
    alloc.AllocModifyIndex = this.store.index;
    const joins = deployment && alloc.DeploymentID !== deployment.ID;
    if (joins) {
      alloc.DeploymentID = deployment.ID;
      alloc.DeploymentStatus = null;
    }
    this.store.saveAlloc(alloc);
    if (joins) {
      this.cluster.watcher.placed(deployment, alloc);
      this.cluster.client.joinedDeployment(alloc);
    }
  }

  /** The reschedule policy's delay for the allocation's next replacement, scaled to the double's time. */
  private rescheduleDelayMs(alloc: Allocation): number {
    const policy: Json | undefined = (alloc.job.TaskGroups as Json[]).find(
      (group) => group.Name === alloc.TaskGroup,
    )?.ReschedulePolicy;
    const base = this.cluster.settings.rescheduleDelayMs;
    const attempt = alloc.RescheduleTracker?.Events.length ?? 0;
    const factor =
      policy?.DelayFunction === 'exponential'
        ? 2 ** attempt
        : policy?.DelayFunction === 'fibonacci'
          ? fibonacci(attempt + 1)
          : 1;
    const cap = policy?.MaxDelay && policy.Delay ? (base * policy.MaxDelay) / policy.Delay : Infinity;
    return Math.min(base * factor, cap);
  }

  /** A follow-up evaluation that replaces the failed allocation when its reschedule delay has passed. */
  private rescheduleLater(alloc: Allocation, evaluation: Evaluation): void {
    const policy: Json | undefined = (alloc.job.TaskGroups as Json[]).find(
      (group) => group.Name === alloc.TaskGroup,
    )?.ReschedulePolicy;
    const attempts = alloc.RescheduleTracker?.Events.length ?? 0;
    if (!policy || (!policy.Unlimited && attempts >= policy.Attempts)) return;
    const delay = this.rescheduleDelayMs(alloc);
    const record = this.store.job(alloc.Namespace, alloc.JobID)!;
    const followup = this.createEval(record.job, 'alloc-failure', {
      WaitUntil: goTime(Date.now() + delay),
      PreviousEval: evaluation.ID,
    });
    alloc.FollowupEvalID = followup.ID;
    this.store.saveAlloc(alloc);
    this.cluster.timers.after(delay, () => this.process(followup.ID));
  }

  /** What the evaluation reports for a group it could not place (also a plan's FailedTGAllocs). */
  failureMetric(job: Json, unplaced: number): AllocMetric {
    const nodes = this.cluster.nodesFor(job);
    const all = this.cluster.settings.nodes;
    const requested: string[] = (job.Datacenters as string[]).includes('*')
      ? [...new Set(all.map((node) => node.Datacenter))]
      : job.Datacenters;
    return {
      NodesEvaluated: nodes.length,
      NodesFiltered: 0,
      NodesInPool: all.length,
      NodePool: job.NodePool,
      NodesAvailable: Object.fromEntries(
        requested.map((datacenter) => [datacenter, nodes.filter((node) => node.Datacenter === datacenter).length]),
      ),
      ClassFiltered: null,
      ConstraintFiltered: null,
      NodesExhausted: nodes.length,
      ClassExhausted: null,
      DimensionExhausted: nodes.length > 0 ? { memory: nodes.length } : null,
      QuotaExhausted: null,
      ResourcesExhausted: null,
      ScoreMetaData: null,
      AllocationTime: 48_000,
      CoalescedFailures: unplaced - 1,
    };
  }
}

const fibonacci = (n: number): number => (n <= 2 ? 1 : fibonacci(n - 1) + fibonacci(n - 2));

/** Whether allocations of `before` can take `after` in place (Nomad's tasksUpdated, see updates.ts). */
export function updatesInPlace(before: Json, after: Json, groupName: string): boolean {
  return !tasksUpdated(before, after, groupName);
}
