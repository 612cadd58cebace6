// The kubelet of the one simulated node. For each pod bound to the node it mounts the pod's Secret volumes,
// runs the init containers in order, then starts the containers, and `readyAfterMs` after the pod started
// it is Running and Ready: conditions, container statuses, hostIP, podIP/podIPs (unique while the pod
// lives), startTime, and the Pulling/Pulled/Created/Started events. A Secret volume whose Secret (or item
// key) is missing keeps the pod Pending in ContainerCreating, with no IP and a FailedMount event, until the
// Secret appears; a container whose environment names a missing Secret or key waits in
// CreateContainerConfigError (secrets.ts). A mounted Secret volume keeps the files it had if its Secret is
// deleted, and follows the Secret's changes at once (a kubelet takes up to a minute). Injected failures make
// containers fail to pull, crash-loop or get OOM-killed (containers.ts). A pod being deleted has its
// containers stopped (Killing events) and is removed 50 ms later whatever its grace period, so tests stay
// fast. Not imitated: probes (readiness is the timer), resources, volumes other than Secret volumes,
// ConfigMap references, restart policies other than Always, pod phases Succeeded/Failed, the kubelet's
// mount retry back-off (a FailedMount event is recorded once per cause).
import { resourceByKind } from '../resources.js';
import { timestamp, type Change } from '../store.js';
import { workloadOf, writeStatus, type ClusterContext, type Controller } from './context.js';
import {
  applyFailure,
  containerStatus,
  hasCompleted,
  isWaitingToStart,
  newContainerRun,
  runStep,
  type ContainerRun,
  type StepEnvironment,
} from './containers.js';
import type { EventSource } from './events.js';
import { conditionOf, isDeleting, refTo, type Condition, type ObjectRef, type Pod, type PodStatus } from './objects.js';
import { environmentError, mountFailure, secretVolumeFiles, secretVolumes, usesSecret } from './secrets.js';

/** How long stopping a pod's containers takes. */
const STOP_MS = 50;

interface PodRun {
  namespace: string;
  name: string;
  startedAt: number;
  ipSuffix: number;
  /** Set once the first container step ran (the sandbox and its IP exist). */
  networked: boolean;
  containers: ContainerRun[];
  stopAt?: number;
  /** The Secret volumes' files once they are set up; until then, why they cannot be. */
  mounted?: Map<string, Record<string, Buffer>>;
  mountFailure?: string;
}

export class Kubelet implements Controller {
  readonly name = 'kubelet';
  private readonly runs = new Map<string, PodRun>();
  private readonly pulledImages = new Set<string>();
  private readonly source: EventSource;

  constructor(private readonly context: ClusterContext) {
    this.source = { manager: 'kubelet', component: 'kubelet', host: context.node.name };
  }

  watch(change: Change): ObjectRef[] {
    if (change.kind === 'Pod') return [refTo('Pod', change.object)];
    if (change.kind !== 'Secret') return [];
    const { namespace, name } = change.object.metadata;
    return [...this.runs.values()]
      .filter((run) => run.namespace === namespace)
      .map((run) => this.context.store.get('Pod', run.namespace, run.name) as Pod | undefined)
      .filter((pod): pod is Pod => !!pod && usesSecret(pod, name))
      .map((pod) => refTo('Pod', pod));
  }

