// Failures a test injects: which pods (by namespace, owning Deployment or StatefulSet, container image)
// fail, and how. The scheduler asks about pods, the kubelet about each container.
import type { Container, Pod } from './objects.js';

export type FailureMode = 'imagePull' | 'crashLoop' | 'unschedulable' | 'oomKilled';

export interface FailureTarget {
  namespace?: string;
  /** A Deployment or StatefulSet name. */
  workload?: string;
  /** A substring of a container image. */
  image?: string;
}

export class Failures {
  private entries: { target: FailureTarget; mode: FailureMode }[] = [];

  add(target: FailureTarget, mode: FailureMode): void {
    this.entries.push({ target: { ...target }, mode });
  }

  /** Forget the failures within `target` (every field it sets matches); all of them without one. */
  remove(target: FailureTarget = {}): void {
    const within = (entry: FailureTarget) =>
      (Object.keys(target) as (keyof FailureTarget)[]).every(
        (field) => target[field] === undefined || entry[field] === target[field],
      );
    this.entries = this.entries.filter((entry) => !within(entry.target));
  }

  /** Whether the scheduler must refuse this pod. */
  unschedulable(pod: Pod, workload: string | undefined): boolean {
    const images = allContainers(pod).map((container) => container.image);
    return this.entries.some(
      (entry) =>
        entry.mode === 'unschedulable' &&
        podMatches(entry.target, pod, workload) &&
        images.some((image) => imageMatches(entry.target, image)),
    );
  }

  /** The latest failure injected for this container of this pod, if any (scheduling failures excepted). */
  containerMode(
    pod: Pod,
    workload: string | undefined,
    container: Container,
  ): Exclude<FailureMode, 'unschedulable'> | undefined {
    const entry = this.entries.findLast(
      (candidate) =>
        candidate.mode !== 'unschedulable' &&
        podMatches(candidate.target, pod, workload) &&
        imageMatches(candidate.target, container.image),
    );
    return entry?.mode as Exclude<FailureMode, 'unschedulable'> | undefined;
  }
}

const allContainers = (pod: Pod): Container[] => [...(pod.spec.initContainers ?? []), ...pod.spec.containers];

const podMatches = (target: FailureTarget, pod: Pod, workload: string | undefined) =>
  (target.namespace === undefined || target.namespace === pod.metadata.namespace) &&
  (target.workload === undefined || target.workload === workload);

const imageMatches = (target: FailureTarget, image: string) =>
  target.image === undefined || image.includes(target.image);
