// The simulated cluster behind the test API server: a control plane's controllers (Deployment,
// ReplicaSet, StatefulSet, volume binder, PVC protection, Endpoints, PodDisruptionBudget status, garbage
// collector, namespace, pod GC), a scheduler and the kubelet of one node. They watch the store, coalesce changes per
// object and tick, and write through the Api as kube-controller-manager, kube-scheduler and kubelet, so
// objects carry the managedFields, resourceVersions, statuses, conditions and events a real cluster's
// would (shapes from fixtures/k8s-api-transcripts 35-61). Binding a pod goes to the store instead, as the
// pods/binding subresource leaves no managedFields entry (scheduler.ts).
//
// What is simulated and what is not:
// - Time: a scheduled pod is Running and Ready `readyAfterMs` after the kubelet starts it; container stops
//   take 50 ms; back-offs (CrashLoopBackOff, ImagePullBackOff), minReadySeconds and progress deadlines run
//   on real time, as in Kubernetes; a deleted namespace is emptied from `namespaceDeletionDelayMs` after
//   its DELETE on. `idle()` waits until nothing is due within a horizon.
// - Failures are injected per namespace/workload/image (`fail`, `heal`): image pulls that fail, containers
//   that crash or are OOM-killed, pods no node can take. Healing takes effect at once, without waiting
//   for the back-off to expire.
// - One node, no resources, probes, affinity, taints, volumes (but Secret volumes), networking or container
//   runtime: readiness is a timer and container logs are generated (logs.ts).
// - With `certManager`, a simulated cert-manager issues Certificates (cert-manager.ts).
// - Each controller file says what of its real counterpart it leaves out.
import type { Api } from '../api.js';
import { RESOURCES, resourceByKind } from '../resources.js';
import { ApiError, badRequest, notFound } from '../status.js';
import type { Change } from '../store.js';
import { CertificateController, IssuerController } from './cert-manager.js';
import { ClaimBinder } from './claims.js';
import type { ClusterContext, Controller } from './context.js';
import { DeploymentController } from './deployment.js';
import { DisruptionController } from './disruption.js';
import { EndpointsController } from './endpoints.js';
import { EventRecorder } from './events.js';
import { Failures, type FailureMode, type FailureTarget } from './failures.js';
import { GarbageCollector } from './garbage-collector.js';
import { Kubelet } from './kubelet.js';
import { DEFAULT_NAMESPACE_DELETION_DELAY_MS, NamespaceController } from './namespace.js';
import type { ObjectRef, Pod } from './objects.js';
import { PodGarbageCollector } from './podgc.js';
import { PvcProtectionController } from './pvc-protection.js';
import { WorkQueue } from './queue.js';
import { ReplicaSetController } from './replicaset.js';
import { Scheduler } from './scheduler.js';
import { StatefulSetController } from './statefulset.js';

export type { FailureMode, FailureTarget } from './failures.js';

export interface ClusterOptions {
  /** A scheduled pod becomes Running and Ready this long after it starts; 0 = next tick. */
  readyAfterMs: number;
  /** @default 'test-node' */
  nodeName?: string;
  /** Pod IPs are this prefix followed by 2..254. @default '10.244.0.' (kind's pod network) */
  podIpPrefix?: string;
  /** Run a simulated cert-manager (the cert-manager.io custom resources are served). @default false */
  certManager?: boolean;
  /**
   * How long after a Namespace's DELETE the namespace controller starts removing its content (which then
   * goes one resource type at a time, through the normal deletion flow). Until then its objects stay
   * readable, listable, watchable and deletable; new ones are refused (403).
   * @default 1000
   */
  namespaceDeletionDelayMs?: number;
}

/** Conflict, NotFound and Forbidden answers to a controller's write, retried after RETRY_MS. */
const RETRIED = new Set([403, 404, 409]);
const RETRY_MS = 1000;

/** The node's InternalIP, as a kind node has it. */
const NODE_IP = '172.18.0.2';

