// applyStack against the test API server, through the kubeconfig as users connect: what a first apply
// creates, that a second one changes nothing, the order requests go out in, what a changed spec
// configures, pruning, conflicts with another field manager, and dry runs.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { applyStack, ConflictError, renderKubernetes, type AppliedObject, type ApplyOptions } from 'loki-microservices';
import type { KubeObject } from '../../src/apiserver/store.js';
import {
  eventually,
  FAST_RETRY,
  recordTimeline,
  stackOf,
  startFixture,
  storedStackObjects,
  type Fixture,
} from './fixture.js';

let fixture: Fixture;

beforeEach(async () => {
  fixture = await startFixture();
});
afterEach(async () => {
  await fixture.close();
});

const CONFIG_HASH = 'loki-microservices/config-hash';
const LOKI_WORKLOADS = [
  'StatefulSet/loki-compactor',
  'StatefulSet/loki-index-gateway',
  'StatefulSet/loki-ingester',
  'Deployment/loki-distributor',
  'Deployment/loki-querier',
  'Deployment/loki-query-scheduler',
  'Deployment/loki-query-frontend',
  'StatefulSet/loki-ruler',
];

const apply = (document: Record<string, unknown> = {}, options: ApplyOptions = {}) =>
  applyStack(fixture.connection, stackOf(document), { retry: FAST_RETRY, ...options });
const keys = (objects: { kind?: string; metadata?: { name?: string } }[]) =>
  objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
const actions = (objects: AppliedObject[], action: AppliedObject['action']) =>
  objects
    .filter((o) => o.action === action)
    .map((o) => `${o.kind}/${o.name}`)
    .sort();
/** The stored object (namespace `loki`, none for a Namespace), as the server keeps it. */
const stored = (kind: string, name: string, namespace = 'loki'): KubeObject | undefined =>
  fixture.running.server.store.get(kind, kind === 'Namespace' ? undefined : namespace, name);
const mustGet = (kind: string, name: string, namespace = 'loki'): KubeObject => {
  const object = stored(kind, name, namespace);
  if (!object) throw new Error(`${kind} ${name} is not stored`);
  return object;
};
const templateOf = (workload: KubeObject) =>
  (workload.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template;
const idle = () => fixture.running.server.cluster.idle();

describe('a first apply', () => {
  test('creates every rendered object and the generated Secret, and marks the namespace it created', async () => {
    const rendered = renderKubernetes(stackOf());
    const told: AppliedObject[] = [];
    const result = await apply({}, { onObject: (object) => told.push(object) });

    expect(result.dryRun).toBe(false);
    expect(result.namespaceCreated).toBe(true);
    expect(result.objects.map((o) => `${o.kind}/${o.name}`).sort()).toEqual(keys(rendered.objects));
    expect(actions(result.objects, 'created')).toHaveLength(rendered.objects.length);
    expect(told).toEqual(result.objects);
    expect(result.secrets).toEqual([{ name: 'loki-object-store', action: 'created' }]);

    // Stored: the render (the Namespace aside, it carries no stack labels) plus the generated Secret.
    expect(storedStackObjects(fixture.running)).toEqual(
      [...keys(rendered.objects.filter((o) => o.kind !== 'Namespace')), 'Secret/loki-object-store'].sort(),
    );
    const namespace = mustGet('Namespace', 'loki');
    expect(namespace.metadata.annotations?.['loki-microservices/created-for']).toBe('loki');

    // Applied by our field manager, server-side.
    for (const object of rendered.objects) {
      const live = mustGet(object.kind!, object.metadata!.name!);
      expect(live.metadata.managedFields).toContainEqual(
        expect.objectContaining({ manager: 'loki-microservices', operation: 'Apply' }),
      );
    }

    // Random credentials of the lengths the store expects, created (not applied) by us.
    const secret = mustGet('Secret', 'loki-object-store');
    const data = secret.data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    expect(Buffer.from(data.AWS_ACCESS_KEY_ID!, 'base64').toString()).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(Buffer.from(data.AWS_SECRET_ACCESS_KEY!, 'base64').toString()).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(secret.metadata.labels).toMatchObject({
      'app.kubernetes.io/instance': 'loki',
      'app.kubernetes.io/managed-by': 'loki-microservices',
    });
  });

  test('the namespace of someone else is left as it is: no created-for annotation, none of our labels', async () => {
    fixture.running.server.api.create(
      'Namespace',
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'loki', labels: { team: 'logs' } } },
      { manager: 'kubectl' },
    );
    const before = mustGet('Namespace', 'loki').metadata.resourceVersion;
    const result = await apply();
    expect(result.namespaceCreated).toBe(false);
    expect(result.objects.find((o) => o.kind === 'Namespace')).toBeUndefined();
    expect(mustGet('Namespace', 'loki').metadata.annotations?.['loki-microservices/created-for']).toBeUndefined();
    expect(mustGet('Namespace', 'loki').metadata.labels).toEqual({
      team: 'logs',
      'kubernetes.io/metadata.name': 'loki',
    });
    expect(mustGet('Namespace', 'loki').metadata.resourceVersion).toBe(before);
  });
});

