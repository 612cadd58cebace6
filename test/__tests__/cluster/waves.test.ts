// An upgrade rolled out in waves on the test API server: ConfigMaps and Services first, then one component at a
// time, servers before clients, each wave ready before the next is patched; a failing wave stops the rollout with
// the later waves untouched; --verify-each-wave smoke-tests between waves; plan and status show the waves.
import { jest } from '@jest/globals';
import {
  deployStack,
  NotReadyError,
  ZoneMigrationRefusedError,
  planStack,
  getStackStatus,
  wavesOf,
  type LokiStack,
  type StackStatus,
} from 'loki-microservices';
import { eventually, recordTimeline, runCli, startFixture, stackOf, type Fixture } from './fixture.js';

jest.setTimeout(180_000);

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

/** The CLI through its built bin, as users run it. */
const cli = (args: string[]) => runCli(fixture, args);

const OLD = '3.6.2';
const NEW = '3.7.8';

const stackAt = (namespace: string, version: string): LokiStack =>
  stackOf({ metadata: { namespace }, spec: { version, components: { ingester: { replicas: 3 } } } });

interface Workload {
  kind: string;
  metadata: { name: string; generation?: number; labels?: Record<string, string> };
  spec: {
    replicas?: number;
    template: {
      metadata?: { annotations?: Record<string, string> };
      spec: { containers: { name: string; image: string }[] };
    };
  };
  status?: { observedGeneration?: number; replicas?: number; readyReplicas?: number; updatedReplicas?: number };
}

function workloads(namespace: string): Workload[] {
  const api = fixture.running.server.api;
  return (['Deployment', 'StatefulSet'] as const).flatMap((kind) =>
    (api.list(kind, namespace, {}) as unknown as Workload[]).map((workload) => ({ ...workload, kind })),
  );
}

const imageOf = (workload: Workload) =>
  workload.spec.template.spec.containers.find((container) => container.name === 'loki')?.image;

/** Rolled to `version`: the template, seen by the controller, every pod updated and ready. */
function rolledTo(workload: Workload, version: string): boolean {
  const { status = {}, spec, metadata } = workload;
  const replicas = spec.replicas ?? 1;
  return (
    imageOf(workload)?.endsWith(`:${version}`) === true &&
    (status.observedGeneration ?? 0) >= (metadata.generation ?? 0) &&
    status.updatedReplicas === replicas &&
    status.readyReplicas === replicas &&
    status.replicas === replicas
  );
}

/** Each PATCH of a workload (apply's, not dry runs), with the workloads as they were when it arrived. */
function recordWorkloadPatches(namespace: string) {
  const patches: { name: string; before: Workload[] }[] = [];
  const requests = fixture.running.server.faults.requests;
  const push = requests.push.bind(requests);
  const pattern = new RegExp(`^/apis/apps/v1/namespaces/${namespace}/(deployments|statefulsets)/([^/?]+)`);
  requests.push = (...records) => {
    for (const record of records) {
      const match = pattern.exec(record.path);
      if (record.method === 'PATCH' && match && !record.path.includes('dryRun'))
        patches.push({ name: match[2]!, before: workloads(namespace) });
    }
    return push(...records);
  };
  return { patches, stop: () => (requests.push = push) };
}

async function installed(namespace: string): Promise<void> {
  await deployStack(fixture.connection, stackAt(namespace, OLD), { timeoutMs: 60_000, wait: true });
}

