// The state store: one Raft-like index that every write advances, the index of each table a write
// touched (blocking queries answer with these, as Nomad's do), and the derived job status and summary
// that Nomad's state store keeps up to date in the same transaction.
import type { Json } from './json.js';
import { canonicalJson } from './json.js';
import {
  isActiveDeployment,
  isTerminalAlloc,
  isTerminalEval,
  type Allocation,
  type Deployment,
  type Evaluation,
} from './model.js';
import { nowNs } from './time.js';

export type Table = 'jobs' | 'job_summary' | 'job_version' | 'evals' | 'allocs' | 'deployment' | 'variables';

export interface JobRecord {
  /** The current version, with the server's fields. */
  job: Json;
  /** Every version registered, oldest first. */
  versions: Json[];
  /** Queued allocations per group, from the latest evaluation that counted them. */
  queued: Record<string, number>;
  summaryCreateIndex: number;
  summaryModifyIndex: number;
  summaryText: string;
}

export const jobKey = (namespace: string, id: string) => `${namespace}\u0000${id}`;

export class Store {
  /** The last index written. */
  index = 1;
  private readonly tables = new Map<Table, number>();
  readonly jobs = new Map<string, JobRecord>();
  readonly allocs = new Map<string, Allocation>();
  readonly evals = new Map<string, Evaluation>();
  readonly deployments = new Map<string, Deployment>();
  private depth = 0;
  private readonly waiters = new Set<() => void>();

  /** Run `change` as one write: one new index, however many objects it touches (nested writes join it). */
  write<T>(change: (index: number) => T): T {
    if (this.depth === 0) this.index++;
    this.depth++;
    try {
      return change(this.index);
    } finally {
      this.depth--;
      if (this.depth === 0) {
        this.refreshJobs();
        for (const wake of [...this.waiters]) wake();
      }
    }
  }

  touch(table: Table): number {
    this.tables.set(table, this.index);
    return this.index;
  }

  tableIndex(...tables: Table[]): number {
    return Math.max(1, ...tables.map((table) => this.tables.get(table) ?? 0));
  }

  saveAlloc(alloc: Allocation): void {
    alloc.ModifyIndex = this.touch('allocs');
    alloc.ModifyTime = nowNs();
    this.allocs.set(alloc.ID, alloc);
  }

  saveEval(evaluation: Evaluation): void {
    evaluation.ModifyIndex = this.touch('evals');
    evaluation.ModifyTime = nowNs();
    this.evals.set(evaluation.ID, evaluation);
  }

  saveDeployment(deployment: Deployment): void {
    deployment.ModifyIndex = this.touch('deployment');
    deployment.ModifyTime = nowNs();
    this.deployments.set(deployment.ID, deployment);
  }

  /** Resolves true on the next write, false when `ms` pass or `signal` aborts first. */
  waitForChange(ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (changed: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal.removeEventListener('abort', abort);
        resolve(changed);
      };
      const wake = () => done(true);
      const abort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.waiters.add(wake);
      signal.addEventListener('abort', abort);
    });
  }

  job(namespace: string, id: string): JobRecord | undefined {
    return this.jobs.get(jobKey(namespace, id));
  }

  allocsOf(namespace: string, jobId: string): Allocation[] {
    return [...this.allocs.values()].filter((alloc) => alloc.Namespace === namespace && alloc.JobID === jobId);
  }

  /** Allocations of the job's current instance: a job purged and registered again does not own its predecessor's. */
  instanceAllocs(job: Json): Allocation[] {
    return this.allocsOf(job.Namespace, job.ID).filter((alloc) => alloc.job.CreateIndex === job.CreateIndex);
  }

  evalsOf(namespace: string, jobId: string): Evaluation[] {
    return [...this.evals.values()].filter(
      (evaluation) => evaluation.Namespace === namespace && evaluation.JobID === jobId,
    );
  }

  deploymentsOf(namespace: string, jobId: string): Deployment[] {
    return [...this.deployments.values()].filter(
      (deployment) => deployment.Namespace === namespace && deployment.JobID === jobId,
    );
  }

  latestDeployment(namespace: string, jobId: string): Deployment | undefined {
    return this.deploymentsOf(namespace, jobId).sort((a, b) => b.CreateIndex - a.CreateIndex)[0];
  }

  summaryOf(record: JobRecord): Json {
    const { job } = record;
    const groups = new Set<string>((job.TaskGroups ?? []).map((group: Json) => group.Name as string));
    const allocs = this.instanceAllocs(job);
    for (const alloc of allocs) groups.add(alloc.TaskGroup);
    const summary: Json = {};
    for (const group of [...groups].sort()) {
      const of = allocs.filter((alloc) => alloc.TaskGroup === group);
      const count = (status: string) => of.filter((alloc) => alloc.ClientStatus === status).length;
      summary[group] = {
        Queued: record.queued[group] ?? 0,
        Complete: count('complete'),
        Failed: count('failed'),
        Running: count('running'),
        Starting: count('pending'),
        Lost: count('lost'),
        Unknown: 0,
      };
    }
    return {
      JobID: job.ID,
      Namespace: job.Namespace,
      Summary: summary,
      Children: { Pending: 0, Running: 0, Dead: 0 },
      CreateIndex: record.summaryCreateIndex,
      ModifyIndex: record.summaryModifyIndex,
    };
  }

  /** Nomad's getJobStatus. */
  private statusOf(job: Json): string {
    if (job.Type === 'system' || job.Periodic || job.ParameterizedJob) return job.Stop ? 'dead' : 'running';
    const allocs = this.instanceAllocs(job);
    if (allocs.some((alloc) => !isTerminalAlloc(alloc))) return 'running';
    const evals = this.evalsOf(job.Namespace, job.ID);
    if (evals.some((evaluation) => !isTerminalEval(evaluation))) return 'pending';
    return evals.length > 0 || allocs.length > 0 ? 'dead' : 'pending';
  }

  /** Job status and summary follow the allocations and evaluations written in the same transaction. */
  private refreshJobs(): void {
    for (const record of this.jobs.values()) {
      const status = this.statusOf(record.job);
      if (status !== record.job.Status) {
        record.job.Status = status;
        record.job.ModifyIndex = this.index;
        this.tables.set('jobs', this.index);
      }
      const { CreateIndex: _create, ModifyIndex: _modify, ...counts } = this.summaryOf(record);
      const text = canonicalJson(counts);
      if (text !== record.summaryText) {
        record.summaryText = text;
        record.summaryModifyIndex = this.index;
        this.tables.set('job_summary', this.index);
      }
    }
  }

  activeDeployments(namespace: string, jobId: string): Deployment[] {
    return this.deploymentsOf(namespace, jobId).filter(isActiveDeployment);
  }
}
