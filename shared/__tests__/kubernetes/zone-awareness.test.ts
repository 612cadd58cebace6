// spec.zoneAwareness: one ingester StatefulSet per zone, each governed by its own headless Service, a zone-aware
// ring, and the spec refused where the zones cannot hold one copy of each stream.
import type { KubernetesObject, V1PodDisruptionBudget, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { SpecError } from '../../src/errors.js';
import { renderKubernetes } from '../../src/kubernetes/render/index.js';
import { lokiConfig } from '../../src/kubernetes/render/loki-config.js';
import { renderNomad } from '../../src/nomad/render/index.js';
import { parseSpec } from '../../src/spec/parse.js';

type Json = Record<string, any>;

const S3 = { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1' } };
const zoned = (zoneAwareness: Json = {}, spec: Json = {}) =>
  parseSpec({
    spec: {
      profile: 'small',
      replicationFactor: 3,
      zoneAwareness: { enabled: true, ...zoneAwareness },
      components: { ingester: { replicas: 2 } },
      ...spec,
    },
  });

const ofKind = <T>(objects: KubernetesObject[], kind: string) => objects.filter((o) => o.kind === kind) as T[];
const ingesterSets = (objects: KubernetesObject[]) =>
  ofKind<V1StatefulSet>(objects, 'StatefulSet').filter(
    (o) => o.metadata!.labels!['app.kubernetes.io/component'] === 'ingester',
  );
const lokiArgs = (set: V1StatefulSet) => set.spec!.template.spec!.containers.find((c) => c.name === 'loki')!.args!;
const issuesOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof SpecError) return error.issues;
    throw error;
  }
  throw new Error('not refused');
};

test('a StatefulSet per zone, in the order of the zones, with the per-zone replicas and its own headless Service', () => {
  const { objects } = renderKubernetes(zoned({ zones: ['west', 'east', 'north'] }));
  const sets = ingesterSets(objects);
  expect(sets.map((set) => set.metadata!.name)).toEqual([
    'loki-ingester-zone-west',
    'loki-ingester-zone-east',
    'loki-ingester-zone-north',
  ]);
  const services = ofKind<V1Service>(objects, 'Service');
  for (const [index, set] of sets.entries()) {
    const zone = ['west', 'east', 'north'][index]!;
    expect(set.spec!.replicas).toBe(2);
    expect(set.metadata!.labels!['loki-microservices/zone']).toBe(zone);
    expect(set.spec!.selector.matchLabels!['loki-microservices/zone']).toBe(zone);
    expect(set.spec!.template.metadata!.labels!['loki-microservices/zone']).toBe(zone);
    expect(set.spec!.serviceName).toBe(`loki-ingester-zone-${zone}-headless`);
    const governing = services.find((s) => s.metadata!.name === set.spec!.serviceName)!;
    expect(governing.spec!.clusterIP).toBe('None');
    expect(governing.spec!.selector).toEqual(set.spec!.selector.matchLabels);
  }
  // No single-zone leftovers: neither the plain StatefulSet nor its headless Service.
  expect(objects.map((o) => `${o.kind}/${o.metadata!.name}`)).not.toEqual(
    expect.arrayContaining(['StatefulSet/loki-ingester']),
  );
  expect(services.map((s) => s.metadata!.name)).not.toContain('loki-ingester-headless');
  // The load-balanced Service reaches every zone.
  const all = services.find((s) => s.metadata!.name === 'loki-ingester')!;
  expect(all.spec!.selector).not.toHaveProperty('loki-microservices/zone');
});