describe('a second apply', () => {
  test('reports every object unchanged and the Secret kept, and writes nothing', async () => {
    await apply();
    await idle();
    const secretBefore = mustGet('Secret', 'loki-object-store');
    const versions = () =>
      storedStackObjects(fixture.running).map((key) => {
        const [kind, name] = key.split('/') as [string, string];
        return `${key}@${mustGet(kind, name).metadata.resourceVersion}`;
      });
    const before = versions();
    fixture.running.server.faults.clearLog();

    const result = await apply();

    expect(result.namespaceCreated).toBe(false);
    expect(result.objects.filter((o) => o.action !== 'unchanged')).toEqual([]);
    expect(result.objects).toHaveLength(renderKubernetes(stackOf()).objects.length);
    expect(result.secrets).toEqual([{ name: 'loki-object-store', action: 'kept' }]);
    const secretAfter = mustGet('Secret', 'loki-object-store');
    expect(secretAfter.data).toEqual(secretBefore.data);
    expect(secretAfter.metadata.resourceVersion).toBe(secretBefore.metadata.resourceVersion);
    expect(versions()).toEqual(before);
    // Reads and applies only: no create of the Secret, no delete (but the stack's lock, taken and released).
    const lock = (r: { path: string }) => r.path.includes('/leases');
    expect(
      [...new Set(fixture.running.server.faults.requests.filter((r) => !lock(r)).map((r) => r.method))].sort(),
    ).toEqual(['GET', 'PATCH']);
  });

  test('a status written meanwhile (by a controller) is not a change of ours', async () => {
    await apply();
    await idle();
    const { api } = fixture.running.server;
    const versionBefore = mustGet('Deployment', 'loki-distributor').metadata.resourceVersion;
    const result = await apply(
      {},
      {
        // After the current state was read, before the workloads are applied: their status changes.
        onObject: (object) => {
          if (object.kind !== 'Namespace') return;
          for (const name of ['loki-distributor', 'loki-querier']) {
            const live = api.get('Deployment', 'loki', name);
            api.replace(
              'Deployment',
              'loki',
              name,
              {
                ...live,
                status: { ...(live.status as object), observedGeneration: 1, readyReplicas: 0, availableReplicas: 0 },
              },
              { manager: 'kube-controller-manager', subresource: 'status' },
            );
          }
        },
      },
    );
    expect(mustGet('Deployment', 'loki-distributor').metadata.resourceVersion).not.toBe(versionBefore);
    expect(result.objects.filter((o) => o.action !== 'unchanged')).toEqual([]);
  });
});

