// The state behind the API, in Nomad's field names: allocations, evaluations and deployments as its
// structs serialise them. Fields in lowerCamelCase are the double's own bookkeeping and never leave it.
import type { Json } from './json.js';

export type GroupBehaviour = 'healthy' | 'unhealthy' | 'crash' | 'unplaceable' | 'image-pull';
export const GROUP_BEHAVIOURS: readonly GroupBehaviour[] = [
  'healthy',
  'unhealthy',
  'crash',
  'unplaceable',
  'image-pull',
];

export type ClientStatus = 'pending' | 'running' | 'complete' | 'failed' | 'lost';

export interface TaskEvent {
  Type: string;
  Time: number;
  Message: string;
  DisplayMessage: string;
  Details: Record<string, string>;
  FailsTask: boolean;
  RestartReason: string;
  SetupError: string;
  DriverError: string;
  ExitCode: number;
  Signal: number;
  KillTimeout: number;
  KillError: string;
  KillReason: string;
  StartDelay: number;
  DownloadError: string;
  ValidationError: string;
  DiskLimit: number;
  FailedSibling: string;
  VaultError: string;
  TaskSignalReason: string;
  TaskSignal: string;
  DriverMessage: string;
  GenericSource: string;
}

export interface TaskState {
  State: 'pending' | 'running' | 'dead';
  Failed: boolean;
  Restarts: number;
  LastRestart: string;
  StartedAt: string;
  FinishedAt: string;
  Events: TaskEvent[];
  TaskHandle: null;
}

export interface AllocDeploymentStatus {
  Healthy: boolean | null;
  Timestamp: string;
  Canary: boolean;
  ModifyIndex: number;
}

export interface RescheduleEvent {
  RescheduleTime: number;
  PrevAllocID: string;
  PrevNodeID: string;
  Delay: number;
}

export interface Allocation {
  ID: string;
  Namespace: string;
  EvalID: string;
  Name: string;
  NodeID: string;
  NodeName: string;
  JobID: string;
  JobType: string;
  JobVersion: number;
  TaskGroup: string;
  DesiredStatus: 'run' | 'stop';
  DesiredDescription: string;
  DesiredTransition: {
    Migrate: boolean | null;
    Reschedule: boolean | null;
    ForceReschedule: boolean | null;
    NoShutdownDelay: boolean | null;
  };
  ClientStatus: ClientStatus;
  ClientDescription: string;
  TaskStates: Record<string, TaskState> | null;
  DeploymentID: string;
  DeploymentStatus: AllocDeploymentStatus | null;
  FollowupEvalID: string;
  NextAllocation: string;
  PreviousAllocation: string;
  RescheduleTracker: { Events: RescheduleEvent[] } | null;
  CreateIndex: number;
  ModifyIndex: number;
  AllocModifyIndex: number;
  CreateTime: number;
  ModifyTime: number;
  /** The ports the node gave the group's network (Nomad's AllocatedResources.Shared). */
  AllocatedResources: { Shared: { Ports: { Label: string; Value: number; To: number; HostIP: string }[] } };
  /** The N of `job.group[N]`. */
  nameIndex: number;
  /** The job version the allocation runs (a stored job document). */
  job: Json;
}

/** The scheduler's report on a group it could not place (structs.AllocMetric). */
export interface AllocMetric {
  NodesEvaluated: number;
  NodesFiltered: number;
  NodesInPool: number;
  NodePool: string;
  NodesAvailable: Record<string, number>;
  ClassFiltered: Record<string, number> | null;
  ConstraintFiltered: Record<string, number> | null;
  NodesExhausted: number;
  ClassExhausted: Record<string, number> | null;
  DimensionExhausted: Record<string, number> | null;
  QuotaExhausted: string[] | null;
  ResourcesExhausted: Record<string, Json> | null;
  ScoreMetaData: null;
  AllocationTime: number;
  CoalescedFailures: number;
}