test("each zone's ingesters name their zone with the common ring's flag; every ring is zone-aware", () => {
  const stack = zoned();
  for (const set of ingesterSets(renderKubernetes(stack).objects)) {
    const zone = set.metadata!.labels!['loki-microservices/zone'];
    expect(lokiArgs(set)).toContain(`-common.storage.ring.instance-availability-zone=${zone}`);
    // Loki copies common.ring's zone over the ingester's own: -ingester.availability-zone would be lost.
    expect(lokiArgs(set).some((arg) => arg.startsWith('-ingester.availability-zone'))).toBe(false);
  }
  const config = lokiConfig(stack) as Json;
  expect(config.common.ring.zone_awareness_enabled).toBe(true);
  expect(config.common.replication_factor).toBe(3);
  // Off: one StatefulSet, no zone flag, and the key left out.
  const plain = parseSpec({ spec: { profile: 'small' } });
  const [single] = ingesterSets(renderKubernetes(plain).objects);
  expect(single!.metadata!.name).toBe('loki-ingester');
  expect(lokiArgs(single!).some((arg) => arg.includes('availability-zone'))).toBe(false);
  expect((lokiConfig(plain) as Json).common.ring).not.toHaveProperty('zone_awareness_enabled');
});

test('physical placement pins each zone to the nodes labelled with it; logical pins nothing', () => {
  const physical = ingesterSets(
    renderKubernetes(zoned({ placement: 'physical', topologyKey: 'example.com/rack' })).objects,
  );
  for (const set of physical) {
    const zone = set.metadata!.labels!['loki-microservices/zone'];
    expect(set.spec!.template.spec!.affinity!.nodeAffinity).toEqual({
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'example.com/rack', operator: 'In', values: [zone] }] }],
      },
    });
    // The component's own spread stays.
    expect(set.spec!.template.spec!.affinity!.podAntiAffinity).toBeDefined();
  }
  for (const set of ingesterSets(renderKubernetes(zoned()).objects))
    expect(set.spec!.template.spec!.affinity?.nodeAffinity).toBeUndefined();
});

test('one PodDisruptionBudget over the ingesters of every zone, also with one pod per zone', () => {
  const { objects } = renderKubernetes(zoned({}, { components: { ingester: { replicas: 1 } } }));
  const budgets = ofKind<V1PodDisruptionBudget>(objects, 'PodDisruptionBudget').filter(
    (b) => b.metadata!.labels!['app.kubernetes.io/component'] === 'ingester',
  );
  expect(budgets).toHaveLength(1);
  expect(budgets[0]!.spec!.maxUnavailable).toBe(1);
  const selector = budgets[0]!.spec!.selector!.matchLabels!;
  for (const set of ingesterSets(objects)) {
    const labels = set.spec!.template.metadata!.labels!;
    expect(Object.entries(selector).every(([key, value]) => labels[key] === value)).toBe(true);
  }
});

test('refused: zones other than replicationFactor, a zone twice, a zone that is no DNS label', () => {
  expect(issuesOf(() => zoned({ zones: ['a', 'b'] }))).toEqual([
    {
      path: 'spec.zoneAwareness.zones',
      message: expect.stringContaining('as many zones as replicationFactor (3)'),
    },
  ]);
  expect(issuesOf(() => zoned({ zones: ['a', 'b', 'a'] }))).toEqual([
    { path: 'spec.zoneAwareness.zones', message: expect.stringContaining('twice') },
  ]);
  expect(issuesOf(() => zoned({ zones: ['a', 'B', 'c'] }))[0]!.path).toBe('spec.zoneAwareness.zones[1]');
  // Per zone, one ingester is enough: the replication factor counts zones.
  expect(() => zoned({}, { components: { ingester: { replicas: 1 } } })).not.toThrow();
  // Off, the zones are not checked.
  expect(() => parseSpec({ spec: { replicationFactor: 1, zoneAwareness: { zones: ['a', 'b'] } } })).not.toThrow();
});

test('render refuses a name and zone that make a StatefulSet too long for its pods, naming the zone', () => {
  const stack = parseSpec({
    metadata: { name: 'a-rather-long-stack-name-for-logs' },
    spec: { profile: 'small', zoneAwareness: { enabled: true, zones: ['a', 'b', 'europe-west1'] } },
  });
  expect(issuesOf(() => renderKubernetes(stack))).toEqual([
    { path: 'spec.zoneAwareness.zones[2]', message: expect.stringContaining('"europe-west1"') },
  ]);
});

test('Nomad refuses zone awareness, naming the field', () => {
  expect(issuesOf(() => renderNomad(zoned({}, { storage: S3 })))).toEqual([
    { path: 'spec.zoneAwareness.enabled', message: expect.stringContaining('Kubernetes only') },
  ]);
});