export class Cluster {
  private readonly queue = new WorkQueue();
  private readonly failures = new Failures();
  private readonly kubelet: Kubelet;
  private readonly scheduler: Scheduler;
  private readonly controllers: Controller[];
  /** What runs on (or for) the node: nothing of it acts while the node is unavailable. */
  private readonly nodeControllers: Set<Controller>;
  private nodeAvailable = true;
  private readyAfterMs: number;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly api: Api,
    options: ClusterOptions,
  ) {
    this.readyAfterMs = options.readyAfterMs;
    const context: ClusterContext = {
      api,
      store: api.store,
      events: new EventRecorder(api),
      failures: this.failures,
      node: { name: options.nodeName ?? 'test-node', ip: NODE_IP },
      podIpPrefix: options.podIpPrefix ?? '10.244.0.',
      readyAfterMs: () => this.readyAfterMs,
      background: (controller, ref, work) => this.queue.track(...this.task(controller, ref), work),
    };
    this.kubelet = new Kubelet(context);
    this.scheduler = new Scheduler(context);
    this.controllers = [
      new DeploymentController(context),
      new ReplicaSetController(context),
      new StatefulSetController(context),
      new ClaimBinder(context),
      this.scheduler,
      this.kubelet,
      new PodGarbageCollector(context),
      new PvcProtectionController(context),
      new EndpointsController(context),
      new DisruptionController(context),
      new GarbageCollector(context),
      new NamespaceController(context, options.namespaceDeletionDelayMs ?? DEFAULT_NAMESPACE_DELETION_DELAY_MS),
      ...(options.certManager ? [new IssuerController(context), new CertificateController(context)] : []),
    ];
    this.nodeControllers = new Set(
      this.controllers.filter((c) => c === this.scheduler || c === this.kubelet || c instanceof ClaimBinder),
    );
  }

  /** Watch the store and reconcile everything already in it. */
  start(): void {
    if (this.unsubscribe) return;
    this.queue.start();
    this.unsubscribe = this.api.store.subscribe((change) => this.observe(change));
    for (const type of RESOURCES) {
      for (const object of this.api.store.list(type.kind))
        this.observe({ type: 'ADDED', kind: type.kind, object, resourceVersion: 0 });
    }
  }

  /** Stop watching and drop every queued reconcile and timer. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue.stop();
  }

  /**
   * Make matching pods fail this way, those created later and existing ones as far as a real failure would
   * reach them: running containers crash at once (crashLoop, oomKilled), containers pull the image when
   * they next start (imagePull), pods not yet bound stay unbound (unschedulable).
   */
  fail(target: FailureTarget, mode: FailureMode): void {
    this.failures.add(target, mode);
    this.revisitPods();
  }

  /** Stop the failures within `target` (all of them without one); affected pods recover at once. */
  heal(target?: FailureTarget): void {
    this.failures.remove(target);
    this.revisitPods();
  }

  /**
   * Take the node away (false) or bring it back (true): while it is away nothing schedules pods, binds
   * claims or runs containers, as in a cluster whose only node has not joined yet. Controllers still create
   * ReplicaSets, pods and claims, which wait Pending (transcripts 35-44 show such a cluster).
   */
  setNodeAvailable(available: boolean): void {
    this.nodeAvailable = available;
    if (!available) return;
    this.revisitPods();
    const binders = [...this.nodeControllers].filter((controller) => controller instanceof ClaimBinder);
    for (const claim of this.api.store.list('PersistentVolumeClaim')) {
      for (const binder of binders)
        this.enqueue(binder, {
          kind: 'PersistentVolumeClaim',
          namespace: claim.metadata.namespace,
          name: claim.metadata.name,
        });
    }
  }

  setReadyAfterMs(ms: number): void {
    this.readyAfterMs = ms;
  }

  /** How long after a Namespace's DELETE its content starts to go, for the namespaces terminating now too. */
  setNamespaceDeletionDelayMs(ms: number): void {
    for (const controller of this.controllers) {
      if (controller instanceof NamespaceController)
        for (const ref of controller.setDelay(ms)) this.enqueue(controller, ref);
    }
  }

  /** Resolves once no reconcile is queued and no timer is due within `horizonMs`; rejects if a controller threw. */
  idle(horizonMs = 5000): Promise<void> {
    return this.queue.idle(horizonMs);
  }

  /** The files of a pod's Secret volume as its containers see them; undefined until the kubelet has mounted it. */
  secretVolume(pod: Pod, volume: string): Record<string, Buffer> | undefined {
    return this.kubelet.secretVolume(pod, volume);
  }

  /**
   * A container's log, as GET pods/<pod>/log answers it: the current instance's lines (or, while it
   * waits to restart, the last one's), the last `tailLines` of them. Errors as the API server's.
   */
  logs(namespace: string, pod: string, container?: string, tailLines?: number): string {
    const live = this.api.store.get('Pod', namespace, pod) as Pod | undefined;
    if (!live) throw notFound(resourceByKind('Pod'), pod);
    const mains = live.spec.containers.map((c) => c.name);
    const inits = (live.spec.initContainers ?? []).map((c) => c.name);
    const name = container ?? (mains.length === 1 ? mains[0]! : undefined);
    if (name === undefined) {
      const initChoice = inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : '';
      throw badRequest(
        `a container name must be specified for pod ${pod}, choose one of: [${mains.join(' ')}]${initChoice}`,
      );
    }
    if (![...mains, ...inits].includes(name)) throw badRequest(`container ${name} is not valid for pod ${pod}`);
    // An unscheduled pod has no node to ask: the API server answers an empty log.
    if (!live.spec.nodeName) return '';
    const log = this.kubelet.log(live.metadata.uid ?? '', name) ?? { waiting: 'ContainerCreating' };
    if ('waiting' in log) {
      const why =
        log.waiting === 'ErrImagePull'
          ? "image can't be pulled"
          : log.waiting === 'ImagePullBackOff'
            ? 'trying and failing to pull image'
            : log.waiting;
      throw badRequest(`container "${name}" in pod "${pod}" is waiting to start: ${why}`);
    }
    const lines = tailLines === undefined ? log.lines : tailLines <= 0 ? [] : log.lines.slice(-tailLines);
    return lines.map((line) => `${line}\n`).join('');
  }

  private observe(change: Change): void {
    for (const controller of this.controllers) {
      for (const ref of controller.watch(change)) this.enqueue(controller, ref);
    }
  }

  private enqueue(controller: Controller, ref: ObjectRef): void {
    if (!this.nodeAvailable && this.nodeControllers.has(controller)) return;
    this.queue.add(...this.task(controller, ref));
  }

  /** The queue key and the reconcile of `ref` by `controller`. */
  private task(controller: Controller, ref: ObjectRef): [string, () => number | undefined] {
    const key = `${controller.name}\u0000${ref.kind}\u0000${ref.namespace ?? ''}\u0000${ref.name}`;
    return [
      key,
      () => {
        try {
          return controller.reconcile(ref);
        } catch (error) {
          // Refusals a real controller meets too (a namespace being deleted, an object gone or taken
          // meanwhile) are retried later, as its rate-limited queue would; anything else is a bug in the
          // simulation and fails the next idle().
          if (error instanceof ApiError && RETRIED.has(error.status.code ?? 0)) return RETRY_MS;
          throw error;
        }
      },
    ];
  }

  private revisitPods(): void {
    for (const pod of this.api.store.list('Pod')) {
      const ref = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name };
      this.enqueue(this.scheduler, ref);
      this.enqueue(this.kubelet, ref);
    }
  }
}
