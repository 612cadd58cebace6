// The client nodes: they run each placed allocation's tasks through Nomad's task events (Received, Task
// Setup, Driver, Started…), report its health to the deployment and stop it when the scheduler says so.
// What happens is the group's behaviour at each step, so a behaviour set later applies to allocations
// already running where it makes sense (a crash, health that comes or never does).
import type { Cluster } from './cluster.js';
import { formatGoDuration } from './duration.js';
import type { Json } from './json.js';
import { isClientTerminal, type Allocation, type GroupBehaviour, type TaskEvent, type TaskState } from './model.js';
import { goTime, nowNs, ZERO_TIME } from './time.js';

/** Nomad keeps the last ten events of a task. */
const MAX_EVENTS = 10;

function event(Type: string, fields: Partial<TaskEvent> = {}): TaskEvent {
  return {
    Type,
    Time: nowNs(),
    Message: '',
    DisplayMessage: '',
    Details: {},
    FailsTask: false,
    RestartReason: '',
    SetupError: '',
    DriverError: '',
    ExitCode: 0,
    Signal: 0,
    KillTimeout: 0,
    KillError: '',
    KillReason: '',
    StartDelay: 0,
    DownloadError: '',
    ValidationError: '',
    DiskLimit: 0,
    FailedSibling: '',
    VaultError: '',
    TaskSignalReason: '',
    TaskSignal: '',
    DriverMessage: '',
    GenericSource: '',
    ...fields,
  };
}

function record(state: TaskState, ...events: TaskEvent[]): void {
  state.Events.push(...events);
  state.Events.splice(0, Math.max(0, state.Events.length - MAX_EVENTS));
}

/** The allocation's client status from its tasks, as Nomad's alloc runner derives it. */
function clientStatus(alloc: Allocation): Pick<Allocation, 'ClientStatus' | 'ClientDescription'> {
  const states = Object.values(alloc.TaskStates ?? {});
  if (states.some((state) => state.State === 'dead' && state.Failed))
    return { ClientStatus: 'failed', ClientDescription: 'Failed tasks' };
  if (states.some((state) => state.State === 'running'))
    return { ClientStatus: 'running', ClientDescription: 'Tasks are running' };
  if (states.some((state) => state.State === 'pending'))
    return { ClientStatus: 'pending', ClientDescription: 'No tasks have started' };
  return { ClientStatus: 'complete', ClientDescription: 'All tasks have completed' };
}

export class SimulatedClient {
  constructor(private readonly cluster: Cluster) {}

  private get store() {
    return this.cluster.store;
  }

  private get settings() {
    return this.cluster.settings;
  }

  private tasksOf(alloc: Allocation): Json[] {
    return (alloc.job.TaskGroups as Json[]).find((group) => group.Name === alloc.TaskGroup)?.Tasks ?? [];
  }

  /** A crashing task runs this long before it exits. */
  private get crashAfterMs(): number {
    return Math.min(this.settings.runDelayMs, this.settings.healthyDelayMs) / 2;
  }

  /** Run `step` on the allocation in a write of its own, later, unless the allocation was stopped meanwhile. */
  private later(alloc: Allocation, ms: number, step: (alloc: Allocation) => void, owner = alloc.ID): void {
    this.cluster.timers.after(
      ms,
      () =>
        this.store.write(() => {
          const current = this.store.allocs.get(alloc.ID);
          if (current && current.DesiredStatus === 'run' && !isClientTerminal(current)) step(current);
        }),
      owner,
    );
  }

  start(alloc: Allocation): void {
    alloc.TaskStates = Object.fromEntries(
      this.tasksOf(alloc).map((task) => {
        const state: TaskState = {
          State: 'pending',
          Failed: false,
          Restarts: 0,
          LastRestart: ZERO_TIME,
          StartedAt: ZERO_TIME,
          FinishedAt: ZERO_TIME,
          Events: [],
          TaskHandle: null,
        };
        record(
          state,
          event('Received', { DisplayMessage: 'Task received by client' }),
          event('Task Setup', { Message: 'Building Task Directory', DisplayMessage: 'Building Task Directory' }),
        );
        if (task.Driver === 'docker') {
          record(
            state,
            event('Driver', {
              DriverMessage: 'Downloading image',
              DisplayMessage: 'Downloading image',
              Details: { image: String(task.Config?.image ?? '') },
            }),
          );
        }
        return [task.Name as string, state];
      }),
    );
    Object.assign(alloc, clientStatus(alloc));
    this.store.saveAlloc(alloc);
    this.later(alloc, this.settings.runDelayMs, (current) => this.run(current));
    if (alloc.DeploymentID) this.watchHealth(alloc);
  }

