// The CLI's upgrade-test as users run it, a process against the test API server (whose in-memory Loki keeps the
// pushed lines across the upgrade): Loki 3.6 deployed, lines pushed, 3.7 rolled out in waves, every line read
// back in order and a smoke test, as text and as JSON; a wave that does not get ready exits 3 naming it, with the
// later waves untouched and the report so far; bad input exits 2 before any request.
import { jest } from '@jest/globals';
import { eventually, lokiVersions, runCli, startFixture, type CliRun, type Fixture } from './fixture.js';

jest.setTimeout(6 * 60_000);

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
/** The waves of an upgrade, servers before clients (as waves.test.ts has them). */
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

const upgradeTest = (namespace: string, ...args: string[]) =>
  runCli(fixture, [
    'upgrade-test',
    '--set',
    `metadata.namespace=${namespace}`,
    '--set',
    `spec.version=${NEW}`,
    '--from',
    OLD,
    ...args,
  ]);

describe('an upgrade test that passes', () => {
  let text: CliRun;
  let json: CliRun;

  beforeAll(async () => {
    [text, json] = await Promise.all([
      upgradeTest('up-text', '--lines', '150'),
      upgradeTest('up-json', '--lines', '40', '-o', 'json'),
    ]);
  });

  test('text: 0, each wave in order with its time, 150/150 lines in order, the release notes', () => {
    expect(text.stderr).not.toMatch(/^error/m);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(`upgrade from Loki ${OLD} to ${NEW}:`);
    expect(lines.filter((line) => line.startsWith('  wave '))).toHaveLength(WAVES.length);
    expect(
      lines.flatMap((line) => {
        const match = /^ {2}wave (\d+) ([a-z-]+): ready after \d+\.\d s$/.exec(line);
        return match ? [[Number(match[1]), match[2]]] : [];
      }),
    ).toEqual(WAVES.map((component, i) => [i + 1, component]));
    expect(lines).toContain('lines read back: 150/150 lines, in order');
    expect(lines).toContain('release notes that concern this stack:');
    expect(lines.some((line) => /^ {2}- Loki 3\.7: .*\(https:\/\//.test(line))).toBe(true);
    expect(Object.values(lokiVersions(fixture, 'up-text'))).toEqual(
      Object.values(lokiVersions(fixture, 'up-text')).map(() => NEW),
    );
  });

  test('text: progress on stderr: both deploys, the pre-flight, the push, the waves, the read-back, the smoke tests', () => {
    const { stderr } = text;
    expect(stderr).toMatch(
      new RegExp(`^upgrade test of stack up-text/loki on https://127\\.0\\.0\\.1:\\d+: Loki ${OLD}, 150 lines, then`),
    );
    const order = [
      `Loki ${OLD}: waiting until every component is ready`,
      `Loki ${OLD}: smoke test: pushing a log line`,
      'push 150 lines\n  150 lines accepted, {lines_id="',
      `Loki ${OLD} -> ${NEW}: the pre-flight of the version change passed`,
      `Loki ${NEW}: wave 1/8: compactor, waiting until it is ready`,
      `Loki ${NEW}: wave 8/8: distributor, waiting until it is ready`,
      'read back\n  150/150 lines, in order',
      'smoke test\n  passed: the line was read back',
    ];
    const positions = order.map((part) => stderr.indexOf(part));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  test('again in the same namespace: 2, its Loki is newer than --from (a downgrade), nothing pushed', async () => {
    const again = await upgradeTest('up-text');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      new RegExp(`^error: spec\\.version: ${OLD.replace(/\./g, '\\.')} is older than the running Loki`, 'm'),
    );
    expect(again.stdout).toContain('lines read back: none (not pushed)');
    expect(Object.values(lokiVersions(fixture, 'up-text'))).toEqual(
      Object.values(lokiVersions(fixture, 'up-text')).map(() => NEW),
    );
  });

  test('-o json: the report, every line read back in order, one entry per wave in wave order', () => {
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as Json;
    expect(report).toMatchObject({ from: OLD, to: NEW, lines: { pushed: 40, read: 40, inOrder: true } });
    expect(report.failedWave).toBeUndefined();
    expect((report.waves as Json[]).map((wave) => [wave.number, wave.components])).toEqual(
      WAVES.map((component, i) => [i + 1, [component]]),
    );
    for (const wave of report.waves as Json[]) expect(wave.durationMs).toBeGreaterThanOrEqual(0);
    expect((report.notes as Json[]).length).toBeGreaterThan(0);
    expect((report.notes as Json[]).every((note) => note.minor === '3.7')).toBe(true);
  });
});

describe('an upgrade whose ingester wave does not get ready', () => {
  const namespace = 'up-failing';
  let result: CliRun;

  beforeAll(async () => {
    // The new ingester pods crash; the old ones (3.6) run.
    fixture.running.server.cluster.fail({ namespace, workload: 'loki-ingester', image: `:${NEW}` }, 'crashLoop');
    result = await upgradeTest(namespace, '--timeout', '5m');
  });

  test('3, naming the wave and the way back; the later waves untouched; no lines read', () => {
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: rollout to Loki ${NEW.replace(/\./g, '\\.')} stopped at wave 3/8 \\(ingester\\); waves 4 to 8 were not changed\\. To roll back, apply Loki ${OLD.replace(/\./g, '\\.')} again`,
        'm',
      ),
    );
    expect(result.stderr).not.toMatch(/^read back$/m);
    const live = lokiVersions(fixture, namespace);
    expect([live.compactor, live['index-gateway'], live.ingester]).toEqual([NEW, NEW, NEW]);
    for (const later of WAVES.slice(3)) expect([later, live[later]]).toEqual([later, OLD]);
  });

  test('the report so far on stdout: the waves that got ready, the one that did not, 0 of 100 lines', () => {
    const lines = result.stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('  wave '))).toEqual([
      expect.stringMatching(/^ {2}wave 1 compactor: ready after/),
      expect.stringMatching(/^ {2}wave 2 index-gateway: ready after/),
      '  wave 3 ingester: not ready',
    ]);
    expect(lines).toContain('lines read back: 0/100 lines');
  });
});

describe('an upgrade that loses lines', () => {
  const namespace = 'up-lossy';
  let result: CliRun;

  beforeAll(async () => {
    const running = upgradeTest(namespace, '--lines', '50', '--timeout', '90s', '-o', 'json');
    // Once the new ingester runs (the lines were pushed before the waves), 10 of them are lost.
    await eventually(() => lokiVersions(fixture, namespace).ingester === NEW, 'the ingester wave', 120_000, 50);
    fixture.running.server.processes.loki(namespace, 'loki').loseNewest(10);
    result = await running;
  });

  test('3, saying how many came back; the report has every wave, 40 of 50 lines and no smoke test', () => {
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`error: upgrade test from Loki ${OLD} to ${NEW}: read back 40 of 50 lines\n`);
    expect(result.stderr).not.toMatch(/^smoke test$/m);
    const report = JSON.parse(result.stdout) as Json;
    expect(report.lines).toEqual({ pushed: 50, read: 40, inOrder: false });
    expect((report.waves as Json[]).map((wave) => wave.components[0])).toEqual(WAVES);
    expect(report.failedWave).toBeUndefined();
  });
});

describe('bad input: 2, before any request reaches the server', () => {
  const cases: { name: string; args: string[]; message: string }[] = [
    { name: 'no --from', args: ['--from', ''], message: 'error: --from is required' },
    {
      name: 'a --from that is not a release',
      args: ['--from', 'latest'],
      message: 'spec.version (--from): must be a Loki 3.x release',
    },
    {
      name: 'the same version',
      args: ['--from', NEW],
      message: `error: --from ${NEW}: the version to upgrade from is ${NEW} too: choose an older one`,
    },
    {
      name: 'a skipped minor',
      args: ['--from', '3.5.0'],
      message: `error: --from 3.5.0: ${NEW} skips Loki 3.6 (running: 3.5.0): upgrade one minor at a time, to 3.6.x first; re-run with --allow-skip`,
    },
    {
      name: 'a downgrade',
      args: ['--from', NEW, '--set', `spec.version=${OLD}`],
      message: `error: --from ${NEW}: ${OLD} is older than Loki ${NEW}`,
    },
    {
      name: 'a bad line count',
      args: ['--lines', '0'],
      message: 'error: --lines must be a whole number from 1 to 5000',
    },
    { name: 'a bad timeout', args: ['--timeout', 'soon'], message: 'error: --timeout must be' },
  ];

  test.each(cases)('$name', async ({ args, message }) => {
    const before = fixture.running.server.faults.requests.length;
    const result = await upgradeTest('up-bad', ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(fixture.running.server.faults.requests.length).toBe(before);
  });
});