export type EvalStatus = 'pending' | 'blocked' | 'complete' | 'failed' | 'canceled';

export interface Evaluation {
  ID: string;
  Namespace: string;
  Priority: number;
  Type: string;
  TriggeredBy: string;
  JobID: string;
  JobModifyIndex: number;
  NodeID: string;
  NodeModifyIndex: number;
  DeploymentID: string;
  Status: EvalStatus;
  StatusDescription: string;
  Wait: number;
  WaitUntil: string;
  NextEval: string;
  PreviousEval: string;
  BlockedEval: string;
  RelatedEvals: null;
  FailedTGAllocs: Record<string, AllocMetric> | null;
  ClassEligibility: Record<string, boolean> | null;
  QuotaLimitReached: string;
  EscapedComputedClass: boolean;
  AnnotatePlan: boolean;
  QueuedAllocations: Record<string, number> | null;
  LeaderACL: string;
  SnapshotIndex: number;
  CreateIndex: number;
  ModifyIndex: number;
  CreateTime: number;
  ModifyTime: number;
}

export type DeploymentStatusName = 'running' | 'paused' | 'successful' | 'failed' | 'cancelled';

export interface DeploymentState {
  AutoRevert: boolean;
  AutoPromote: boolean;
  ProgressDeadline: number;
  RequireProgressBy: string;
  Promoted: boolean;
  PlacedCanaries: string[] | null;
  DesiredCanaries: number;
  DesiredTotal: number;
  PlacedAllocs: number;
  HealthyAllocs: number;
  UnhealthyAllocs: number;
}

export interface Deployment {
  ID: string;
  Namespace: string;
  JobID: string;
  JobVersion: number;
  JobModifyIndex: number;
  JobSpecModifyIndex: number;
  JobCreateIndex: number;
  IsMultiregion: boolean;
  TaskGroups: Record<string, DeploymentState>;
  Status: DeploymentStatusName;
  StatusDescription: string;
  EvalPriority: number;
  CreateIndex: number;
  ModifyIndex: number;
  CreateTime: number;
  ModifyTime: number;
}

export interface ClientNode {
  ID: string;
  Name: string;
  Datacenter: string;
  /** The node's address: HostIP of the ports it allocates. */
  Address: string;
}

/** Deployment status descriptions, as structs words them. */
export const DEPLOYMENT = {
  running: 'Deployment is running',
  successful: 'Deployment completed successfully',
  stoppedJob: 'Cancelled because job is stopped',
  newerJob: 'Cancelled due to newer version of job',
  failedAllocations: 'Failed due to unhealthy allocations',
  progressDeadline: 'Failed due to progress deadline',
} as const;

/** Why the scheduler stops an allocation (the reconciler's DesiredDescription). */
export const STOP_REASON = {
  notNeeded: 'alloc not needed due to job update',
  updating: 'alloc is being updated due to job update',
  rescheduled: 'alloc was rescheduled because it failed',
} as const;

export const isTerminalEval = (evaluation: Evaluation) => !['pending', 'blocked'].includes(evaluation.Status);
/** The group's allocations the scheduler counts as its current ones: meant to run, and not complete or lost. */
export const isLiveIn = (group: string) => (alloc: Allocation) =>
  alloc.TaskGroup === group &&
  alloc.DesiredStatus === 'run' &&
  alloc.ClientStatus !== 'complete' &&
  alloc.ClientStatus !== 'lost';

export const isClientTerminal = (alloc: Allocation) => ['complete', 'failed', 'lost'].includes(alloc.ClientStatus);
/** Nomad's TerminalStatus: stopped by the server, or finished on the client. */
export const isTerminalAlloc = (alloc: Allocation) => alloc.DesiredStatus !== 'run' || isClientTerminal(alloc);
export const isActiveDeployment = (deployment: Deployment) =>
  deployment.Status === 'running' || deployment.Status === 'paused';