test('an upgrade rolls wave by wave: each wave patched only once the waves before it run the new version, ready', async () => {
  const namespace = 'waves-upgrade';
  await installed(namespace);
  const stack = stackAt(namespace, NEW);
  const waves = wavesOf(stack);
  const events = recordTimeline(fixture.running);
  const recorder = recordWorkloadPatches(namespace);
  const heard: string[] = [];
  let deployed;
  try {
    deployed = await deployStack(fixture.connection, stack, {
      timeoutMs: 120_000,
      wait: true,
      onWave: (wave) => {
        heard.push(`wave ${wave.number}/${wave.total} ${wave.components.join()} from ${wave.from} to ${wave.to}`);
      },
    });
  } finally {
    recorder.stop();
  }

  expect(heard).toEqual(
    waves.map((wave) => `wave ${wave.number}/${waves.length} ${wave.components[0]} from ${OLD} to ${NEW}`),
  );
  const waveOf = (name: string) => waves.find((wave) => `loki-${wave.components[0]}` === name)?.number;
  const lokiPatches = recorder.patches.filter((patch) => waveOf(patch.name) !== undefined);
  // In wave order, each workload once.
  expect(lokiPatches.map((patch) => waveOf(patch.name))).toEqual(waves.map((wave) => wave.number));
  for (const patch of lokiPatches) {
    const number = waveOf(patch.name)!;
    for (const workload of patch.before) {
      const earlier = waveOf(workload.metadata.name);
      if (earlier === undefined) continue;
      // Every earlier wave has rolled and is ready; every later one still runs the old template.
      if (earlier < number)
        expect({ [workload.metadata.name]: rolledTo(workload, NEW) }).toEqual({ [workload.metadata.name]: true });
      else
        expect({ [workload.metadata.name]: imageOf(workload) }).toEqual({
          [workload.metadata.name]: expect.stringMatching(`:${OLD}$`),
        });
    }
  }
  // ConfigMaps and Services before the first workload.
  const sent = events.filter((event) => event.at === 'sent' && event.method === 'PATCH');
  const firstWorkload = sent.findIndex((event) => /\/(deployments|statefulsets)\//.test(event.path));
  const lastOf = (resource: string) => sent.map((event) => event.path.includes(`/${resource}/`)).lastIndexOf(true);
  expect(lastOf('configmaps')).toBeGreaterThanOrEqual(0);
  expect(lastOf('configmaps')).toBeLessThan(firstWorkload);
  expect(lastOf('services')).toBeLessThan(firstWorkload);

  // The end state: every Loki workload at the new version; the result lists the waves with their durations.
  expect(
    workloads(namespace)
      .filter((w) => waveOf(w.metadata.name))
      .every((w) => rolledTo(w, NEW)),
  ).toBe(true);
  expect(deployed.status?.condition.type).toBe('Ready');
  expect(deployed.status?.upgrade).toBeUndefined();
  expect(deployed.rollout).toEqual({ from: OLD, to: NEW });
  expect(deployed.timeline.waves).toEqual(
    waves.map((wave) =>
      expect.objectContaining({
        number: wave.number,
        of: waves.length,
        components: wave.components,
        durationMs: expect.any(Number),
        changed: true,
      }),
    ),
  );
});

test('a change that keeps the version rolls all at once, unless waves are asked for', async () => {
  const namespace = 'waves-same-version';
  await installed(namespace);
  const changed = stackOf({
    metadata: { namespace },
    spec: { version: OLD, components: { ingester: { replicas: 3 } }, limits: { maxQuerySeries: 1000 } },
  });
  const heard: number[] = [];
  const once = await deployStack(fixture.connection, changed, {
    timeoutMs: 60_000,
    wait: true,
    onWave: (wave) => void heard.push(wave.number),
  });
  expect(heard).toEqual([]);
  expect(once.rollout).toBeUndefined();
  const always = await deployStack(fixture.connection, stackAt(namespace, OLD), {
    timeoutMs: 60_000,
    waves: 'always',
    onWave: (wave) => void heard.push(wave.number),
  });
  expect(heard).toEqual(wavesOf(changed).map((wave) => wave.number));
  expect(always.rollout).toEqual({ from: OLD, to: OLD });
});

test('declared rules are checked once, after the last wave, not after each', async () => {
  const namespace = 'waves-rules';
  const rules = {
    inline: { fake: [{ name: 'smoke', rules: [{ alert: 'A', expr: 'count_over_time({job="a"}[5m]) > 0' }] }] },
  };
  const at = (version: string) =>
    stackOf({ metadata: { namespace }, spec: { version, components: { ingester: { replicas: 3 } }, rules } });
  await deployStack(fixture.connection, at(OLD), { timeoutMs: 60_000, wait: true });
  const phases: string[] = [];
  const rulerForwards = () =>
    fixture.running.server.faults.requests.filter((r) => /\/pods\/loki-ruler-\d+\/portforward/.test(r.path)).length;
  const before = rulerForwards();
  const deployed = await deployStack(fixture.connection, at(NEW), {
    timeoutMs: 120_000,
    wait: true,
    onWave: (wave) => void phases.push(`wave ${wave.number}`),
    onPhase: (phase) => void phases.push(phase),
  });
  expect(phases.filter((phase) => phase === 'rules')).toEqual(['rules']);
  expect(phases.at(-1)).toBe('rules');
  expect(phases.filter((phase) => phase.startsWith('wave ')).length).toBe(wavesOf(at(NEW)).length);
  expect(deployed.rules).toEqual({ loaded: 1, problems: [] });
  // One read of the rules API (one tenant, loaded at once): one port-forward to a ruler in the whole rollout.
  expect(rulerForwards() - before).toBe(1);
});

test('a crash-looping new ingester stops the rollout at wave 3: later waves untouched, the way back named; status shows the upgrade', async () => {
  const namespace = 'waves-failing';
  await installed(namespace);
  fixture.running.server.cluster.fail({ namespace, workload: 'loki-ingester', image: `:${NEW}` }, 'crashLoop');
  const stack = stackAt(namespace, NEW);
  const waves = wavesOf(stack);
  const ingesterWave = waves.find((wave) => wave.components[0] === 'ingester')!.number;
  const failed = deployStack(fixture.connection, stack, { timeoutMs: 20_000, wait: true }).then(
    () => undefined,
    (error: unknown) => error,
  );

  // While the ingester wave is held, status says where the upgrade is (from its usual reads).
  const upgrading = await eventually(
    async () => {
      const status: StackStatus = await getStackStatus(fixture.connection, { name: 'loki', namespace });
      return status.upgrade?.component === 'ingester' && status.upgrade.updated === 1 ? status : undefined;
    },
    'status to show the ingester wave',
    30_000,
    50,
  );
  expect(upgrading.upgrade).toEqual({
    to: NEW,
    wave: ingesterWave,
    waves: waves.length,
    component: 'ingester',
    updated: 1,
    desired: 3,
  });

  const error = await failed;
  expect(error).toBeInstanceOf(NotReadyError);
  const message = (error as Error).message;
  expect(message).toContain(`rollout to Loki ${NEW} stopped at wave ${ingesterWave}/${waves.length} (ingester)`);
  expect(message).toContain(`waves ${ingesterWave + 1} to ${waves.length} were not changed`);
  expect(message).toContain(`--set spec.version=${OLD}`);
  expect(message).toContain('CrashLoopBackOff');
  for (const workload of workloads(namespace)) {
    const number = waves.find((wave) => `loki-${wave.components[0]}` === workload.metadata.name)?.number;
    if (number === undefined) continue;
    const version = number <= ingesterWave ? NEW : OLD;
    expect({ [workload.metadata.name]: imageOf(workload) }).toEqual({
      [workload.metadata.name]: expect.stringMatching(`:${version}$`),
    });
  }
  // The lock was let go.
  expect(fixture.running.server.store.get('Lease', namespace, 'loki-loki-microservices')).toBeUndefined();
});

test('--verify-each-wave smoke-tests the stack after each wave, before the next is patched', async () => {
  const namespace = 'waves-verified';
  await installed(namespace);
  const stack = stackAt(namespace, NEW);
  const waves = wavesOf(stack);
  const events = recordTimeline(fixture.running);
  await deployStack(fixture.connection, stack, { timeoutMs: 120_000, verifyEachWave: true });
  const sent = events.filter(
    (event) =>
      (event.at === 'sent' && event.path.startsWith(`/api/v1/namespaces/${namespace}/`)) ||
      event.path.startsWith(`/apis/apps/v1/namespaces/${namespace}/`),
  );
  const isPush = (event: { method: string; path: string }) =>
    event.method === 'POST' && event.path.endsWith('/loki/api/v1/push');
  const patchOf = (name: string) =>
    sent.findIndex(
      (event) => event.method === 'PATCH' && new RegExp(`/(deployments|statefulsets)/${name}\\b`).test(event.path),
    );
  const starts = waves.map((wave) => patchOf(`loki-${wave.components[0]}`));
  expect(starts.every((start, index) => start >= 0 && (index === 0 || start > starts[index - 1]!))).toBe(true);
  const bounds = [...starts, sent.length];
  for (let index = 0; index < waves.length; index++)
    expect({ wave: index + 1, pushes: sent.slice(bounds[index], bounds[index + 1]).filter(isPush).length > 0 }).toEqual(
      { wave: index + 1, pushes: true },
    );
});

test('plan shows the waves an upgrade rolls in', async () => {
  const namespace = 'waves-plan';
  await installed(namespace);
  const plan = await planStack(fixture.connection, stackAt(namespace, NEW));
  const waves = wavesOf(stackAt(namespace, NEW));
  expect(plan.waves).toEqual(
    waves.map((wave) => ({
      number: wave.number,
      components: wave.components,
      pods: wave.components[0] === 'ingester' ? 3 : 1,
    })),
  );
  const same = await planStack(fixture.connection, stackAt(namespace, OLD));
  expect(same.waves).toBeUndefined();
});

describe('the CLI', () => {
  const args = (namespace: string, version: string) => [
    'apply',
    '--set',
    `metadata.namespace=${namespace}`,
    '--set',
    `spec.version=${version}`,
    '--set',
    'spec.components.ingester.replicas=3',
  ];

  test('apply of a new version rolls in waves and says so; -o json has the waves', async () => {
    const namespace = 'waves-cli';
    await installed(namespace);
    const result = await cli([...args(namespace, NEW), '-o', 'json']);
    expect(result.code).toBe(0);
    const waves = wavesOf(stackAt(namespace, NEW));
    expect(result.stderr).toContain(`wave 3/${waves.length}: ingester, waiting until it is ready\n`);
    expect(result.stderr).toMatch(new RegExp(`wave 3/${waves.length} ingester: ready after \\d+\\.\\d s\n`));
    const output = JSON.parse(result.stdout) as { rollout: unknown; timeline: { waves: { number: number }[] } };
    expect(output.rollout).toEqual({ from: OLD, to: NEW });
    expect(output.timeline.waves.map((wave) => wave.number)).toEqual(waves.map((wave) => wave.number));
  });

  test('apply refuses to switch a running stack to zones (exit 2, naming --migrate-zones); plan shows the steps', async () => {
    const namespace = 'zones-cli';
    await installed(namespace);
    const zones = [
      ...args(namespace, OLD),
      '--set',
      'spec.replicationFactor=3',
      '--set',
      'spec.zoneAwareness.enabled=true',
    ];
    const refused = await cli(zones);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('spec.zoneAwareness.enabled: replaces the running ingesters ("loki-ingester")');
    expect(refused.stderr).toContain('Re-run with --migrate-zones to go ahead');
    const plan = await cli(['plan', ...zones.slice(1)]);
    expect(plan.stdout).toContain('StatefulSet loki-ingester: replaces the running ingesters');
    expect(plan.stdout).toContain(
      '(1) the StatefulSets loki-ingester-zone-a, loki-ingester-zone-b, loki-ingester-zone-c run (those missing are created) beside loki-ingester',
    );
    const migrated = await cli([...zones, '--migrate-zones']);
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).toContain(': ingester zone a, waiting until it is ready\n');
    expect(migrated.stderr).toMatch(/wave \d+\/\d+ ingester zone c: ready after \d+\.\d s\n/);
  });

  test('a failing wave exits 3 with the diagnosis and the command that rolls back', async () => {
    const namespace = 'waves-cli-failing';
    await installed(namespace);
    fixture.running.server.cluster.fail({ namespace, workload: 'loki-ingester', image: `:${NEW}` }, 'crashLoop');
    const result = await cli([...args(namespace, NEW), '--timeout', '20s']);
    expect(result.code).toBe(3);
    const waves = wavesOf(stackAt(namespace, NEW)).length;
    expect(result.stderr).toContain(`error: rollout to Loki ${NEW} stopped at wave 3/${waves} (ingester)`);
    expect(result.stderr).toContain(
      `To roll back, apply Loki ${OLD} again: loki-microservices apply --set metadata.namespace=${namespace} --set spec.components.ingester.replicas=3 --set spec.version=${OLD}.`,
    );
    expect(result.stderr).toContain('CrashLoopBackOff');
    const distributor = fixture.running.server.store.get(
      'Deployment',
      namespace,
      'loki-distributor',
    ) as unknown as Workload;
    expect(imageOf(distributor)).toMatch(`:${OLD}`);
  });
});

