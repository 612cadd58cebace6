// The deployment watcher: counts placed, healthy and unhealthy allocations per group, declares the
// deployment successful when every group has its healthy total (marking the job version stable), and
// fails it as Nomad does: on the first unhealthy allocation when the group has no progress deadline,
// otherwise when the deadline passes without progress; with auto_revert it then rolls back to the
// latest stable version.
import type { Cluster } from './cluster.js';
import { specOf } from './canonicalize.js';
import { clone, sameJson, type Json } from './json.js';
import { DEPLOYMENT, isActiveDeployment, type Allocation, type Deployment } from './model.js';
import { goTime, parseGoTime, ZERO_TIME } from './time.js';

export class DeploymentWatcher {
  constructor(private readonly cluster: Cluster) {}

  private get store() {
    return this.cluster.store;
  }

  /** An allocation joined the deployment (placed, or updated in place). */
  placed(deployment: Deployment, alloc: Allocation): void {
    const state = deployment.TaskGroups[alloc.TaskGroup];
    if (!state) return;
    state.PlacedAllocs++;
    // The first placement starts the progress deadline.
    if (state.ProgressDeadline > 0 && state.RequireProgressBy === ZERO_TIME)
      this.requireProgressBy(deployment, alloc.TaskGroup, Date.now());
    this.store.saveDeployment(deployment);
  }

  /** The client set the allocation's health. */
  health(alloc: Allocation, healthy: boolean): void {
    const deployment = this.store.deployments.get(alloc.DeploymentID);
    const state = deployment?.TaskGroups[alloc.TaskGroup];
    if (!deployment || !state || !isActiveDeployment(deployment)) return;
    if (healthy) {
      state.HealthyAllocs++;
      if (state.ProgressDeadline > 0) this.requireProgressBy(deployment, alloc.TaskGroup, Date.now());
    } else {
      state.UnhealthyAllocs++;
    }
    this.store.saveDeployment(deployment);
    if (!healthy && state.ProgressDeadline === 0)
      return this.fail(deployment, alloc.TaskGroup, DEPLOYMENT.failedAllocations);
    if (Object.values(deployment.TaskGroups).every((group) => group.HealthyAllocs >= group.DesiredTotal))
      return this.succeed(deployment);
    this.evaluate(deployment);
  }

  cancel(deployment: Deployment, description: string): void {
    this.conclude(deployment, 'cancelled', description);
  }

  private requireProgressBy(deployment: Deployment, group: string, fromMs: number): void {
    const state = deployment.TaskGroups[group]!;
    const deadline = fromMs + this.cluster.settings.progressDeadlineMs;
    if (deadline <= parseGoTime(state.RequireProgressBy)) return;
    state.RequireProgressBy = goTime(deadline);
    this.cluster.timers.after(
      deadline - Date.now() + 1,
      () => this.checkProgress(deployment.ID, group),
      `deployment:${deployment.ID}`,
    );
  }

  private checkProgress(id: string, group: string): void {
    this.store.write(() => {
      const deployment = this.store.deployments.get(id);
      const state = deployment?.TaskGroups[group];
      if (!deployment || !state || !isActiveDeployment(deployment)) return;
      if (state.HealthyAllocs >= state.DesiredTotal || Date.now() < parseGoTime(state.RequireProgressBy)) return;
      this.fail(deployment, group, DEPLOYMENT.progressDeadline);
    });
  }

  private succeed(deployment: Deployment): void {
    this.conclude(deployment, 'successful', DEPLOYMENT.successful);
    const record = this.store.job(deployment.Namespace, deployment.JobID);
    if (!record || record.job.CreateIndex !== deployment.JobCreateIndex) return;
    for (const job of [record.job, ...record.versions]) {
      if (job.Version === deployment.JobVersion) {
        job.Stable = true;
        job.ModifyIndex = this.store.index;
      }
    }
    this.store.touch('jobs');
    this.store.touch('job_version');
  }

  private fail(deployment: Deployment, group: string, reason: string): void {
    let description: string = reason;
    let rollback: Json | undefined;
    const record = this.store.job(deployment.Namespace, deployment.JobID);
    if (deployment.TaskGroups[group]?.AutoRevert && record) {
      const stable = record.versions
        .filter((job) => job.Stable && job.Version !== deployment.JobVersion)
        .sort((a, b) => b.Version - a.Version)[0];
      if (!stable) description = `${reason} - no stable job version to auto revert to`;
      else if (sameJson(specOf(stable), specOf(record.job))) {
        description = `${reason} - not rolling back to stable job version ${stable.Version} as current job has same specification`;
      } else {
        description = `${reason} - rolling back to job version ${stable.Version}`;
        rollback = stable;
      }
    }
    this.conclude(deployment, 'failed', description);
    if (rollback) this.cluster.jobs.register(clone(rollback), 'deployment-watcher');
    else this.evaluate(deployment);
  }

  private conclude(deployment: Deployment, status: Deployment['Status'], description: string): void {
    deployment.Status = status;
    deployment.StatusDescription = description;
    this.store.saveDeployment(deployment);
    this.cluster.timers.cancel(`deployment:${deployment.ID}`);
  }

  /** The watcher asks for an evaluation so the scheduler can go on (the next batch, replacements). */
  private evaluate(deployment: Deployment): void {
    const record = this.store.job(deployment.Namespace, deployment.JobID);
    if (!record) return;
    const pending = this.store
      .evalsOf(deployment.Namespace, deployment.JobID)
      .some((evaluation) => evaluation.Status === 'pending' && evaluation.TriggeredBy === 'deployment-watcher');
    if (!pending) this.cluster.scheduler.createEval(record.job, 'deployment-watcher', { DeploymentID: deployment.ID });
  }
}
