// Schema periods against the live stack: a change to a period in effect is refused before anything is sent
// (core and CLI, exit 2), and a period appended ahead rolls every Loki pod with both periods in the config.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, jest, test } from '@jest/globals';
import { applyStack, getStackStatus, nextSafeSchemaDate, SchemaChangeError, SpecError } from 'loki-microservices';
import { eventually, FAST_RETRY, stackOf, startFixture, type Fixture } from './fixture.js';

jest.setTimeout(60_000);

const BIN = fileURLToPath(new URL('../../../shared/bin/loki-microservices.js', import.meta.url));
const LIVE = { from: '2024-04-01', store: 'tsdb', version: 'v13', indexPrefix: 'index_' };

let fixture: Fixture;
beforeEach(async () => {
  fixture = await startFixture();
});
afterEach(async () => {
  await fixture.close();
});

const apply = (schemas?: unknown[], options: { allowSchemaWithin24h?: boolean } = {}) =>
  applyStack(fixture.connection, stackOf(schemas ? { spec: { schemas } } : {}), { retry: FAST_RETRY, ...options });
const writes = (from: number) =>
  fixture.running.server.faults.requests.slice(from).filter((request) => request.method !== 'GET');
const lokiConfig = () =>
  (fixture.running.server.store.get('ConfigMap', 'loki', 'loki-config')!.data as Record<string, string>)[
    'config.yaml'
  ]!;
const lokiPods = () =>
  fixture.running.server.api
    .list('Pod', 'loki', { labelSelector: 'app.kubernetes.io/name=loki' })
    .filter((pod) => !pod.metadata.deletionTimestamp)
    // StatefulSet pods keep their names: a replaced pod is a new uid.
    .map((pod) => `${pod.metadata.name}/${pod.metadata.uid}`)
    .sort();

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [BIN, ...args, '--kubeconfig', fixture.running.kubeconfigPath],
      (error, _stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

test('changing the live period in effect is refused before anything is sent, by the core and the CLI (exit 2)', async () => {
  await apply();
  await fixture.running.server.cluster.idle();
  const configBefore = lokiConfig();
  const sent = fixture.running.server.faults.requests.length;

  const changed = [{ ...LIVE, indexPrefix: 'loki_index_' }];
  const refusal = await apply(changed).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(SchemaChangeError);
  expect(refusal).toBeInstanceOf(SpecError);
  expect((refusal as SpecError).issues).toEqual([
    {
      path: 'spec.schemas[0].indexPrefix',
      message: expect.stringContaining(
        `is "index_" on the live stack, where the period from 2024-04-01 is in effect: keep "index_", and add a new period dated ${nextSafeSchemaDate()} or later instead`,
      ),
    },
  ]);
  // A retroactive period, through the CLI: exit 2, the field named.
  const past = await cli([
    'apply',
    '--set',
    `spec.schemas=[${JSON.stringify(LIVE)}, {"from": "2026-01-01", "store": "tsdb", "version": "v13"}]`,
  ]);
  expect(past).toMatchObject({ code: 2 });
  expect(past.stderr).toMatch(/spec\.schemas\[1\]\.from: 2026-01-01 is already past/);

  expect(writes(sent)).toEqual([]);
  expect(fixture.running.server.store.get('Lease', 'loki', 'loki-loki-microservices')).toBeUndefined();
  expect(lokiConfig()).toBe(configBefore);
});

test('a period within 24 h needs --allow-near-schema; one appended ahead rolls every Loki pod with both periods', async () => {
  await apply();
  await fixture.running.server.cluster.idle();
  const podsBefore = lokiPods();
  expect(podsBefore.length).toBeGreaterThan(0);
  const sent = fixture.running.server.faults.requests.length;

  // Tomorrow, if midnight is 2 to 24 h away; the test is not run in the two hours before midnight UTC.
  const now = new Date();
  const near = new Date(Math.floor(now.getTime() / 86_400_000 + 1) * 86_400_000);
  if (near.getTime() - now.getTime() > 2 * 3_600_000) {
    const nearPeriod = { ...LIVE, from: near.toISOString().slice(0, 10) };
    const without = await cli(['apply', '--set', `spec.schemas=${JSON.stringify([LIVE, nearPeriod])}`]);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/starts in less than 24 h.*re-run with --allow-near-schema/);
    expect(writes(sent)).toEqual([]);
  }

  const next = { ...LIVE, from: nextSafeSchemaDate() };
  const result = await apply([LIVE, next]);
  expect(result.objects.filter((object) => object.action === 'configured').map((o) => `${o.kind}/${o.name}`)).toEqual(
    expect.arrayContaining(['ConfigMap/loki-config', 'StatefulSet/loki-ingester', 'Deployment/loki-distributor']),
  );
  expect(lokiConfig()).toContain(`- from: 2024-04-01`);
  expect(lokiConfig()).toContain(`- from: ${next.from}`);
  // Every Loki pod rolls: none of the old pods is left.
  await eventually(
    async () => {
      await fixture.running.server.cluster.idle();
      const pods = lokiPods();
      return pods.length === podsBefore.length && pods.every((pod) => !podsBefore.includes(pod));
    },
    'every Loki pod to be replaced',
    30_000,
  );
  const status = await getStackStatus(fixture.connection, { name: 'loki', namespace: 'loki' }, FAST_RETRY);
  expect(status.schema).toEqual({
    active: { from: '2024-04-01', store: 'tsdb', version: 'v13' },
    next: { from: next.from, store: 'tsdb', version: 'v13' },
  });
  // Applying the same periods again is no change to the schema.
  await expect(apply([LIVE, next])).resolves.toBeDefined();
});