describe('zone-aware ingesters', () => {
  const ZONES = ['b', 'c', 'a'];
  const zoned = (namespace: string, spec: Record<string, unknown> = {}) =>
    stackOf({
      metadata: { namespace },
      spec: { version: OLD, replicationFactor: 3, zoneAwareness: { enabled: true, zones: ZONES }, ...spec },
    });
  const zoneOf = (workload: Workload) => workload.metadata.labels?.['loki-microservices/zone'];
  const hashOf = (workload: Workload) =>
    workload.spec.template.metadata?.annotations?.['loki-microservices/config-hash'];
  const zoneSets = (namespace: string) => workloads(namespace).filter(zoneOf);
  /** Rolled to the config `hash`: the template, seen by the controller, every pod updated and ready. */
  const rolledTo = (workload: Workload, hash: string | undefined) => {
    const { status = {}, spec, metadata } = workload;
    const replicas = spec.replicas ?? 1;
    return (
      hashOf(workload) === hash &&
      (status.observedGeneration ?? 0) >= (metadata.generation ?? 0) &&
      status.updatedReplicas === replicas &&
      status.readyReplicas === replicas
    );
  };

  test('a change of configuration rolls one zone at a time, in the order of the spec, each ready before the next is patched', async () => {
    const namespace = 'zones-roll';
    await deployStack(fixture.connection, zoned(namespace), { timeoutMs: 60_000, wait: true });
    const oldHash = hashOf(zoneSets(namespace)[0]!);
    const heard: string[] = [];
    const recorder = recordWorkloadPatches(namespace);
    try {
      // The default (`upgrade`) would roll a change that keeps the version all at once; zones roll in waves.
      await deployStack(fixture.connection, zoned(namespace, { limits: { maxQuerySeries: 1000 } }), {
        timeoutMs: 120_000,
        wait: true,
        onWave: (wave) => void heard.push(`${wave.components.join()}${wave.zone ? ` ${wave.zone}` : ''}`),
      });
    } finally {
      recorder.stop();
    }
    const newHash = hashOf(zoneSets(namespace)[0]!);
    expect(newHash).not.toBe(oldHash);
    expect(heard.filter((wave) => wave.startsWith('ingester'))).toEqual(ZONES.map((zone) => `ingester ${zone}`));
    const zonePatches = recorder.patches.filter((patch) => patch.name.startsWith('loki-ingester-zone-'));
    expect(zonePatches.map((patch) => patch.name)).toEqual(ZONES.map((zone) => `loki-ingester-zone-${zone}`));
    for (const [index, patch] of zonePatches.entries()) {
      for (const workload of patch.before.filter(zoneOf)) {
        const name = workload.metadata.name;
        // The zones before have rolled and are ready; this one and those after still run the old configuration.
        if (ZONES.indexOf(zoneOf(workload)!) < index)
          expect({ [name]: rolledTo(workload, newHash) }).toEqual({ [name]: true });
        else expect({ [name]: hashOf(workload) }).toEqual({ [name]: oldHash });
      }
    }
    expect(zoneSets(namespace).every((workload) => rolledTo(workload, newHash))).toBe(true);
  });

  test('plan counts the ingesters of every zone: fewer per zone is a scale-down', async () => {
    const namespace = 'zones-plan';
    await deployStack(fixture.connection, zoned(namespace, { components: { ingester: { replicas: 2 } } }), {
      timeoutMs: 60_000,
    });
    const plan = await planStack(fixture.connection, zoned(namespace));
    expect(plan.warnings).toContainEqual({
      code: 'IngestersScaledDown',
      message: expect.stringContaining('ingesters scale down from 6 to 3'),
    });
  });

  test('switching a running stack to zones is refused before anything is sent; plan names the option and the steps; with it, the zones come first and the old ingesters go last', async () => {
    const namespace = 'zones-migrate';
    const single = stackOf({
      metadata: { namespace },
      spec: { version: OLD, replicationFactor: 3, components: { ingester: { replicas: 3 } } },
    });
    await deployStack(fixture.connection, single, { timeoutMs: 60_000, wait: true });
    const sent = recordTimeline(fixture.running);
    const refused = deployStack(fixture.connection, zoned(namespace), { timeoutMs: 60_000, wait: true });
    await expect(refused).rejects.toThrow(ZoneMigrationRefusedError);
    await expect(refused).rejects.toThrow(/--migrate-zones/);
    const writes = (events: typeof sent) =>
      events.filter((e) => e.at === 'sent' && e.method !== 'GET' && !e.path.includes('dryRun'));
    // Only the stack's lock is taken (and given back).
    expect(writes(sent).filter((e) => !e.path.includes('/leases'))).toEqual([]);
    expect(zoneSets(namespace)).toEqual([]);

    const plan = await planStack(fixture.connection, zoned(namespace));
    expect(plan.blockers).toContainEqual({
      kind: 'StatefulSet',
      name: 'loki-ingester',
      message: expect.stringContaining('Re-run with --migrate-zones'),
    });
    const accepted = await planStack(fixture.connection, zoned(namespace), { migrateZones: true });
    expect(accepted.blockers).toEqual([]);
    expect(accepted.warnings).toContainEqual({
      code: 'ZonesMigrated',
      message: expect.stringContaining('loki-ingester-zone-b, loki-ingester-zone-c, loki-ingester-zone-a'),
    });

    sent.length = 0;
    const recorder = recordWorkloadPatches(namespace);
    let deployed;
    try {
      deployed = await deployStack(fixture.connection, zoned(namespace), {
        timeoutMs: 120_000,
        wait: true,
        migrateZones: true,
      });
    } finally {
      recorder.stop();
    }
    expect(deployed.status?.condition.type).toBe('Ready');
    expect(zoneSets(namespace).map((workload) => workload.metadata.name)).toEqual(
      expect.arrayContaining(ZONES.map((zone) => `loki-ingester-zone-${zone}`)),
    );
    expect(workloads(namespace).map((workload) => workload.metadata.name)).not.toContain('loki-ingester');
    const order = writes(sent).map((e) => `${e.method} ${e.path.split('?')[0]!.split('/').slice(-2).join('/')}`);
    const deleted = order.indexOf('DELETE statefulsets/loki-ingester');
    expect(deleted).toBeGreaterThan(-1);
    for (const zone of ZONES) {
      const created = order.indexOf(`PATCH statefulsets/loki-ingester-zone-${zone}`);
      expect({ zone, created: created > -1 && created < deleted }).toEqual({ zone, created: true });
    }
    // The old ingesters leave one at a time, after the zones: 3 → 2 → 1 → 0, each pod gone before the next stops.
    const drained = recorder.patches.filter((patch) => patch.name === 'loki-ingester');
    expect(drained).toHaveLength(3);
    expect(order.filter((step) => step === 'PATCH statefulsets/loki-ingester')).toHaveLength(3);
    expect(order.lastIndexOf('PATCH statefulsets/loki-ingester')).toBeLessThan(deleted);
    for (const [index, patch] of drained.entries()) {
      const old = patch.before.find((workload) => workload.metadata.name === 'loki-ingester')!;
      expect({ scaledTo: old.spec.replicas, pods: old.status?.replicas }).toEqual({
        scaledTo: 3 - index,
        pods: 3 - index,
      });
      for (const zone of ZONES) {
        const set = patch.before.find((workload) => workload.metadata.name === `loki-ingester-zone-${zone}`);
        expect({ zone, ready: set?.status?.readyReplicas }).toEqual({ zone, ready: 1 });
      }
    }
  });

  test('switching zones off, or renaming them, needs the option too; the old zones then leave one pod at a time, zone after zone', async () => {
    const namespace = 'zones-off';
    await deployStack(fixture.connection, zoned(namespace), { timeoutMs: 60_000, wait: true });
    const single = stackOf({
      metadata: { namespace },
      spec: { version: OLD, replicationFactor: 3, components: { ingester: { replicas: 3 } } },
    });
    const sets = ['a', 'b', 'c'].map((zone) => `loki-ingester-zone-${zone}`);
    await expect(deployStack(fixture.connection, single, { timeoutMs: 60_000 })).rejects.toThrow(
      `replaces the running ingesters (${sets.map((set) => `"${set}"`).join(', ')})`,
    );
    const renamed = stackOf({
      metadata: { namespace },
      spec: { version: OLD, replicationFactor: 3, zoneAwareness: { enabled: true, zones: ['b', 'c', 'd'] } },
    });
    await expect(deployStack(fixture.connection, renamed, { timeoutMs: 60_000 })).rejects.toThrow(
      'replaces the running ingesters ("loki-ingester-zone-a")',
    );
    expect((await planStack(fixture.connection, single)).blockers).toContainEqual(
      expect.objectContaining({ kind: 'StatefulSet', name: 'loki-ingester-zone-a' }),
    );

    const recorder = recordWorkloadPatches(namespace);
    try {
      await deployStack(fixture.connection, single, { timeoutMs: 120_000, wait: true, migrateZones: true });
    } finally {
      recorder.stop();
    }
    expect(workloads(namespace).filter((workload) => workload.metadata.name.startsWith('loki-ingester'))).toEqual([
      expect.objectContaining({ metadata: expect.objectContaining({ name: 'loki-ingester' }) }),
    ]);
    // Each zone scaled to 0 after the one before it is gone, with the new ingesters ready throughout.
    const drained = recorder.patches.filter((patch) => sets.includes(patch.name));
    expect(drained.map((patch) => patch.name)).toEqual(sets);
    for (const [index, patch] of drained.entries()) {
      const before = (name: string) => patch.before.find((workload) => workload.metadata.name === name);
      for (const gone of sets.slice(0, index))
        expect({ gone, left: before(gone)?.status?.replicas ?? 0 }).toEqual({ gone, left: 0 });
      expect(before('loki-ingester')?.status?.readyReplicas).toBe(3);
    }
  });
});
