// The simulated cluster behind the HTTP API: the state store, the scheduler that turns evaluations into
// allocations, the client nodes that run them, the deployment watcher, and the failure each job group
// is told to show.
import { randomUUID } from 'node:crypto';
import { SimulatedClient } from './client.js';
import { DeploymentWatcher } from './deployments.js';
import { Jobs } from './jobs.js';
import type { Json } from './json.js';
import type { Allocation, ClientNode, GroupBehaviour } from './model.js';
import { Scheduler } from './scheduler.js';
import { Store } from './store.js';
import { Variables } from './variables.js';
import { Timers } from './timers.js';

export interface ClusterSettings {
  /** The agent's region: jobs for "global" land here; requests for another region fail as Nomad's do. */
  region: string;
  namespaces: string[];
  /** From placement to the tasks running (also the simulated restart delay). */
  runDelayMs: number;
  /** From running to healthy: the update block's min_healthy_time. */
  healthyDelayMs: number;
  /** From placement to unhealthy when health never comes: stands in for the update block's healthy_deadline. */
  healthyDeadlineMs: number;
  /** Stands in for a non-zero progress_deadline (a zero one keeps its meaning: fail on the first unhealthy allocation). */
  progressDeadlineMs: number;
  /** First delay before a failed allocation is replaced: stands in for the reschedule policy's delay (it still grows as the policy says). */
  rescheduleDelayMs: number;
  maxRestarts: number;
  /** From an evaluation's creation to the scheduler processing it. */
  evalDelayMs: number;
  nodes: ClientNode[];
}

export class Cluster {
  readonly store = new Store();
  readonly timers = new Timers();
  readonly scheduler = new Scheduler(this);
  readonly client = new SimulatedClient(this);
  readonly watcher = new DeploymentWatcher(this);
  readonly jobs = new Jobs(this);
  readonly variables = new Variables(this.store);
  /** Keys `namespace/job/group` (set by setGroupBehaviour) or `job/group` (any namespace, from the options). */
  private readonly behaviours = new Map<string, GroupBehaviour>();

  constructor(readonly settings: ClusterSettings) {}

  static nodes(count: number, datacenter: string): ClientNode[] {
    return Array.from({ length: count }, (_, index) => ({
      ID: randomUUID(),
      Name: `nomad-client-${index + 1}`,
      Datacenter: datacenter,
      Address: `10.0.0.${index + 1}`,
    }));
  }

  behaviourOf(namespace: string, jobId: string, group: string): GroupBehaviour {
    return (
      this.behaviours.get(`${namespace}/${jobId}/${group}`) ?? this.behaviours.get(`${jobId}/${group}`) ?? 'healthy'
    );
  }

  allocBehaviour(alloc: Allocation): GroupBehaviour {
    return this.behaviourOf(alloc.Namespace, alloc.JobID, alloc.TaskGroup);
  }

  /** `namespace` undefined: the behaviour applies to the job and group in every namespace. */
  setBehaviour(jobId: string, group: string, mode: GroupBehaviour, namespace?: string): void {
    this.behaviours.set(namespace === undefined ? `${jobId}/${group}` : `${namespace}/${jobId}/${group}`, mode);
    if (namespace === undefined) return;
    this.store.write(() => this.client.behaviourChanged(namespace, jobId, group, mode));
    if (mode !== 'unplaceable') this.scheduler.unblock(namespace, jobId);
  }

  /** The nodes in the job's datacenters (globs such as "dc*" and "*" included). */
  nodesFor(job: Json): ClientNode[] {
    const patterns: string[] = job.Datacenters ?? ['*'];
    const matches = (datacenter: string) =>
      patterns.some((pattern) =>
        new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(datacenter),
      );
    return this.settings.nodes.filter((node) => matches(node.Datacenter));
  }

  close(): void {
    this.timers.close();
  }
}
