// The bundled Action's `command: upgrade-test` run the way the runner runs it, against the test API server (whose
// in-memory Loki keeps the pushed lines across the upgrade): Loki 3.6 deployed, lines pushed, 3.7 rolled out in
// waves, every line read back and a smoke test, on Node 20 and on GitHub's Node 24; a wave that does not get ready
// fails the step naming it, with the later waves untouched; bad upgrade inputs fail before any request.
import { startFixture, type Fixture } from '../cluster/fixture.js';
import { runAction, type ActionRun } from './run-action.js';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

afterEach(() => {
  fixture.running.server.cluster.heal();
});

type Json = Record<string, any>;

const OLD = '3.6.2';
const NEW = '3.7.8';
const NODE24 = process.env.NODE24;
/** The waves of an upgrade, servers before clients (as test/__tests__/cluster/waves.test.ts has them). */
const WAVES = [
  'compactor',
  'index-gateway',
  'ingester',
  'query-scheduler',
  'querier',
  'query-frontend',
  'ruler',
  'distributor',
];

const withCluster = (inputs: Record<string, string>) => ({
  kubeconfig: fixture.running.kubeconfigPath,
  command: 'upgrade-test',
  'upgrade-from': OLD,
  version: NEW,
  ...inputs,
});

/** Each Loki workload's image tag, by component. */
function versions(namespace: string): Record<string, string> {
  const api = fixture.running.server.api;
  return Object.fromEntries(
    (['Deployment', 'StatefulSet'] as const).flatMap((kind) =>
      (api.list(kind, namespace, {}) as Json[])
        .filter((workload) => workload.metadata.labels?.['app.kubernetes.io/name'] === 'loki')
        .map((workload) => [
          workload.metadata.labels['app.kubernetes.io/component'] as string,
          (workload.spec.template.spec.containers as Json[])
            .find((container) => container.name === 'loki')!
            .image.split(':')
            .pop() as string,
        ]),
    ),
  );
}

describe.each([
  ['Node 20', undefined, 'u-upgrade-20'],
  ['Node 24', NODE24, 'u-upgrade-24'],
])('upgrade-test from 3.6 to 3.7 on %s', (_, node, namespace) => {
  let result: ActionRun;

  beforeAll(async () => {
    result = await runAction({ node, inputs: withCluster({ namespace, 'upgrade-lines': '150' }) });
  }, 6 * 60_000);

  test('succeeds: deploy, push, the upgrade in waves, the read-back and the smoke test, a log group each', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const group of [
      `${OLD}: apply`,
      `${OLD}: wait`,
      `${OLD}: smoke test`,
      'push 150 lines',
      `${NEW}: apply`,
      `${NEW}: wait`,
      'read back',
      'smoke test',
    ])
      expect(result.stdout).toContain(`::group::${group}\n`);
    expect(result.stdout).toMatch(new RegExp(`the pre-flight of Loki ${OLD} -> ${NEW} passed`));
  });

  test('output upgrade: every line read back, and one entry per wave in wave order, with its duration', () => {
    const upgrade = JSON.parse(result.outputs.upgrade!) as Json;
    expect(result.outputs.upgrade).not.toContain('\n');
    expect(upgrade).toMatchObject({ from: OLD, to: NEW, lines: { pushed: 150, read: 150 } });
    expect(upgrade.failedWave).toBeUndefined();
    expect((upgrade.waves as Json[]).map((wave) => wave.number)).toEqual(WAVES.map((_, i) => i + 1));
    expect((upgrade.waves as Json[]).map((wave) => wave.components)).toEqual(WAVES.map((component) => [component]));
    for (const wave of upgrade.waves as Json[]) expect(wave.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.outputs.ready).toBe('true');
    expect((JSON.parse(result.outputs.status!) as Json).version).toBe(NEW);
  });

  test('the summary: the waves with their durations, the lines read back, the release notes; the stack at 3.7', () => {
    const { summary } = result;
    expect(summary).toContain(`<h2>✅ Loki stack ${namespace}/loki: upgrade test: Ready</h2>`);
    expect(summary).toContain(
      `Upgrade from Loki <code>${OLD}</code> to <code>${NEW}</code>: lines read back <b>150/150</b>`,
    );
    const rows = [...summary.matchAll(/<tr><td>(\d+)<\/td><td>([a-z-]+)<\/td><td>([\d.]+ s)<\/td><\/tr>/g)];
    expect(rows.map((row) => [Number(row[1]), row[2]])).toEqual(WAVES.map((component, i) => [i + 1, component]));
    expect(summary).toContain('<h3>Release notes that concern this stack</h3>');
    expect(summary).toMatch(/<li>Loki 3\.7: .*release notes<\/a>\)<\/li>/);
    expect(summary).toMatch(/<td>read back<\/td><td>[\d.]+ s<\/td><td>150\/150 lines, in order<\/td>/);
    expect(summary).toContain(`Loki ${NEW}, namespace <code>${namespace}</code>`);
    expect(Object.values(versions(namespace))).toEqual(Object.values(versions(namespace)).map(() => NEW));
  });
});

