// A dry run of the scheduler, as Nomad's Job.Plan does it: what registering the job would do to each group's
// allocations (DesiredTGUpdates), what could not be placed (FailedTGAllocs) and, with Diff, how the job
// differs from the one Nomad has. Nothing is stored, no evaluation is created, no index moves.
import { specOf } from './canonicalize.js';
import type { Cluster } from './cluster.js';
import { annotate, jobDiff, type DesiredUpdates, type JobDiff } from './diff.js';
import { sameJson, type Json } from './json.js';
import { isLiveIn, type AllocMetric, type Allocation } from './model.js';
import { ZERO_TIME } from './time.js';
import { tasksUpdated } from './updates.js';

export interface JobPlanResponse {
  JobModifyIndex: number;
  CreatedEvals: null;
  Diff: JobDiff | null;
  Annotations: { DesiredTGUpdates: Record<string, DesiredUpdates>; PreemptedAllocs: null };
  FailedTGAllocs: Record<string, AllocMetric> | null;
  NextPeriodicLaunch: string;
  Warnings: string;
  Index: number;
}

const none = (): DesiredUpdates => ({
  Ignore: 0,
  Place: 0,
  Migrate: 0,
  Stop: 0,
  InPlaceUpdate: 0,
  DestructiveUpdate: 0,
  Canary: 0,
  Preemptions: 0,
});

/** `job` as the server would store it (toStoredJob); the plan of registering it now. */
export function planJob(cluster: Cluster, job: Json, withDiff: boolean): JobPlanResponse {
  const existing = cluster.store.job(job.Namespace, job.ID)?.job;
  const allocs = existing && !existing.Stop ? cluster.store.instanceAllocs(existing) : [];
  const desired: Record<string, DesiredUpdates> = {};
  const failed: Record<string, AllocMetric> = {};
  const placeable = (group: string) =>
    cluster.behaviourOf(job.Namespace, job.ID, group) !== 'unplaceable' && cluster.nodesFor(job).length > 0;

  for (const group of job.TaskGroups as Json[]) {
    const updates = (desired[group.Name] = none());
    const live = allocs
      .filter(isLiveIn(group.Name))
      .sort((a, b) => b.nameIndex - a.nameIndex || b.CreateIndex - a.CreateIndex);
    const slots = new Map<number, Allocation>();
    for (const alloc of live) {
      if (alloc.nameIndex >= group.Count || slots.has(alloc.nameIndex)) updates.Stop++;
      else slots.set(alloc.nameIndex, alloc);
    }
    let destructive = 0;
    for (const alloc of slots.values()) {
      if (sameJson(specOf(alloc.job), specOf(job))) updates.Ignore++;
      else if (alloc.ClientStatus !== 'failed' && !tasksUpdated(alloc.job, job, group.Name)) updates.InPlaceUpdate++;
      else destructive++;
    }
    // The first evaluation replaces max_parallel allocations of a group that has a deployment; the
    // others wait for the deployment and count as ignored in this plan (reconcile.go).
    const maxParallel: number = group.Update?.MaxParallel ?? 0;
    const deployed = job.Type === 'service' && group.Update && group.Count > 0 && maxParallel > 0;
    updates.DestructiveUpdate = deployed ? Math.min(destructive, maxParallel) : destructive;
    updates.Ignore += destructive - updates.DestructiveUpdate;
    updates.Place = Math.max(0, group.Count - slots.size);
    const unplaced = updates.Place + updates.DestructiveUpdate;
    if (unplaced > 0 && !placeable(group.Name)) failed[group.Name] = cluster.scheduler.failureMetric(job, unplaced);
  }
  const groups = new Set((job.TaskGroups as Json[]).map((group) => group.Name as string));
  for (const alloc of allocs) {
    if (groups.has(alloc.TaskGroup) || alloc.DesiredStatus !== 'run' || alloc.ClientStatus === 'complete') continue;
    (desired[alloc.TaskGroup] ??= none()).Stop++;
  }

  const index = existing?.JobModifyIndex ?? 0;
  return {
    JobModifyIndex: index,
    CreatedEvals: null,
    Diff: withDiff ? annotate(jobDiff(existing, job), desired) : null,
    Annotations: { DesiredTGUpdates: desired, PreemptedAllocs: null },
    FailedTGAllocs: Object.keys(failed).length > 0 ? failed : null,
    NextPeriodicLaunch: ZERO_TIME,
    Warnings: '',
    Index: index,
  };
}
