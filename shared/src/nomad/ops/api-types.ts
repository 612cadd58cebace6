// The parts of Nomad's API objects we read (field names as Nomad sends them).

export interface NomadJob {
  ID: string;
  Namespace?: string;
  Version?: number;
  Status?: string;
  Stop?: boolean;
  SubmitTime?: number;
  Meta?: Record<string, string> | null;
  TaskGroups?: {
    Name: string;
    Count?: number;
    /** The job's meta repeated (render/common.ts jobMeta), loki_version included. */
    Meta?: Record<string, string> | null;
    Tasks?: { Name?: string; Templates?: { DestPath?: string; EmbeddedTmpl?: string }[] | null }[] | null;
  }[];
}

export interface TaskEvent {
  Type: string;
  Time?: number;
  DisplayMessage?: string;
  ExitCode?: number;
}

export interface TaskState {
  State: string;
  Failed?: boolean;
  Restarts?: number;
  Events?: TaskEvent[] | null;
}

export interface AllocationStub {
  ID: string;
  Name: string;
  TaskGroup: string;
  JobVersion: number;
  DesiredStatus: string;
  ClientStatus: string;
  ClientDescription?: string;
  DeploymentStatus?: { Healthy?: boolean | null } | null;
  TaskStates?: Record<string, TaskState> | null;
  CreateTime?: number;
  /** Set once Nomad has placed a replacement for this (failed) allocation. */
  NextAllocation?: string;
  RescheduleTracker?: { Events?: unknown[] | null } | null;
}

export interface Allocation extends AllocationStub {
  AllocatedResources?: { Shared?: { Ports?: { Label: string; Value: number; HostIP: string }[] | null } | null } | null;
}

export interface Deployment {
  ID: string;
  JobVersion: number;
  Status: string;
  StatusDescription?: string;
  CreateIndex?: number;
  ModifyIndex?: number;
}

export interface Evaluation {
  ID: string;
  CreateIndex?: number;
  FailedTGAllocs?: Record<string, AllocationMetric> | null;
}

export interface AllocationMetric {
  NodesEvaluated?: number;
  NodesFiltered?: number;
  NodesExhausted?: number;
  ConstraintFiltered?: Record<string, number> | null;
  DimensionExhausted?: Record<string, number> | null;
  /** Further allocations of the group that failed the same way. */
  CoalescedFailures?: number;
}