  /** The allocation was updated in place into a new deployment: its health is judged again. */
  joinedDeployment(alloc: Allocation): void {
    this.cluster.timers.cancel(`${alloc.ID}:health`);
    this.watchHealth(alloc);
    if (alloc.ClientStatus === 'running') this.awaitHealthy(alloc);
  }

  /** The health deadline: an allocation not healthy by then is unhealthy. */
  private watchHealth(alloc: Allocation): void {
    this.later(
      alloc,
      this.settings.healthyDeadlineMs,
      (current) => this.setHealth(current, false),
      `${alloc.ID}:health`,
    );
  }

  private awaitHealthy(alloc: Allocation): void {
    this.later(
      alloc,
      this.settings.healthyDelayMs,
      (current) => {
        if (current.ClientStatus === 'running' && this.cluster.allocBehaviour(current) === 'healthy')
          this.setHealth(current, true);
      },
      `${alloc.ID}:health`,
    );
  }

  private setHealth(alloc: Allocation, healthy: boolean): void {
    if (!alloc.DeploymentID || (alloc.DeploymentStatus && alloc.DeploymentStatus.Healthy !== null)) return;
    alloc.DeploymentStatus = {
      Healthy: healthy,
      Timestamp: goTime(Date.now()),
      Canary: false,
      ModifyIndex: this.store.index,
    };
    this.cluster.timers.cancel(`${alloc.ID}:health`);
    this.store.saveAlloc(alloc);
    this.cluster.watcher.health(alloc, healthy);
  }

  private run(alloc: Allocation): void {
    const behaviour = this.cluster.allocBehaviour(alloc);
    for (const task of this.tasksOf(alloc)) {
      const state = alloc.TaskStates![task.Name]!;
      if (behaviour === 'image-pull') {
        const image = String(task.Config?.image ?? task.Name);
        const error = `Failed to pull \`${image}\`: Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown`;
        record(
          state,
          event('Driver Failure', { DriverError: error, DisplayMessage: error, Details: { driver_error: error } }),
          event('Not Restarting', {
            RestartReason: 'Error was unrecoverable',
            FailsTask: true,
            DisplayMessage: 'Error was unrecoverable',
            Details: { restart_reason: 'Error was unrecoverable', fails_task: 'true' },
          }),
        );
        Object.assign(state, { State: 'dead', Failed: true, FinishedAt: goTime(Date.now()) });
      } else {
        this.started(state);
      }
    }
    this.update(alloc);
    if (alloc.ClientStatus !== 'running') return;
    if (behaviour === 'crash') this.later(alloc, this.crashAfterMs, (current) => this.crash(current));
    else this.awaitHealthy(alloc);
  }

  private started(state: TaskState): void {
    record(state, event('Started', { DisplayMessage: 'Task started by client' }));
    Object.assign(state, { State: 'running', StartedAt: goTime(Date.now()) });
  }