  reconcile(ref: ObjectRef): number | undefined {
    const { store, node } = this.context;
    const pod = store.get('Pod', ref.namespace, ref.name) as Pod | undefined;
    for (const [uid, run] of this.runs)
      if (run.namespace === ref.namespace && run.name === ref.name && uid !== pod?.metadata.uid) this.runs.delete(uid);
    if (!pod || pod.spec.nodeName !== node.name) return undefined;
    const now = Date.now();
    if (isDeleting(pod)) return this.stop(pod, now);
    const run = this.runs.get(pod.metadata.uid ?? '');
    if (!run) {
      this.runs.set(pod.metadata.uid ?? '', this.newRun(pod, now));
      this.publish(pod, now);
      return 0;
    }
    if (!run.mounted) {
      const failure = mountFailure(store, pod);
      if (failure) {
        if (failure !== run.mountFailure)
          this.context.events.record(this.source, pod, { type: 'Warning', reason: 'FailedMount', message: failure });
        run.mountFailure = failure;
        return this.publish(pod, now);
      }
      run.mounted = new Map(
        secretVolumes(pod).map((volume) => [
          volume.name,
          secretVolumeFiles(volume, store.get('Secret', pod.metadata.namespace, volume.secret.secretName)),
        ]),
      );
      startNext(run, now);
    } else this.refreshSecretVolumes(pod, run);
    const environment = (container: ContainerRun) => this.environment(pod, container, now);
    for (const container of run.containers) applyFailure(container, environment(container));
    const due = run.containers.filter((container) => container.next && container.next.at <= now);
    for (const container of due) {
      run.networked = true;
      const events = runStep(container, environment(container));
      const kind = container.init ? 'initContainers' : 'containers';
      for (const event of events)
        this.context.events.record(this.source, pod, { ...event, fieldPath: `spec.${kind}{${container.spec.name}}` });
      if (container.init && hasCompleted(container)) startNext(run, now);
    }
    return this.publish(pod, now);
  }

  /** The log of a container's current or last instance, why there is none yet, or undefined if this kubelet does not run the pod. */
  log(uid: string, container: string): { lines: string[] } | { waiting: string } | undefined {
    const run = this.runs.get(uid)?.containers.find((candidate) => candidate.spec.name === container);
    if (!run) return undefined;
    if (run.containerID) return { lines: run.log };
    return { waiting: 'waiting' in run.state ? run.state.waiting.reason : 'ContainerCreating' };
  }

  /**
   * The files a pod's Secret volume shows its containers: the Secret's data as mounted, or undefined when
   * this kubelet has not mounted such a volume for the pod.
   */
  secretVolume(pod: Pod, volume: string): Record<string, Buffer> | undefined {
    const run = this.runs.get(pod.metadata.uid ?? '');
    if (run?.mounted) this.refreshSecretVolumes(pod, run);
    return run?.mounted?.get(volume);
  }

  private newRun(pod: Pod, now: number): PodRun {
    const inits = (pod.spec.initContainers ?? []).map((spec) => newContainerRun(spec, true, 'PodInitializing'));
    const mains = pod.spec.containers.map((spec) =>
      newContainerRun(spec, false, inits.length > 0 ? 'PodInitializing' : 'ContainerCreating'),
    );
    // Volumes are set up at the next reconcile, then the first containers start.
    return {
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name,
      startedAt: now,
      ipSuffix: this.freeIpSuffix(),
      networked: false,
      containers: [...inits, ...mains],
    };
  }

  /** A mounted Secret volume follows its Secret while it exists, and keeps its files when it is deleted. */
  private refreshSecretVolumes(pod: Pod, run: PodRun): void {
    for (const volume of secretVolumes(pod)) {
      const secret = this.context.store.get('Secret', pod.metadata.namespace, volume.secret.secretName);
      if (secret) run.mounted!.set(volume.name, secretVolumeFiles(volume, secret));
    }
  }

