import type { V1Pod } from '@kubernetes/client-node';
import { deployTimeline, describeTimeline } from '../../src/kubernetes/ops/deploy.js';
import { lastReadyAt } from '../../src/kubernetes/ops/readiness.js';

const pod = (ready: string | undefined, deleting = false): V1Pod => ({
  metadata: { name: 'p', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  status: { conditions: ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(ready) }] : [] },
});

describe('lastReadyAt: when the last pod became ready, by the cluster', () => {
  test('the latest Ready transition of the pods that stay', () => {
    const at = lastReadyAt([
      pod('2026-12-07T10:00:05Z'),
      pod('2026-12-07T10:00:09Z'),
      pod('2026-12-07T10:00:30Z', true),
      pod(undefined),
    ]);
    expect(at).toBe(Date.parse('2026-12-07T10:00:09Z'));
  });

  test('nothing to say without ready pods', () => {
    expect(lastReadyAt([pod(undefined)])).toBeUndefined();
  });
});

describe('deployTimeline: the cluster share and the tool share of the time to a queryable stack', () => {
  const start = 1_000_000;

  test('pods starting and the read-back are the cluster; the rest (start-up, requests, noticing) is the tool', () => {
    const timeline = deployTimeline(
      { startedAt: start, appliedAt: start + 1500, endedAt: start + 42_000 },
      {
        readyAt: start + 37_000,
        smoke: { latencyMs: 800, durationMs: 2000, line: '', tenant: null, through: 'services' },
      },
    );
    expect(timeline).toEqual({
      totalMs: 42_000,
      appliedMs: 1500,
      podsMs: 35_500,
      noticedMs: 3000,
      readBackMs: 800,
      toolMs: 5700,
    });
    expect(describeTimeline(timeline, true)).toBe(
      "queryable 42.0 s after the start: pods starting 35.5 s, Loki's read-back 0.8 s; this tool 5.7 s (14 %)",
    );
  });

  test('a stack ready before the apply ended (nothing changed) spent nothing on pods', () => {
    const timeline = deployTimeline(
      { startedAt: start, appliedAt: start + 900, endedAt: start + 1200 },
      { readyAt: start - 60_000 },
    );
    expect(timeline).toMatchObject({ podsMs: 0, noticedMs: 300, toolMs: 1200 });
    expect(describeTimeline(timeline, false)).toBe(
      'ready 1.2 s after the start: pods starting 0.0 s; this tool 1.2 s (100 %)',
    );
  });
});
