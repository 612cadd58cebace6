// Registering and deregistering jobs, as Nomad's Job.Register and Job.Deregister write them: a changed
// job becomes a new version (an identical one does not), stopping a job is a new version with Stop set,
// purging removes it; each write comes with an evaluation for the scheduler.
import { specOf } from './canonicalize.js';
import type { Cluster } from './cluster.js';
import { clone, sameJson, type Json } from './json.js';
import type { Evaluation } from './model.js';
import { jobKey, type JobRecord } from './store.js';
import { nowNs } from './time.js';

/** Nomad keeps this many versions of a job. */
const TRACKED_VERSIONS = 6;

export interface JobWrite {
  evaluation: Evaluation;
  index: number;
  jobModifyIndex: number;
}

export class Jobs {
  constructor(private readonly cluster: Cluster) {}

  private get store() {
    return this.cluster.store;
  }

  /** `job` as the server stores it (see toStoredJob); its server fields are set here. */
  register(job: Json, triggeredBy = 'job-register'): JobWrite {
    return this.store.write((index) => {
      const record = this.store.job(job.Namespace, job.ID);
      const existing = record?.job;
      let current = existing;
      if (!existing || !sameJson(specOf(existing), specOf(job))) {
        current = {
          ...clone(job),
          Status: 'pending',
          StatusDescription: '',
          Stable: false,
          Version: existing ? existing.Version + 1 : 0,
          SubmitTime: nowNs(),
          CreateIndex: existing?.CreateIndex ?? index,
          ModifyIndex: index,
          JobModifyIndex: index,
        };
        this.save(record, current!, index);
      }
      const evaluation = this.cluster.scheduler.createEval(current!, triggeredBy);
      return { evaluation, index, jobModifyIndex: current!.JobModifyIndex };
    });
  }

  /** Undefined when there is no such job. */
  deregister(namespace: string, id: string, purge: boolean): JobWrite | undefined {
    return this.store.write((index) => {
      const record = this.store.job(namespace, id);
      if (!record) return undefined;
      if (purge) {
        this.store.jobs.delete(jobKey(namespace, id));
        for (const table of ['jobs', 'job_summary', 'job_version'] as const) this.store.touch(table);
      } else {
        this.save(
          record,
          {
            ...clone(record.job),
            Stop: true,
            Stable: false,
            Version: record.job.Version + 1,
            SubmitTime: nowNs(),
            ModifyIndex: index,
            JobModifyIndex: index,
          },
          index,
        );
      }
      const evaluation = this.cluster.scheduler.createEval(
        { ...record.job, Type: 'service', JobModifyIndex: index },
        'job-deregister',
      );
      return { evaluation, index, jobModifyIndex: index };
    });
  }

  private save(record: JobRecord | undefined, job: Json, index: number): void {
    if (record) {
      record.job = job;
      record.versions = [...record.versions, clone(job)].slice(-TRACKED_VERSIONS);
    } else {
      this.store.jobs.set(jobKey(job.Namespace, job.ID), {
        job,
        versions: [clone(job)],
        queued: {},
        summaryCreateIndex: index,
        summaryModifyIndex: index,
        summaryText: '',
      });
      this.store.touch('job_summary');
    }
    this.store.touch('jobs');
    this.store.touch('job_version');
  }
}
