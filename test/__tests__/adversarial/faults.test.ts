// Attack 9, the fault suite: an API server that fails 30 % of requests (500, 429, reset connections, seeded),
// and one that goes away for 30 s in the middle of a wait. `apply --wait --smoke` through the gateway used to
// pass 2 runs in 12 at that fault rate (the smoke test's port-forward had no retries), and `apply --wait` gave
// up on an outage after ~20 s whatever --timeout said. Now every read and request is retried until the
// command's own deadline.
import { jest } from '@jest/globals';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { cli, type CliResult } from './harness.js';

jest.setTimeout(900_000);

const SEEDS = Array.from({ length: 20 }, (_, index) => index + 1);
/** Runs at once: each has its own API server, and waits on timers more than on the CPU. */
const PARALLEL = 5;

async function seededRun(seed: number): Promise<{ seed: number; result: CliResult; token: string }> {
  const running = await startTestApiServer({ readyAfterMs: 20, faultRate: 0.3, seed });
  try {
    const result = await cli(running, [
      'apply',
      '--wait',
      '--smoke',
      '--set',
      'spec.gateway.enabled=true',
      '--timeout',
      '5m',
    ]);
    return { seed, result, token: running.server.token };
  } finally {
    await running.close();
  }
}

test('at a 30 % fault rate, apply --wait --smoke through the gateway succeeds in 20 of 20 seeded runs, printing no token', async () => {
  const runs: Awaited<ReturnType<typeof seededRun>>[] = [];
  for (let start = 0; start < SEEDS.length; start += PARALLEL)
    runs.push(...(await Promise.all(SEEDS.slice(start, start + PARALLEL).map(seededRun))));
  const failed = runs
    .filter((run) => run.result.code !== 0)
    .map(
      (run) =>
        `seed ${run.seed}: exit ${run.result.code}: ${run.result.stderr
          .split('\n')
          .filter((line) => line.startsWith('error'))
          .join(' ')}`,
    );
  expect(failed).toEqual([]);
  for (const run of runs) {
    expect(run.result.stdout).toMatch(/^smoke test passed through the gateway/m);
    expect(`${run.result.stdout}${run.result.stderr}`).not.toContain(run.token);
  }
});

describe('an API server away for 30 s during a wait', () => {
  let running: RunningApiServer;

  beforeAll(async () => {
    running = await startTestApiServer({ readyAfterMs: 3000 });
  });

  afterAll(async () => {
    await running.close();
  });

  test('is waited out: apply --wait ends Ready', async () => {
    const applying = cli(running, ['apply', '--wait', '--timeout', '5m']);
    const deadline = Date.now() + 120_000;
    while (!running.server.store.get('StatefulSet', 'loki', 'loki-ingester')) {
      if (Date.now() > deadline) throw new Error('the apply did not get to the workloads');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const outageStarted = Date.now();
    running.server.faults.outage(30_000);
    const result = await applying;
    expect(Date.now() - outageStarted).toBeGreaterThanOrEqual(30_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Ready: /m);
    expect(`${result.stdout}${result.stderr}`).not.toContain(running.server.token);
  });
});