describe('request order', () => {
  const PHASES: [string, RegExp][] = [
    ['namespace', /^PATCH \/api\/v1\/namespaces\/loki\?/],
    [
      'accounts, config and secrets',
      /^(PATCH|POST) \/api\/v1\/namespaces\/loki\/(serviceaccounts|configmaps|secrets)\b/,
    ],
    ['services and claims', /^PATCH \/api\/v1\/namespaces\/loki\/(services|persistentvolumeclaims)\//],
    [
      'workloads',
      /^PATCH \/apis\/(apps|policy)\/v1\/namespaces\/loki\/(deployments|statefulsets|poddisruptionbudgets)\//,
    ],
  ];

  test('phase by phase: nothing of a phase is sent before the previous phase is answered; a phase is sent together', async () => {
    fixture.running.server.faults.latencyMs = 40; // so that requests sent together overlap visibly
    const timeline = recordTimeline(fixture.running);
    const result = await apply({ spec: { profile: 'small' } });
    const phaseOf = (event: { method: string; path: string }) =>
      PHASES.findIndex(([, pattern]) => pattern.test(`${event.method} ${event.path}`));

    const writes = timeline
      .map((event, index) => ({ ...event, index, phase: phaseOf(event) }))
      .filter((event) => event.phase >= 0);
    // Every rendered object (small profile: with PodDisruptionBudgets) and the Secret, each sent once.
    expect(writes.filter((w) => w.at === 'sent')).toHaveLength(result.objects.length + 1);
    for (let phase = 1; phase < PHASES.length; phase++) {
      const lastAnswerBefore = Math.max(
        ...writes.filter((w) => w.phase === phase - 1 && w.at === 'answered').map((w) => w.index),
      );
      const firstSent = Math.min(...writes.filter((w) => w.phase === phase && w.at === 'sent').map((w) => w.index));
      expect({ phase: PHASES[phase]![0], sentAfterPreviousAnswered: firstSent > lastAnswerBefore }).toEqual({
        phase: PHASES[phase]![0],
        sentAfterPreviousAnswered: true,
      });
    }
    // Within a phase, requests are in flight together: at most a few go out before the first answer.
    for (const [phase, [name]] of PHASES.entries()) {
      const events = writes.filter((w) => w.phase === phase);
      let inFlight = 0;
      let most = 0;
      for (const event of events) {
        inFlight += event.at === 'sent' ? 1 : -1;
        most = Math.max(most, inFlight);
      }
      const size = events.length / 2;
      expect({ phase: name, size, mostTogetherIsHalfOrMore: most >= Math.ceil(size / 2) }).toEqual({
        phase: name,
        size,
        mostTogetherIsHalfOrMore: true,
      });
    }
    // Results come phase by phase too.
    const order = [
      'Namespace',
      'ServiceAccount|ConfigMap',
      'Service|PersistentVolumeClaim',
      'Deployment|StatefulSet|PodDisruptionBudget',
    ];
    const phases = result.objects.map((o) => order.findIndex((kinds) => kinds.split('|').includes(o.kind)));
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
  });

  test('into an existing namespace, the namespace goes with the second phase: one round trip fewer', async () => {
    await apply();
    fixture.running.server.faults.latencyMs = 40;
    const timeline = recordTimeline(fixture.running);
    await apply();
    const index = (at: 'sent' | 'answered', pattern: RegExp) =>
      timeline.findIndex((event) => event.at === at && pattern.test(`${event.method} ${event.path}`));
    const namespaceAnswered = index('answered', /^PATCH \/api\/v1\/namespaces\/loki\?/);
    const configMapSent = index('sent', /^PATCH \/api\/v1\/namespaces\/loki\/configmaps\//);
    expect(namespaceAnswered).toBeGreaterThan(-1);
    expect(configMapSent).toBeGreaterThan(-1);
    expect(configMapSent).toBeLessThan(namespaceAnswered);
  });
});

describe('a changed spec', () => {
  test('configures exactly the objects it changes and creates what it adds', async () => {
    await apply();
    await idle();

    const more = { spec: { components: { ingester: { replicas: 2 } } } };
    const scaled = await apply(more);
    expect(actions(scaled.objects, 'configured')).toEqual(['StatefulSet/loki-ingester']);
    expect(actions(scaled.objects, 'created')).toEqual(['PodDisruptionBudget/loki-ingester']);
    expect(actions(scaled.objects, 'pruned')).toEqual([]);
    expect((mustGet('StatefulSet', 'loki-ingester').spec as { replicas: number }).replicas).toBe(2);
    await idle();

    const limit = {
      spec: { components: { ingester: { replicas: 2 }, querier: { resources: { limits: { memory: '2Gi' } } } } },
    };
    const limited = await apply(limit);
    expect(actions(limited.objects, 'configured')).toEqual(['Deployment/loki-querier']);
    expect(limited.objects.filter((o) => o.action !== 'unchanged' && o.name !== 'loki-querier')).toEqual([]);
    const querier = mustGet('Deployment', 'loki-querier').spec as {
      template: { spec: { containers: { resources: { limits: Record<string, string> } }[] } };
    };
    expect(querier.template.spec.containers[0]!.resources.limits.memory).toBe('2Gi');
  });

  test('a configuration change changes the config hash of every Loki pod template, so that the pods roll', async () => {
    await apply();
    await idle();
    const hashes = () =>
      LOKI_WORKLOADS.map(
        (key) => templateOf(mustGet(key.split('/')[0]!, key.split('/')[1]!)).metadata.annotations?.[CONFIG_HASH],
      );
    const before = hashes();
    expect(new Set(before).size).toBe(1);
    expect(before[0]).toMatch(/^[0-9a-f]{64}$/);
    const storeBefore = templateOf(mustGet('Deployment', 'loki-object-store')).metadata.annotations;
    const podsBefore = fixture.running.server.api
      .list('Pod', 'loki', { labelSelector: 'app.kubernetes.io/component=distributor' })
      .map((p) => p.metadata.name);

    const result = await apply({ spec: { limits: { maxQuerySeries: 1000 } } });

    expect(actions(result.objects, 'configured')).toEqual(['ConfigMap/loki-config', ...LOKI_WORKLOADS].sort());
    expect((mustGet('ConfigMap', 'loki-config').data as Record<string, string>)['config.yaml']).toMatch(
      /max_query_series: 1000/,
    );
    const after = hashes();
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(before[0]);
    expect(templateOf(mustGet('Deployment', 'loki-object-store')).metadata.annotations).toEqual(storeBefore);
    // The distributor rolls: a new ReplicaSet, and its pod replaces the old one.
    await eventually(() => {
      const pods = fixture.running.server.api.list('Pod', 'loki', {
        labelSelector: 'app.kubernetes.io/component=distributor',
      });
      const ready = pods.filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          (p.status as { conditions?: { type: string; status: string }[] }).conditions?.some(
            (c) => c.type === 'Ready' && c.status === 'True',
          ),
      );
      return ready.length === 1 && !podsBefore.includes(ready[0]!.metadata.name) && pods.length === 1
        ? true
        : undefined;
    }, 'the distributor pod to be replaced');
    expect(
      fixture.running.server.api.list('ReplicaSet', 'loki', {
        labelSelector: 'app.kubernetes.io/component=distributor',
      }),
    ).toHaveLength(2);
  });
});

describe('prune', () => {
  const RULER = ['Service/loki-ruler', 'Service/loki-ruler-headless', 'StatefulSet/loki-ruler'];
  const noRuler = { spec: { components: { ruler: { enabled: false } } } };

  test('an object the render no longer contains is deleted', async () => {
    await apply();
    const result = await apply(noRuler);
    expect(actions(result.objects, 'pruned')).toEqual(RULER);
    expect(actions(result.objects, 'created')).toEqual([]);
    expect(stored('StatefulSet', 'loki-ruler')).toBeUndefined();
    expect(stored('Service', 'loki-ruler')).toBeUndefined();
    expect(stored('Service', 'loki-ruler-headless')).toBeUndefined();
    expect(storedStackObjects(fixture.running)).toEqual(
      [
        ...keys(renderKubernetes(stackOf(noRuler)).objects.filter((o) => o.kind !== 'Namespace')),
        'Secret/loki-object-store',
      ].sort(),
    );
    // Its pods go with it (garbage collection, background propagation).
    await eventually(
      () =>
        fixture.running.server.api.list('Pod', 'loki', { labelSelector: 'app.kubernetes.io/component=ruler' })
          .length === 0
          ? true
          : undefined,
      'the ruler pods to go',
    );
  });

  test('a pattern ingester switched off is pruned with its Services, its certificate too', async () => {
    const patterns = (enabled: boolean) => ({
      spec: { tls: { enabled: true }, components: { patternIngester: { enabled } } },
    });
    await apply(patterns(true));
    expect(stored('StatefulSet', 'loki-pattern-ingester')).toBeDefined();
    expect(stored('Secret', 'loki-pattern-ingester-tls')).toBeDefined();
    const result = await apply(patterns(false));
    expect(actions(result.objects, 'pruned')).toEqual([
      'Secret/loki-pattern-ingester-tls',
      'Service/loki-pattern-ingester',
      'Service/loki-pattern-ingester-headless',
      'StatefulSet/loki-pattern-ingester',
    ]);
    await eventually(
      () =>
        fixture.running.server.api.list('Pod', 'loki', {
          labelSelector: 'app.kubernetes.io/component=pattern-ingester',
        }).length === 0
          ? true
          : undefined,
      'the pattern ingester pods to go',
    );
  });

  test('prune: false keeps them', async () => {
    await apply();
    const result = await apply(noRuler, { prune: false });
    expect(actions(result.objects, 'pruned')).toEqual([]);
    expect(result.objects.map((o) => `${o.kind}/${o.name}`)).not.toContain('StatefulSet/loki-ruler');
    for (const key of RULER) expect(stored(key.split('/')[0]!, key.split('/')[1]!)).toBeDefined();
  });

  test('PersistentVolumeClaims, and the credentials their data needs, are pruned only with pruneVolumes', async () => {
    await apply();
    await idle();
    const s3 = { spec: { storage: { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1' } } } };

    const kept = await apply(s3);
    // The bundled store goes; its data stays, with the generated credentials it was written with.
    expect(actions(kept.objects, 'pruned')).toEqual(['Deployment/loki-object-store', 'Service/loki-object-store']);
    expect(kept.secrets).toEqual([]);
    expect(stored('PersistentVolumeClaim', 'loki-object-store')).toBeDefined();
    expect(stored('Secret', 'loki-object-store')).toBeDefined();

    const again = await apply(s3, { pruneVolumes: false });
    expect(actions(again.objects, 'pruned')).toEqual([]);

    const pruned = await apply(s3, { pruneVolumes: true });
    expect(actions(pruned.objects, 'pruned')).toEqual([
      'PersistentVolumeClaim/loki-object-store',
      'Secret/loki-object-store',
    ]);
    // Protected until the store's pod is gone, then deleted.
    await eventually(
      () => (stored('PersistentVolumeClaim', 'loki-object-store') ? undefined : true),
      'the claim to be deleted',
    );
  });

  test('leaves alone what is not both ours and this stack’s: look-alikes, other stacks, other namespaces, StatefulSet claims', async () => {
    await apply({ spec: { components: { ingester: { replicas: 2 } } } });
    await idle();
    const { api } = fixture.running.server;
    api.create(
      'Namespace',
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } },
      { manager: 'kubectl' },
    );
    const ours = { 'app.kubernetes.io/instance': 'loki', 'app.kubernetes.io/managed-by': 'loki-microservices' };
    const lookAlikes: [string, string, Record<string, string>][] = [
      ['loki', 'instance-only', { 'app.kubernetes.io/instance': 'loki' }],
      ['loki', 'manager-only', { 'app.kubernetes.io/managed-by': 'loki-microservices' }],
      ['loki', 'other-stack', { ...ours, 'app.kubernetes.io/instance': 'other' }],
      ['elsewhere', 'same-labels', ours],
    ];
    for (const [namespace, name, labels] of lookAlikes) {
      api.create(
        'ConfigMap',
        namespace,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data: { a: '1' } },
        { manager: 'kubectl' },
      );
    }
    api.create(
      'Service',
      'loki',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'loki-gateway', namespace: 'loki', labels: { 'app.kubernetes.io/instance': 'loki' } },
        spec: { ports: [{ port: 80 }] },
      },
      { manager: 'kubectl' },
    );
    const claims = api
      .list('PersistentVolumeClaim', 'loki')
      .map((c) => c.metadata.name)
      .sort();
    expect(claims).toEqual(
      expect.arrayContaining(['data-loki-ingester-0', 'data-loki-ingester-1', 'loki-object-store']),
    );

    const result = await apply(
      { spec: { components: { ingester: { replicas: 2 }, ruler: { enabled: false } } } },
      { pruneVolumes: true },
    );

    expect(actions(result.objects, 'pruned')).toEqual([
      'Service/loki-ruler',
      'Service/loki-ruler-headless',
      'StatefulSet/loki-ruler',
    ]);
    for (const [namespace, name] of lookAlikes) expect(stored('ConfigMap', name, namespace)).toBeDefined();
    expect(stored('Service', 'loki-gateway')).toBeDefined();
    // The claims of the StatefulSets (and the ruler's, retained by its policy) are not ours to prune.
    expect(
      api
        .list('PersistentVolumeClaim', 'loki')
        .map((c) => c.metadata.name)
        .sort(),
    ).toEqual(claims);
  });
});

