// deployStack and verifyStack, the one deploy flow of the CLI, the Action and the scaffolder, against the test API
// server: the phases in order under the stack's lock, one deadline for all of them, and a smoke test that is given
// its time even when the wait used up the deadline.
import { jest } from '@jest/globals';
import { applyStack, deployStack, verifyStack, waitForStack, type DeployPhase } from 'loki-microservices';
import { FAST_RETRY, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(120_000);

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

/** What onPhase heard, as "begin <phase>" and "<phase>: <summary or failed>". */
function phaseLog() {
  const log: string[] = [];
  const onPhase = (phase: DeployPhase) => {
    log.push(`begin ${phase}`);
    return (summary: string | undefined) => void log.push(`${phase}: ${summary ?? 'failed'}`);
  };
  return { log, onPhase };
}

test('apply, wait and smoke test, in that order, each phase ended before the next begins, all under the lock', async () => {
  const stack = stackOf({ metadata: { namespace: 'deploy-flow' } });
  const { log, onPhase } = phaseLog();
  const leaseDuringSmoke: unknown[] = [];
  const deployed = await deployStack(fixture.connection, stack, {
    timeoutMs: 60_000,
    smoke: true,
    onPhase: (phase) => {
      if (phase === 'smoke test')
        leaseDuringSmoke.push(fixture.running.server.store.get('Lease', 'deploy-flow', 'loki-loki-microservices'));
      return onPhase(phase);
    },
  });
  expect(log).toEqual([
    'begin apply',
    expect.stringMatching(/^apply: \d+ objects: \d+ created$/),
    'begin wait',
    expect.stringMatching(/^wait: /),
    'begin smoke test',
    expect.stringMatching(/^smoke test: passed: the line was read back \d+ ms after its push$/),
  ]);
  expect(deployed.status?.condition.type).toBe('Ready');
  expect(deployed.smoke?.through).toBe('services');
  expect(leaseDuringSmoke[0]).toBeDefined();
  expect(fixture.running.server.store.get('Lease', 'deploy-flow', 'loki-loki-microservices')).toBeUndefined();
});

test('a failed apply ends its phase as failed, and nothing else begins', async () => {
  fixture.running.server.faults.forbid({ verb: 'patch', resource: 'configmaps' });
  try {
    const { log, onPhase } = phaseLog();
    await expect(
      deployStack(fixture.connection, stackOf({ metadata: { namespace: 'deploy-refused' } }), {
        timeoutMs: 20_000,
        wait: true,
        onPhase,
      }),
    ).rejects.toThrow();
    expect(log).toEqual(['begin apply', 'apply: failed']);
  } finally {
    fixture.running.server.faults.allowAll();
  }
});

test('the smoke test gets its time even when the wait used up the deadline (as it does for the CLI, the Action and the scaffolder alike)', async () => {
  const stack = stackOf({ metadata: { namespace: 'deploy-late' } });
  await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
  await waitForStack(fixture.connection, { name: 'loki', namespace: 'deploy-late' }, { timeoutMs: 60_000 });
  // The first queries through the query-frontend fail: the smoke test needs ten of its 250 ms rounds, more than a
  // floor of a second would give it.
  const queries = (request: { path: string }) =>
    request.path.includes('query-frontend') && request.path.includes('query_range');
  fixture.running.server.faults.failNext('error', 10, queries);
  const verified = await verifyStack(fixture.connection, stack, { smoke: true, deadline: Date.now() - 1 });
  expect(verified.smoke?.durationMs).toBeGreaterThan(2000);
});