describe('an upgrade whose ingester wave does not get ready', () => {
  const namespace = 'u-failing';
  let result: ActionRun;

  beforeAll(async () => {
    // The new ingester pods crash; the old ones (3.6) run.
    fixture.running.server.cluster.fail({ namespace, workload: 'loki-ingester', image: `:${NEW}` }, 'crashLoop');
    result = await runAction({ inputs: withCluster({ namespace, timeout: '5m' }) });
  }, 6 * 60_000);

  test('fails the step naming the wave, with the way back; the later waves are untouched', () => {
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(
        `^::error::rollout to Loki ${NEW.replace(/\./g, '\\.')} stopped at wave 3/8 \\(ingester\\); waves 4 to 8 were not changed\\. To roll back, apply Loki ${OLD.replace(/\./g, '\\.')} again`,
        'm',
      ),
    );
    expect(result.stdout).toMatch(/^::error title=Loki ingester not ready::ingester /m);
    expect(result.stdout).not.toContain('::group::read back');
    const live = versions(namespace);
    expect([live.compactor, live['index-gateway'], live.ingester]).toEqual([NEW, NEW, NEW]);
    for (const later of WAVES.slice(3)) expect([later, live[later]]).toEqual([later, OLD]);
  });

  test('the upgrade output and the summary: the waves that got ready, the one that did not, no lines read', () => {
    const upgrade = JSON.parse(result.outputs.upgrade!) as Json;
    expect(upgrade).toMatchObject({
      from: OLD,
      to: NEW,
      lines: { pushed: 100, read: 0 },
      failedWave: { number: 3, components: ['ingester'] },
    });
    expect((upgrade.waves as Json[]).map((wave) => wave.components[0])).toEqual(['compactor', 'index-gateway']);
    expect(result.outputs.ready).toBe('false');
    const { summary } = result;
    expect(summary).toContain('<tr><td>3</td><td>ingester</td><td>❌ not ready</td></tr>');
    expect(summary).toContain('lines read back <b>0/100</b>');
    expect(summary).toMatch(/<h3>Pods not ready<\/h3>/);
    expect(summary).toContain('<h3>Error</h3>');
  });
});

describe('bad upgrade inputs fail before anything is sent to the cluster', () => {
  const cases: { name: string; inputs: Record<string, string>; message: string }[] = [
    {
      name: 'no upgrade-from',
      inputs: { 'upgrade-from': '' },
      message: 'input "upgrade-from" is required by command upgrade-test',
    },
    {
      name: 'an upgrade-from that is not a release',
      inputs: { 'upgrade-from': 'latest' },
      message: 'spec.version (input "upgrade-from"): must be a Loki 3.x release',
    },
    {
      name: 'an unsupported upgrade-from',
      inputs: { 'upgrade-from': '3.1.0' },
      message: 'spec.version (input "upgrade-from"): must be Loki 3.4 to 3.7',
    },
    {
      name: 'the same version',
      inputs: { 'upgrade-from': NEW },
      message: `input "upgrade-from" must differ from the version upgraded to (input "version" or spec.version): both are ${NEW}`,
    },
    {
      name: 'a skipped minor',
      inputs: { 'upgrade-from': '3.5.0' },
      message:
        'input "upgrade-from": 3.7.8 skips Loki 3.6 (running: 3.5.0): upgrade one minor at a time, to 3.6.x first; re-run with allow-skip: true',
    },
    {
      name: 'a downgrade',
      inputs: { 'upgrade-from': NEW, version: OLD },
      message: `input "upgrade-from": ${OLD} is older than Loki ${NEW}`,
    },
    {
      name: 'an allow-skip that is not a boolean',
      inputs: { 'upgrade-from': '3.5.0', 'allow-skip': 'yes' },
      message: 'input "allow-skip" must be true or false, not "yes"',
    },
    {
      name: 'a bad line count',
      inputs: { 'upgrade-lines': '0' },
      message: 'input "upgrade-lines" must be a whole number from 1 to 5000, not "0"',
    },
  ];

  test.each(cases)('$name', async ({ inputs, message }) => {
    const before = fixture.running.server.faults.requests.length;
    const result = await runAction({ inputs: withCluster({ namespace: 'u-bad', ...inputs }) });
    expect(result.code).toBe(1);
    const error = result.stdout.split('\n').find((line) => line.startsWith('::error::'));
    expect(decodeURIComponent(error!.replace(/%0A/g, '\n'))).toContain(message);
    expect(error).toContain('Nothing was sent to the cluster.');
    expect(fixture.running.server.faults.requests.length).toBe(before);
    expect(result.state).toEqual({});
  });
});
