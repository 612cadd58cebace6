// One container's life on the simulated node, as the kubelet drives it: pull, create, start, become ready
// (or crash), restart with CrashLoopBackOff back-off (10 s doubling to 5 min, first restart immediate, as
// the kubelet's back-off does), image pulls retried with ImagePullBackOff, CreateContainerConfigError while
// its environment names a Secret or key that is missing (retried when that changes). Each step is due at a time;
// the kubelet runs the due steps and publishes the status in between, so every intermediate state
// (ErrImagePull, a terminated container before its back-off) is visible once, as on a real node.
import { createHash, randomBytes } from 'node:crypto';
import { timestamp } from '../store.js';
import type { EventDetails } from './events.js';
import { crashLines, startupLines } from './logs.js';
import type { Container, ContainerStatus } from './objects.js';

type ContainerFailure = 'imagePull' | 'crashLoop' | 'oomKilled';
type Step = 'start' | 'settle' | 'crashBackOff' | 'restart' | 'pullBackOff';

interface Terminated {
  exitCode: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

export interface ContainerRun {
  spec: Container;
  init: boolean;
  state:
    { waiting: { reason: string; message?: string } } | { running: { startedAt: string } } | { terminated: Terminated };
  lastTerminated?: Terminated;
  ready: boolean;
  restartCount: number;
  imageID: string;
  containerID?: string;
  /** The back-off the next crash waits (0: the next crash restarts at once). */
  crashBackOffSeconds: number;
  pullBackOffSeconds: number;
  next?: { at: number; step: Step };
  /** The log of the current (or last) container instance. */
  log: string[];
}

/** What a step needs to know about its surroundings. */
export interface StepEnvironment {
  now: number;
  failure: ContainerFailure | undefined;
  /** How long a started container runs before it is ready (or crashes). */
  runMs: number;
  /** `<pod>_<namespace>(<uid>)`, as the kubelet names pods in messages. */
  podLabel: string;
  /** Why the container's environment cannot be built now (a missing Secret or key), if it cannot. */
  configError: string | undefined;
  imagePresent(image: string): boolean;
  imagePulled(image: string): void;
}

const time = (ms: number) => timestamp(new Date(ms));

export function newContainerRun(spec: Container, init: boolean, waitingReason: string): ContainerRun {
  return {
    spec,
    init,
    state: { waiting: { reason: waitingReason } },
    ready: false,
    restartCount: 0,
    imageID: '',
    crashBackOffSeconds: 0,
    pullBackOffSeconds: 0,
    log: [],
  };
}

const isCrash = (failure: ContainerFailure | undefined): failure is 'crashLoop' | 'oomKilled' =>
  failure === 'crashLoop' || failure === 'oomKilled';

const waitingReason = (run: ContainerRun) => ('waiting' in run.state ? run.state.waiting.reason : undefined);

export const isWaitingToStart = (run: ContainerRun) => 'waiting' in run.state && !run.lastTerminated;

export const hasCompleted = (run: ContainerRun) => 'terminated' in run.state && run.state.terminated.exitCode === 0;

/**
 * Bring a container in line with the failures injected now: a healed container leaves its back-off at
 * once (rather than at the end of a back-off that may last minutes), a running one told to crash crashes.
 */
export function applyFailure(run: ContainerRun, env: StepEnvironment): void {
  const reason = waitingReason(run);
  if (reason === 'CrashLoopBackOff' && !isCrash(env.failure)) {
    run.crashBackOffSeconds = 0;
    run.next = { at: env.now, step: 'restart' };
  } else if (
    reason === 'CreateContainerConfigError' &&
    'waiting' in run.state &&
    env.configError !== run.state.waiting.message
  ) {
    // The kubelet tries again at its next sync: the container starts, or waits for another reason.
    run.next = { at: env.now, step: 'start' };
  } else if ((reason === 'ErrImagePull' || reason === 'ImagePullBackOff') && env.failure !== 'imagePull') {
    run.pullBackOffSeconds = 0;
    run.next = { at: env.now, step: 'start' };
  } else if ('running' in run.state && run.ready && isCrash(env.failure)) {
    run.next = { at: env.now, step: 'settle' };
  }
}

/** Run the step that is due; returns the events the kubelet reports for it. */
export function runStep(run: ContainerRun, env: StepEnvironment): EventDetails[] {
  const step = run.next?.step;
  run.next = undefined;
  switch (step) {
    case 'start':
      return start(run, env);
    case 'restart':
      if ('terminated' in run.state) run.lastTerminated = run.state.terminated;
      run.restartCount++;
      return start(run, env);
    case 'settle':
      return settle(run, env);
    case 'crashBackOff':
      return crashBackOff(run, env);
    case 'pullBackOff':
      return pullBackOff(run, env);
    default:
      return [];
  }
}

function start(run: ContainerRun, env: StepEnvironment): EventDetails[] {
  const { image, name } = run.spec;
  if (env.failure === 'imagePull') {
    const error = pullError(image);
    run.state = { waiting: { reason: 'ErrImagePull', message: error } };
    run.next = { at: env.now, step: 'pullBackOff' };
    return [
      { type: 'Normal', reason: 'Pulling', message: `Pulling image "${image}"` },
      { type: 'Warning', reason: 'Failed', message: `Failed to pull image "${image}": ${error}` },
      { type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' },
    ];
  }
  const pulls = run.spec.imagePullPolicy === 'Always' || !env.imagePresent(image);
  const pullEvents: EventDetails[] = pulls
    ? [
        { type: 'Normal', reason: 'Pulling', message: `Pulling image "${image}"` },
        { type: 'Normal', reason: 'Pulled', message: `Successfully pulled image "${image}" in ${pullSeconds(image)}s` },
      ]
    : [{ type: 'Normal', reason: 'Pulled', message: `Container image "${image}" already present on machine` }];
  env.imagePulled(image);
  if (env.configError) {
    run.state = { waiting: { reason: 'CreateContainerConfigError', message: env.configError } };
    return [...pullEvents, { type: 'Warning', reason: 'Failed', message: `Error: ${env.configError}` }];
  }
  run.imageID = imageId(image);
  run.containerID = `containerd://${randomBytes(32).toString('hex')}`;
  run.state = { running: { startedAt: time(env.now) } };
  run.ready = false;
  run.log = startupLines(run.spec, new Date(env.now));
  run.next = { at: env.now + env.runMs, step: 'settle' };
  return [
    ...pullEvents,
    { type: 'Normal', reason: 'Created', message: `Created container ${name}` },
    { type: 'Normal', reason: 'Started', message: `Started container ${name}` },
  ];
}

/** The end of a container's start-up: ready, completed (init containers), or dead. */
function settle(run: ContainerRun, env: StepEnvironment): EventDetails[] {
  if (!('running' in run.state)) return [];
  const startedAt = run.state.running.startedAt;
  const containerID = run.containerID ?? '';
  if (isCrash(env.failure)) {
    const oom = env.failure === 'oomKilled';
    run.state = {
      terminated: {
        exitCode: oom ? 137 : 1,
        reason: oom ? 'OOMKilled' : 'Error',
        startedAt,
        finishedAt: time(env.now),
        containerID,
      },
    };
    run.ready = false;
    run.log.push(...crashLines(run.spec, env.failure, new Date(env.now)));
    // The kubelet's back-off: a container that never failed before restarts at once, then waits.
    if (run.crashBackOffSeconds === 0) {
      run.crashBackOffSeconds = 10;
      run.next = { at: env.now, step: 'restart' };
    } else run.next = { at: env.now, step: 'crashBackOff' };
    return [];
  }
  if (run.init)
    run.state = { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: time(env.now), containerID } };
  run.ready = true;
  return [];
}

function crashBackOff(run: ContainerRun, env: StepEnvironment): EventDetails[] {
  if (!('terminated' in run.state)) return [];
  const wait = run.crashBackOffSeconds;
  run.lastTerminated = run.state.terminated;
  run.state = {
    waiting: {
      reason: 'CrashLoopBackOff',
      message: `back-off ${goDuration(wait)} restarting failed container=${run.spec.name} pod=${env.podLabel}`,
    },
  };
  run.next = { at: Date.parse(run.lastTerminated.finishedAt) + wait * 1000, step: 'restart' };
  run.crashBackOffSeconds = Math.min(wait * 2, 300);
  return [{ type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container' }];
}

function pullBackOff(run: ContainerRun, env: StepEnvironment): EventDetails[] {
  const wait = run.pullBackOffSeconds || 10;
  const message = `Back-off pulling image "${run.spec.image}"`;
  run.state = { waiting: { reason: 'ImagePullBackOff', message } };
  run.next = { at: env.now + wait * 1000, step: 'start' };
  run.pullBackOffSeconds = Math.min(wait * 2, 300);
  return [
    { type: 'Normal', reason: 'BackOff', message },
    { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' },
  ];
}

/** The status the kubelet reports for this container. */
export function containerStatus(run: ContainerRun): ContainerStatus {
  const pulled = run.imageID !== '';
  return {
    name: run.spec.name,
    state: structuredClone(run.state) as ContainerStatus['state'],
    lastState: run.lastTerminated ? { terminated: { ...run.lastTerminated } } : {},
    ready: run.ready,
    restartCount: run.restartCount,
    image: pulled ? fullReference(run.spec.image) : run.spec.image,
    imageID: run.imageID,
    ...(run.containerID ? { containerID: run.containerID } : {}),
    started: 'running' in run.state,
  };
}

/** Go's time.Duration for whole seconds: 10s, 1m20s, 5m0s. */
export function goDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m${seconds % 60}s` : `${seconds}s`;
}

/** An image reference as containerd resolves it: `nginx` is `docker.io/library/nginx:latest`. */
export function fullReference(image: string): string {
  const [first, ...rest] = image.split('/');
  const hasRegistry = rest.length > 0 && (first!.includes('.') || first!.includes(':') || first === 'localhost');
  const path = hasRegistry ? image : `docker.io/${rest.length === 0 ? `library/${image}` : image}`;
  const lastPart = path.slice(path.lastIndexOf('/') + 1);
  return lastPart.includes(':') || lastPart.includes('@') ? path : `${path}:latest`;
}

function imageId(image: string): string {
  const reference = fullReference(image);
  const repository = reference.replace(/@.*$/, '').replace(/:[^:/]+$/, '');
  return `${repository}@sha256:${createHash('sha256').update(reference).digest('hex')}`;
}

const pullError = (image: string) => {
  const reference = fullReference(image);
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${reference}": failed to resolve reference "${reference}": ${reference}: not found`;
};

/** A plausible pull duration, stable per image. */
const pullSeconds = (image: string) => (0.5 + (createHash('sha256').update(image).digest()[0]! / 255) * 2).toFixed(6);
