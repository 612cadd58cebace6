// What the API sends of the state: allocation stubs and allocations, job list stubs, namespaces, in
// the shapes and orders Nomad's endpoints answer with.
import type { Json } from './json.js';
import type { Allocation } from './model.js';

/** Nomad lists evaluations, allocations and deployments of a job in its state store's order: by ID. */
export const byId = <T extends { ID: string }>(items: T[]): T[] =>
  [...items].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));

export function allocStub(alloc: Allocation): Json {
  return {
    ID: alloc.ID,
    EvalID: alloc.EvalID,
    Name: alloc.Name,
    Namespace: alloc.Namespace,
    NodeID: alloc.NodeID,
    NodeName: alloc.NodeName,
    JobID: alloc.JobID,
    JobType: alloc.JobType,
    JobVersion: alloc.JobVersion,
    TaskGroup: alloc.TaskGroup,
    DesiredStatus: alloc.DesiredStatus,
    DesiredDescription: alloc.DesiredDescription,
    ClientStatus: alloc.ClientStatus,
    ClientDescription: alloc.ClientDescription,
    DesiredTransition: alloc.DesiredTransition,
    TaskStates: alloc.TaskStates,
    DeploymentStatus: alloc.DeploymentStatus,
    FollowupEvalID: alloc.FollowupEvalID,
    NextAllocation: alloc.NextAllocation,
    RescheduleTracker: alloc.RescheduleTracker,
    PreemptedAllocations: null,
    PreemptedByAllocation: '',
    CreateIndex: alloc.CreateIndex,
    ModifyIndex: alloc.ModifyIndex,
    CreateTime: alloc.CreateTime,
    ModifyTime: alloc.ModifyTime,
  };
}

/** GET /v1/allocation/:id: the stub's fields, the job version it runs and the deployment it belongs to. */
export function allocation(alloc: Allocation): Json {
  return {
    ...allocStub(alloc),
    Job: alloc.job,
    AllocatedResources: alloc.AllocatedResources,
    DeploymentID: alloc.DeploymentID,
    PreviousAllocation: alloc.PreviousAllocation,
    AllocModifyIndex: alloc.AllocModifyIndex,
  };
}

export function jobStub(job: Json, summary: Json, withMeta: boolean): Json {
  return {
    ID: job.ID,
    ParentID: job.ParentID,
    Name: job.Name,
    Namespace: job.Namespace,
    Datacenters: job.Datacenters,
    NodePool: job.NodePool,
    Multiregion: null,
    Type: job.Type,
    Priority: job.Priority,
    Periodic: Boolean(job.Periodic),
    ParameterizedJob: Boolean(job.ParameterizedJob),
    Stop: job.Stop,
    Status: job.Status,
    StatusDescription: job.StatusDescription,
    JobSummary: summary,
    CreateIndex: job.CreateIndex,
    ModifyIndex: job.ModifyIndex,
    JobModifyIndex: job.JobModifyIndex,
    SubmitTime: job.SubmitTime,
    ...(withMeta ? { Meta: job.Meta } : {}),
  };
}

export function namespace(name: string): Json {
  return {
    Name: name,
    Description: name === 'default' ? 'Default shared namespace' : '',
    Quota: '',
    Capabilities: null,
    NodePoolConfiguration: null,
    VaultConfiguration: null,
    ConsulConfiguration: null,
    Meta: null,
    CreateIndex: 1,
    ModifyIndex: 1,
  };
}
