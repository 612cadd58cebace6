// The pre-flight of a Loki version change (deployStack, the CLI's apply): against a stack deployed at 3.6.x, an
// upgrade to the next minor passes and tells the release notes that concern the stack; a downgrade across
// minors and a skipped minor are refused unless asked; an ingester not ACTIVE in the distributor's ring and a
// failing pod refuse it too. Every refusal comes before anything is sent: no write, no lock.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import {
  deployStack,
  getStackStatus,
  UpgradeNotReadyError,
  UpgradeRefusedError,
  type DeployOptions,
  type UpgradeCheck,
} from 'loki-microservices';
import { eventually, FAST_RETRY, runCli, stackOf, startFixture, type Fixture } from './fixture.js';

jest.setTimeout(60_000);

let fixture: Fixture;

beforeEach(async () => {
  fixture = await startFixture();
});
afterEach(async () => {
  await fixture.close();
});

const requests = () => fixture.running.server.faults.requests;
const deploy = (version: string, options: Partial<DeployOptions> = {}) =>
  deployStack(fixture.connection, stackOf({ spec: { version } }), { timeoutMs: 30_000, wait: true, ...options });
const liveVersion = async () =>
  (await getStackStatus(fixture.connection, { name: 'loki', namespace: 'loki' }, FAST_RETRY)).version;

/** Deploys `version` and waits until it is ready; returns where the request log stands. */
async function deployed(version: string): Promise<number> {
  await deploy(version);
  expect(await liveVersion()).toBe(version);
  return requests().length;
}

/** The requests since `mark` that write or lock: none may go out before a refusal. */
const sentSince = (mark: number) =>
  requests()
    .slice(mark)
    .filter((request) => request.method !== 'GET' || request.path.includes('/leases'))
    .map((request) => `${request.method} ${request.path}`);
const ringReadsSince = (mark: number) =>
  requests()
    .slice(mark)
    .filter(
      (request) =>
        // The ring page is read from a distributor pod over a port-forward (network isolation blocks the proxy).
        request.method === 'GET' && /\/pods\/loki-distributor-[^/]+\/portforward\?ports=3100$/.test(request.path),
    );

describe('an upgrade to the next minor', () => {
  test('passes after reading the ring, tells the release notes that concern the stack, then applies', async () => {
    const mark = await deployed('3.6.2');
    let told: UpgradeCheck | undefined;
    await deploy('3.7.8', { onUpgrade: (check) => (told = check) });
    expect(told).toMatchObject({ from: '3.6.2', to: '3.7.8', step: 'minor' });
    expect(told!.notes.map((note) => note.id)).toContain('parsed-labels-keep-structured-metadata');
    expect(told!.notes.every((note) => note.minor === '3.7')).toBe(true);
    expect(ringReadsSince(mark)).toHaveLength(1);
    expect(await liveVersion()).toBe('3.7.8');
  });

  test('a patch within the minor checks the ring too, without notes; the same version checks nothing', async () => {
    let mark = await deployed('3.6.2');
    let told: UpgradeCheck | undefined;
    await deploy('3.6.5', { onUpgrade: (check) => (told = check) });
    expect(told).toEqual({ from: '3.6.2', to: '3.6.5', step: 'patch', notes: [] });
    expect(ringReadsSince(mark)).toHaveLength(1);
    mark = requests().length;
    told = undefined;
    await deploy('3.6.5', { onUpgrade: (check) => (told = check) });
    expect(told).toBeUndefined();
    expect(ringReadsSince(mark)).toHaveLength(0);
  });
});

