import { conditionOf, type ComponentStatus } from '../../src/stack/status-model.js';

const crashLooping = (name: string): ComponentStatus => ({
  kind: 'StatefulSet',
  desired: 1,
  ready: 0,
  updated: 1,
  current: false,
  pods: { Ready: 0, Running: 0, Pending: 0, Failed: 1, Unknown: 0 },
  notReady: [{ name: `loki-${name}-0`, state: 'Failed', reason: 'CrashLoopBackOff', failing: true, restarts: 3 }],
});
const ready: ComponentStatus = {
  kind: 'Deployment',
  desired: 1,
  ready: 1,
  updated: 1,
  current: true,
  pods: { Ready: 1, Running: 0, Pending: 0, Failed: 0, Unknown: 0 },
  notReady: [],
};

test('a cache with no pod ready degrades the stack: Loki answers without it, slower', () => {
  expect(conditionOf({ querier: ready, 'chunks-cache': crashLooping('chunks-cache') })).toEqual({
    type: 'Degraded',
    reason: 'ComponentsDegraded',
    message: 'chunks-cache 0/1 ready (CrashLoopBackOff)',
  });
  expect(conditionOf({ querier: ready, 'results-cache': crashLooping('results-cache') }).type).toBe('Degraded');
});

test('a Loki component with no pod ready still fails it, whatever the caches do', () => {
  expect(
    conditionOf({ ingester: crashLooping('ingester'), 'results-cache': crashLooping('results-cache') }),
  ).toMatchObject({ type: 'Failed', reason: 'ComponentsFailing' });
});

test('a stack with no component seen is Pending, not Ready', () => {
  expect(conditionOf({})).toEqual({ type: 'Pending', reason: 'NoComponents', message: 'no component found' });
});