  /** The tasks exit with code 1; the restart policy restarts them until its attempts are used up. */
  private crash(alloc: Allocation): void {
    if (this.cluster.allocBehaviour(alloc) !== 'crash') return;
    const policy: Json =
      (alloc.job.TaskGroups as Json[]).find((group) => group.Name === alloc.TaskGroup)?.RestartPolicy ?? {};
    const delay: number = policy.Delay ?? 15e9;
    let restarting = false;
    for (const task of this.tasksOf(alloc)) {
      const state = alloc.TaskStates![task.Name]!;
      if (state.State !== 'running') continue;
      const exitMessage =
        task.Driver === 'docker' ? 'Docker container exited with non-zero exit code: 1' : 'exit status 1';
      record(
        state,
        event('Terminated', {
          ExitCode: 1,
          Message: exitMessage,
          DisplayMessage: `Exit Code: 1, Exit Message: ${JSON.stringify(exitMessage)}`,
          Details: { exit_code: '1', signal: '0', oom_killed: 'false', exit_message: exitMessage },
        }),
      );
      if (state.Restarts < this.settings.maxRestarts) {
        record(
          state,
          event('Restarting', {
            RestartReason: 'Restart within policy',
            StartDelay: delay,
            DisplayMessage: `Task restarting in ${formatGoDuration(delay)}`,
            Details: { restart_reason: 'Restart within policy', start_delay: String(delay) },
          }),
        );
        Object.assign(state, { State: 'pending', Restarts: state.Restarts + 1, LastRestart: goTime(Date.now()) });
        restarting = true;
      } else {
        const reason = `Exceeded allowed attempts ${this.settings.maxRestarts} in interval ${formatGoDuration(policy.Interval ?? 30 * 60e9)} and mode is ${JSON.stringify(policy.Mode ?? 'fail')}`;
        record(
          state,
          event('Not Restarting', {
            RestartReason: reason,
            FailsTask: true,
            DisplayMessage: reason,
            Details: { restart_reason: reason, fails_task: 'true' },
          }),
        );
        Object.assign(state, { State: 'dead', Failed: true, FinishedAt: goTime(Date.now()) });
      }
    }
    this.update(alloc);
    if (restarting && alloc.ClientStatus !== 'failed')
      this.later(alloc, this.settings.runDelayMs, (current) => this.restart(current));
  }

  private restart(alloc: Allocation): void {
    for (const state of Object.values(alloc.TaskStates ?? {})) if (state.State === 'pending') this.started(state);
    this.update(alloc);
    if (this.cluster.allocBehaviour(alloc) === 'crash')
      this.later(alloc, this.crashAfterMs, (current) => this.crash(current));
    else this.awaitHealthy(alloc);
  }

  /** Saves the allocation with the status its tasks give it; a failed one is unhealthy and evaluated again. */
  private update(alloc: Allocation): void {
    Object.assign(alloc, clientStatus(alloc));
    this.store.saveAlloc(alloc);
    if (alloc.ClientStatus !== 'failed') return;
    this.cluster.timers.cancel(alloc.ID);
    this.setHealth(alloc, false);
    this.cluster.scheduler.allocFailed(alloc);
  }

  /** The scheduler stopped the allocation: its tasks are killed, and it completes (a failed one stays failed). */
  stop(alloc: Allocation): void {
    this.cluster.timers.cancel(alloc.ID);
    this.cluster.timers.cancel(`${alloc.ID}:health`);
    if (isClientTerminal(alloc) || !alloc.TaskStates) return;
    for (const [name, state] of Object.entries(alloc.TaskStates)) {
      if (state.State === 'dead') continue;
      const killTimeout: number = this.tasksOf(alloc).find((task) => task.Name === name)?.KillTimeout ?? 5e9;
      record(
        state,
        event('Killing', {
          KillTimeout: killTimeout,
          DisplayMessage: `Sent interrupt. Waiting ${formatGoDuration(killTimeout)} before force killing`,
          Details: { kill_timeout: formatGoDuration(killTimeout) },
        }),
      );
    }
    this.cluster.timers.after(Math.min(this.settings.runDelayMs, 20), () =>
      this.store.write(() => {
        const current = this.store.allocs.get(alloc.ID);
        if (!current || isClientTerminal(current)) return;
        for (const state of Object.values(current.TaskStates ?? {})) {
          if (state.State === 'dead') continue;
          record(state, event('Killed', { DisplayMessage: 'Task successfully killed' }));
          Object.assign(state, { State: 'dead', FinishedAt: goTime(Date.now()) });
        }
        Object.assign(current, clientStatus(current));
        this.store.saveAlloc(current);
      }),
    );
  }

  /** A behaviour set on a running group reaches its allocations at once where it changes what happens next. */
  behaviourChanged(namespace: string, jobId: string, group: string, mode: GroupBehaviour): void {
    for (const alloc of this.store.allocsOf(namespace, jobId)) {
      if (alloc.TaskGroup !== group || alloc.DesiredStatus !== 'run' || alloc.ClientStatus !== 'running') continue;
      if (mode === 'crash') this.later(alloc, this.crashAfterMs, (current) => this.crash(current));
      if (mode === 'healthy' && alloc.DeploymentID && alloc.DeploymentStatus?.Healthy == null) this.awaitHealthy(alloc);
    }
  }
}
