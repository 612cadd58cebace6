// The wait's judgement at each look, with plain objects and a clock of numbers.
import { judgeReadiness, progressLines, type FailureMemory } from '../../src/kubernetes/ops/readiness.js';

const pods = (Ready: number) => ({ Ready, Running: 0, Pending: 0, Failed: 0, Unknown: 0 });
const failingPod = (name: string) =>
  ({ name, state: 'Running', reason: 'CrashLoopBackOff', restarts: 3, failing: true }) as never;

function look(type: 'Ready' | 'Pending' | 'Degraded', ready: number, notReady: never[] = []) {
  return {
    condition: { type, reason: '', message: '' },
    components: { ingester: { desired: 2, pods: pods(ready), notReady } },
  } as never;
}

const none: FailureMemory = new Map();
const FAILING_FOR_MS = 30_000;

test('ready when the condition is Ready and the pods agree', () => {
  expect(judgeReadiness(look('Ready', 2), none, 0, FAILING_FOR_MS).verdict).toEqual({ kind: 'ready' });
});

test("not ready while the pods lag behind a Ready condition (the workloads' watch ran ahead of the pods')", () => {
  expect(judgeReadiness(look('Ready', 1), none, 0, FAILING_FOR_MS).verdict).toEqual({ kind: 'waiting' });
});

test('a failing pod: waiting, with a look again when it will have failed long enough; failing once it has', () => {
  const first = judgeReadiness(look('Degraded', 1, [failingPod('ingester-1')]), none, 1000, FAILING_FOR_MS);
  expect(first.verdict).toEqual({ kind: 'waiting', recheckInMs: FAILING_FOR_MS + 10 });
  const later = judgeReadiness(
    look('Degraded', 1, [failingPod('ingester-1')]),
    first.failures,
    1000 + FAILING_FOR_MS,
    FAILING_FOR_MS,
  );
  expect(later.verdict).toEqual({ kind: 'failing' });
});

test('a crash-looping pod seen running between back-offs still counts from when it first failed', () => {
  const failed = judgeReadiness(look('Degraded', 1, [failingPod('ingester-1')]), none, 0, FAILING_FOR_MS);
  const between = judgeReadiness(look('Pending', 1), failed.failures, 10_000, FAILING_FOR_MS);
  expect(between.verdict).toEqual({ kind: 'waiting' });
  const again = judgeReadiness(
    look('Degraded', 1, [failingPod('ingester-1')]),
    between.failures,
    FAILING_FOR_MS,
    FAILING_FOR_MS,
  );
  expect(again.verdict).toEqual({ kind: 'failing' });
});

test('a pod that went a whole failingForMs without failing starts afresh', () => {
  const failed = judgeReadiness(look('Degraded', 1, [failingPod('ingester-1')]), none, 0, FAILING_FOR_MS);
  const healed = judgeReadiness(look('Pending', 1), failed.failures, FAILING_FOR_MS, FAILING_FOR_MS);
  expect(healed.failures.size).toBe(0);
  const again = judgeReadiness(
    look('Degraded', 1, [failingPod('ingester-1')]),
    healed.failures,
    FAILING_FOR_MS + 1000,
    FAILING_FOR_MS,
  );
  expect(again.verdict).toEqual({ kind: 'waiting', recheckInMs: FAILING_FOR_MS + 10 });
});

test('progress lines by component, rolling out when ready pods change template', () => {
  const components = {
    ingester: { desired: 3, ready: 2, current: true },
    querier: { desired: 2, ready: 2, current: false },
  } as never;
  expect([...progressLines({ components }).values()]).toEqual([
    'ingester 2/3 ready',
    'querier 2/2 ready (rolling out)',
  ]);
});