describe('conflicts', () => {
  const takeReplicas = (manager: string, replicas: number) =>
    fixture.running.server.api.apply(
      'Deployment',
      'loki',
      'loki-distributor',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'loki-distributor', namespace: 'loki' },
        spec: { replicas },
      },
      { manager, force: true },
    );
  const ownersOfReplicas = () =>
    (mustGet('Deployment', 'loki-distributor').metadata.managedFields ?? [])
      .filter((entry) =>
        JSON.stringify((entry.fieldsV1 as { 'f:spec'?: Record<string, unknown> })?.['f:spec'] ?? {}).includes(
          '"f:replicas"',
        ),
      )
      .map((entry) => entry.manager);

  test('a field another manager owns with another value fails the apply with a ConflictError that names object and field', async () => {
    await apply();
    takeReplicas('kubectl', 5);
    expect(ownersOfReplicas()).toEqual(['kubectl']);

    const error = await apply().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConflictError);
    const conflict = error as ConflictError;
    expect(conflict.code).toBe(409);
    expect(conflict.object).toBe('Deployment loki/loki-distributor');
    expect(conflict.conflicts).toEqual([{ manager: 'kubectl', field: '.spec.replicas' }]);
    expect(conflict.message).toContain('Deployment loki/loki-distributor');
    expect(conflict.message).toContain('.spec.replicas is owned by "kubectl"');
    expect(conflict.message).toContain('--force-conflicts');
    expect((mustGet('Deployment', 'loki-distributor').spec as { replicas: number }).replicas).toBe(5);
  });

  test('forceConflicts takes the field over', async () => {
    await apply();
    await idle();
    takeReplicas('kubectl', 5);

    const result = await apply({}, { forceConflicts: true });

    expect(actions(result.objects, 'configured')).toEqual(['Deployment/loki-distributor']);
    expect((mustGet('Deployment', 'loki-distributor').spec as { replicas: number }).replicas).toBe(1);
    expect(ownersOfReplicas()).toEqual(['loki-microservices']);
    // And it stays ours: the next apply without force goes through.
    await expect(apply()).resolves.toBeDefined();
  });
});