describe('refused before anything is sent', () => {
  test('a downgrade across minors, unless allowDowngrade', async () => {
    const mark = await deployed('3.6.2');
    const refusal = deploy('3.5.4');
    await expect(refusal).rejects.toThrow(UpgradeRefusedError);
    await expect(refusal).rejects.toThrow(
      /spec\.version: 3\.5\.4 is older than the running Loki 3\.6\.2.*--allow-downgrade/,
    );
    expect(sentSince(mark)).toEqual([]);
    expect(await liveVersion()).toBe('3.6.2');

    await deploy('3.5.4', { allowDowngrade: true });
    expect(await liveVersion()).toBe('3.5.4');
  });

  test('skipping a minor (3.5 -> 3.7), unless allowSkip', async () => {
    const mark = await deployed('3.5.4');
    await expect(deploy('3.7.8')).rejects.toThrow(/3\.7\.8 skips Loki 3\.6 \(running: 3\.5\.4\).*--allow-skip/);
    expect(sentSince(mark)).toEqual([]);

    let told: UpgradeCheck | undefined;
    await deploy('3.7.8', { allowSkip: true, onUpgrade: (check) => (told = check) });
    expect(told?.step).toBe('skip');
    expect(new Set(told!.notes.map((note) => note.minor))).toEqual(new Set(['3.6', '3.7']));
    expect(await liveVersion()).toBe('3.7.8');
  });

  test('an ingester that is not ACTIVE in the ring', async () => {
    const mark = await deployed('3.6.2');
    fixture.running.server.processes.setRingState('loki', 'loki-ingester-0', 'LEAVING');
    const refusal = deploy('3.7.8');
    await expect(refusal).rejects.toThrow(UpgradeNotReadyError);
    await expect(refusal).rejects.toThrow(
      /not changing stack loki\/loki from Loki 3\.6\.2 to 3\.7\.8: ingester loki-ingester-0 is LEAVING in the ring/,
    );
    expect(sentSince(mark)).toEqual([]);

    // An ingester missing from the ring altogether.
    fixture.running.server.processes.setRingState('loki', 'loki-ingester-0', null);
    await expect(deploy('3.7.8')).rejects.toThrow(/the ring has 0 ingesters of 1/);
    expect(sentSince(mark)).toEqual([]);

    fixture.running.server.processes.setRingState('loki', 'loki-ingester-0', undefined);
    await deploy('3.7.8');
    expect(await liveVersion()).toBe('3.7.8');
  });

  test('a failing pod, named with its reason', async () => {
    await deployed('3.6.2');
    fixture.running.server.cluster.fail({ workload: 'loki-ingester' }, 'crashLoop');
    await eventually(async () => {
      const status = await getStackStatus(fixture.connection, { name: 'loki', namespace: 'loki' }, FAST_RETRY);
      return status.components.ingester?.notReady.some((pod) => pod.failing);
    }, 'the ingester to be failing');
    const mark = requests().length;
    const refusal = deploy('3.7.8');
    await expect(refusal).rejects.toThrow(UpgradeNotReadyError);
    await expect(refusal).rejects.toThrow(/a pod is failing \(loki-ingester-0: (CrashLoopBackOff|Error)/);
    expect(sentSince(mark)).toEqual([]);
  });
});

describe('the CLI', () => {
  const directory = mkdtempSync(join(tmpdir(), 'preflight-spec-'));
  const run = (args: string[]) => runCli(fixture, args);

  test('apply: 2 for a refused version change, 3 for a stack not fit for it, 0 with the notes on stderr', async () => {
    await deployed('3.6.2');
    const spec = join(directory, 'spec.yaml');
    writeFileSync(
      spec,
      'apiVersion: loki-microservices/v1alpha1\nkind: LokiMicroservices\nmetadata: {name: loki, namespace: loki}\nspec: {profile: demo}\n',
    );
    let mark = requests().length;
    const down = await run(['apply', '-f', spec, '--set', 'spec.version=3.5.4']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/spec\.version: 3\.5\.4 is older .*re-run with --allow-downgrade/);
    expect(sentSince(mark)).toEqual([]);

    fixture.running.server.processes.setRingState('loki', 'loki-ingester-0', 'UNHEALTHY');
    mark = requests().length;
    const ring = await run(['apply', '-f', spec, '--set', 'spec.version=3.7.8']);
    expect(ring.code).toBe(3);
    expect(ring.stderr).toMatch(/^error: not changing stack loki\/loki .*ingester loki-ingester-0 is UNHEALTHY/m);
    expect(sentSince(mark)).toEqual([]);
    fixture.running.server.processes.setRingState('loki', 'loki-ingester-0', undefined);

    const up = await run(['apply', '-f', spec, '--set', 'spec.version=3.7.8']);
    expect(up.code).toBe(0);
    expect(up.stderr).toContain('Loki 3.6.2 -> 3.7.8: the pre-flight of the version change passed\n');
    expect(up.stderr).toMatch(/^ {2}- Loki 3\.7: BREAKING: labels a query parser extracts/m);
  });
});
