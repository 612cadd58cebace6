// The judgement the wait makes at each look at a stack, apart from the watching: ready, failing for good, or still
// on its way (and when to look again though nothing changes). Pure: the looks and the clock are its arguments.
import type { V1Pod } from '@kubernetes/client-node';
import type { ComponentStatus, StackStatus } from '../../stack/status-model.js';

/** Failing pods, remembered from look to look: when each began to fail, and when it last did. */
export type FailureMemory = ReadonlyMap<string, { since: number; lastFailed: number }>;

export type Verdict =
  | { kind: 'ready' }
  | { kind: 'failing' }
  /** `recheckInMs`: when a failing pod will have failed long enough, should nothing change before. */
  | { kind: 'waiting'; recheckInMs?: number };

export interface Judgement {
  verdict: Verdict;
  failures: FailureMemory;
}

type Look = Pick<StackStatus, 'condition'> & {
  components: Record<string, Pick<ComponentStatus, 'desired' | 'pods' | 'notReady'>>;
};

/**
 * Ready once the pods agree too: the workloads' watch may report a ready count before the pods' watch delivers the
 * pod that became ready, and the status handed back must not contradict itself. Failing once a pod has kept failing
 * `failingForMs`; a crash-looping container runs for a moment between its back-offs, so a pod keeps failing until
 * it has gone a whole `failingForMs` without failing, not just until its next restart.
 */
export function judgeReadiness(status: Look, failures: FailureMemory, now: number, failingForMs: number): Judgement {
  const components = Object.values(status.components);
  if (status.condition.type === 'Ready' && components.every((component) => component.pods.Ready >= component.desired)) {
    return { verdict: { kind: 'ready' }, failures };
  }
  const failing = components.flatMap((component) =>
    component.notReady.filter((pod) => pod.failing).map((pod) => pod.name),
  );
  const remembered = new Map(failures);
  for (const name of failing) remembered.set(name, { since: remembered.get(name)?.since ?? now, lastFailed: now });
  for (const [name, { lastFailed }] of remembered) if (now - lastFailed >= failingForMs) remembered.delete(name);
  if (failing.length === 0) return { verdict: { kind: 'waiting' }, failures: remembered };
  const failingFor = now - Math.min(...failing.map((name) => remembered.get(name)!.since));
  if (failingFor >= failingForMs) return { verdict: { kind: 'failing' }, failures: remembered };
  return { verdict: { kind: 'waiting', recheckInMs: failingForMs - failingFor + 10 }, failures: remembered };
}

/** "ingester 2/3 ready" by component, "(rolling out)" while a ready component's pods change template. */
export function progressLines(status: Pick<StackStatus, 'components'>): Map<string, string> {
  return new Map(
    Object.entries(status.components).map(([name, component]) => [
      name,
      `${name} ${component.ready}/${component.desired} ready${component.current || component.ready < component.desired ? '' : ' (rolling out)'}`,
    ]),
  );
}

/**
 * When the last of the pods became ready, by the kubelet's clock (the Ready condition's lastTransitionTime, whole
 * seconds): how long the cluster took, as opposed to how long the tool took to notice.
 */
export function lastReadyAt(pods: readonly V1Pod[]): number | undefined {
  const times = pods
    .filter((pod) => !pod.metadata?.deletionTimestamp)
    .map((pod) => pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime)
    .filter((time): time is Date => time !== undefined)
    .map((time) => new Date(time).getTime());
  return times.length > 0 ? Math.max(...times) : undefined;
}