  private environment(pod: Pod, container: ContainerRun, now: number): StepEnvironment {
    const inits = pod.spec.initContainers?.length ?? 0;
    return {
      now,
      failure: this.context.failures.containerMode(pod, workloadOf(this.context.store, pod), container.spec),
      // Init containers and the containers' start-up share readyAfterMs, so a pod is Ready that long after it started.
      runMs: this.context.readyAfterMs() / (inits + 1),
      podLabel: `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
      configError: environmentError(this.context.store, pod.metadata.namespace ?? '', container.spec),
      imagePresent: (image) => this.pulledImages.has(image),
      imagePulled: (image) => this.pulledImages.add(image),
    };
  }

  private publish(pod: Pod, now: number): number | undefined {
    const run = this.runs.get(pod.metadata.uid ?? '')!;
    const ip = run.networked ? `${this.context.podIpPrefix}${run.ipSuffix}` : undefined;
    writeStatus(this.context.api, 'Pod', pod, podStatus(pod, run, this.context.node.ip, ip, now), 'kubelet');
    const next = Math.min(...run.containers.map((container) => container.next?.at ?? Infinity));
    return Number.isFinite(next) ? Math.max(0, next - now) : undefined;
  }

  /** Stop the containers of a pod being deleted, then remove it for good. */
  private stop(pod: Pod, now: number): number | undefined {
    const uid = pod.metadata.uid ?? '';
    const run = this.runs.get(uid);
    if (run && run.stopAt === undefined) {
      run.stopAt = now + STOP_MS;
      for (const container of run.containers.filter((c) => 'running' in c.state)) {
        const kind = container.init ? 'initContainers' : 'containers';
        this.context.events.record(this.source, pod, {
          type: 'Normal',
          reason: 'Killing',
          message: `Stopping container ${container.spec.name}`,
          fieldPath: `spec.${kind}{${container.spec.name}}`,
        });
      }
    }
    const stopAt = run?.stopAt ?? now;
    if (now < stopAt) return stopAt - now;
    this.runs.delete(uid);
    this.context.api.finishDelete(resourceByKind('Pod'), pod);
    return undefined;
  }

  private freeIpSuffix(): number {
    const used = new Set([...this.runs.values()].map((run) => run.ipSuffix));
    for (let suffix = 2; suffix <= 254; suffix++) if (!used.has(suffix)) return suffix;
    throw new Error('the simulated node ran out of pod IPs (253 pods)');
  }
}

/** Start the next init container, or every container once the init containers have completed. */
function startNext(run: PodRun, now: number): void {
  const pendingInit = run.containers.find((container) => container.init && !hasCompleted(container));
  const toStart = pendingInit ? [pendingInit] : run.containers.filter((container) => !container.init);
  for (const container of toStart)
    if (isWaitingToStart(container) && !container.next) container.next = { at: now, step: 'start' };
}

/** The pod status as the kubelet reports it (conditions in the kubelet's order, times kept while unchanged). */
function podStatus(pod: Pod, run: PodRun, hostIP: string, podIP: string | undefined, now: number): PodStatus {
  const inits = run.containers.filter((container) => container.init);
  const mains = run.containers.filter((container) => !container.init);
  const incomplete = inits.filter((container) => !hasCompleted(container)).map((container) => container.spec.name);
  const unready = mains.filter((container) => !container.ready).map((container) => container.spec.name);
  const previous = pod.status?.conditions;
  const condition = (type: string, ok: boolean, reason: string, message: string): Condition => {
    const status = ok ? 'True' : 'False';
    const earlier = conditionOf(previous, type);
    const lastTransitionTime =
      earlier?.status === status && earlier.lastTransitionTime ? earlier.lastTransitionTime : timestamp(new Date(now));
    return { type, status, lastProbeTime: null, lastTransitionTime, ...(ok ? {} : { reason, message }) };
  };
  const notReady = `containers with unready status: [${unready.join(' ')}]`;
  const pending = incomplete.length > 0 || mains.some(isWaitingToStart);
  return {
    phase: pending ? 'Pending' : 'Running',
    conditions: [
      condition(
        'Initialized',
        incomplete.length === 0,
        'ContainersNotInitialized',
        `containers with incomplete status: [${incomplete.join(' ')}]`,
      ),
      condition('Ready', unready.length === 0, 'ContainersNotReady', notReady),
      condition('ContainersReady', unready.length === 0, 'ContainersNotReady', notReady),
      condition('PodScheduled', true, '', ''),
    ],
    hostIP,
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: timestamp(new Date(run.startedAt)),
    ...(inits.length > 0 ? { initContainerStatuses: inits.map(containerStatus) } : {}),
    containerStatuses: mains.map(containerStatus),
    ...(pod.status?.qosClass ? { qosClass: pod.status.qosClass } : {}),
  };
}