describe('dry run', () => {
  test('on an empty cluster: reports what would be created and stores nothing', async () => {
    const rendered = renderKubernetes(stackOf());
    fixture.running.server.faults.clearLog();
    const result = await apply({}, { dryRun: true });

    expect(result).toMatchObject({
      dryRun: true,
      namespaceCreated: true,
      secrets: [{ name: 'loki-object-store', action: 'created' }],
    });
    expect(result.objects.map((o) => `${o.kind}/${o.name}`).sort()).toEqual(keys(rendered.objects));
    expect(actions(result.objects, 'created')).toHaveLength(rendered.objects.length);
    expect(stored('Namespace', 'loki')).toBeUndefined();
    expect(storedStackObjects(fixture.running)).toEqual([]);
    expect(fixture.running.server.store.list('Secret', 'loki')).toEqual([]);
    // Every write that went out was a server-side dry run.
    const writes = fixture.running.server.faults.requests.filter((r) => r.method !== 'GET');
    expect(writes.length).toBeGreaterThan(0);
    for (const write of writes) expect(write.path).toContain('dryRun=All');
  });

  test('on an existing stack: reports the changes, prunes and creations, and changes nothing', async () => {
    await apply();
    await idle();
    const before = storedStackObjects(fixture.running).map(
      (key) => `${key}@${mustGet(key.split('/')[0]!, key.split('/')[1]!).metadata.resourceVersion}`,
    );

    const result = await apply(
      { spec: { components: { ingester: { replicas: 2 }, ruler: { enabled: false } } } },
      { dryRun: true, pruneVolumes: true },
    );

    expect(result.namespaceCreated).toBe(false);
    expect(result.secrets).toEqual([{ name: 'loki-object-store', action: 'kept' }]);
    // Without a ruler the Loki configuration changes, and with it every Loki pod template (its config hash).
    expect(actions(result.objects, 'configured')).toEqual(
      ['ConfigMap/loki-config', ...LOKI_WORKLOADS.filter((key) => key !== 'StatefulSet/loki-ruler')].sort(),
    );
    expect(actions(result.objects, 'created')).toEqual(['PodDisruptionBudget/loki-ingester']);
    expect(actions(result.objects, 'pruned')).toEqual([
      'Service/loki-ruler',
      'Service/loki-ruler-headless',
      'StatefulSet/loki-ruler',
    ]);
    const after = storedStackObjects(fixture.running).map(
      (key) => `${key}@${mustGet(key.split('/')[0]!, key.split('/')[1]!).metadata.resourceVersion}`,
    );
    expect(after).toEqual(before);
  });
});
