// spec.gitops.syncWaves: Argo CD's sync-wave annotation on every rendered object, in apply's rollout order.
import type { KubernetesObject } from '@kubernetes/client-node';
import { renderKubernetes } from '../../src/kubernetes/render/index.js';
import { parseSpec } from '../../src/spec/parse.js';
import { wavesOf } from '../../src/stack/waves.js';

type Json = Record<string, any>;

const WAVE = 'argocd.argoproj.io/sync-wave';
const waveOf = (object: KubernetesObject) => object.metadata?.annotations?.[WAVE];
const isWorkload = (object: KubernetesObject) => object.kind === 'Deployment' || object.kind === 'StatefulSet';
const componentOf = (object: KubernetesObject) => object.metadata?.labels?.['app.kubernetes.io/component'] ?? '';

test('a default spec renders no sync-wave annotation', () => {
  const s3 = { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1' } };
  for (const spec of [{}, { profile: 'production', storage: s3 }])
    for (const object of renderKubernetes(parseSpec({ spec })).objects) expect(waveOf(object)).toBeUndefined();
});

test.each<[string, Json]>([
  ['demo', {}],
  ['demo with the gateway and the bundled store', { gateway: { enabled: true } }],
  [
    'production on S3 with a ruler',
    {
      profile: 'production',
      storage: { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1' } },
      components: { ruler: { enabled: true } },
    },
  ],
  ['small with zone-aware ingesters', { profile: 'small', zoneAwareness: { enabled: true, zones: ['c', 'a', 'b'] } }],
])('%s: every object has a wave; the workloads follow wavesOf, everything else is 0', (_, spec) => {
  const stack = parseSpec({ spec: { ...spec, gitops: { syncWaves: true } } });
  const { objects } = renderKubernetes(stack);
  const waves = wavesOf(stack);
  for (const object of objects) expect(waveOf(object)).toMatch(/^-?\d+$/);
  const lokiWorkloads = objects.filter(
    (o) => isWorkload(o) && waves.some((w) => w.components.includes(componentOf(o))),
  );
  for (const object of objects.filter((o) => !lokiWorkloads.includes(o))) expect(waveOf(object)).toBe('0');
  // Each wave's components, in order, carry 1, 2, 3…: Argo CD applies them in the order apply rolls them.
  const byWave = [...new Set(lokiWorkloads.map((o) => Number(waveOf(o))))].sort((a, b) => a - b);
  expect(byWave).toEqual(waves.map((wave) => wave.number));
  for (const wave of waves)
    expect(lokiWorkloads.filter((o) => waveOf(o) === `${wave.number}`).map(componentOf)).toEqual(wave.components);
  expect(lokiWorkloads.map(componentOf).sort()).toEqual(waves.flatMap((wave) => wave.components).sort());
});

test('the annotation is on the objects only, not on their pod templates (a new wave rolls no pod)', () => {
  const stack = parseSpec({ spec: { gitops: { syncWaves: true } } });
  const plain = renderKubernetes(parseSpec({})).objects;
  const annotated = renderKubernetes(stack).objects;
  expect(annotated.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(
    plain.map((o) => `${o.kind}/${o.metadata?.name}`),
  );
  annotated.forEach((object, index) => {
    const { [WAVE]: _wave, ...rest } = object.metadata?.annotations ?? {};
    expect({ ...object, metadata: { ...object.metadata, annotations: rest } }).toEqual({
      ...plain[index],
      metadata: { ...plain[index]!.metadata, annotations: plain[index]!.metadata?.annotations ?? {} },
    });
  });
});

test('memcached caches come before the Loki workloads that use them: wave 0, and first among the workloads', () => {
  const stack = parseSpec({ spec: { caches: { type: 'memcached' }, gitops: { syncWaves: true } } });
  const workloads = renderKubernetes(stack).objects.filter(isWorkload);
  const caches = workloads.filter((o) => componentOf(o).endsWith('-cache'));
  expect(caches.map((o) => `${o.kind}/${o.metadata!.name}`)).toEqual([
    'StatefulSet/loki-chunks-cache',
    'StatefulSet/loki-results-cache',
  ]);
  for (const cache of caches) expect(waveOf(cache)).toBe('0');
  const firstLoki = workloads.findIndex((o) => o.metadata?.labels?.['app.kubernetes.io/name'] === 'loki');
  for (const cache of caches) expect(workloads.indexOf(cache)).toBeLessThan(firstLoki);
});

test('zone-aware ingesters: each zone its own wave, consecutive, in the order of spec.zoneAwareness.zones', () => {
  const stack = parseSpec({
    spec: { profile: 'small', zoneAwareness: { enabled: true, zones: ['c', 'a', 'b'] }, gitops: { syncWaves: true } },
  });
  const ingesters = renderKubernetes(stack).objects.filter((o) => isWorkload(o) && componentOf(o) === 'ingester');
  const waves = ingesters.map((o) => [o.metadata!.labels!['loki-microservices/zone'], Number(waveOf(o))] as const);
  expect(waves.map(([zone]) => zone)).toEqual(['c', 'a', 'b']);
  const [first] = waves[0]!.slice(1) as [number];
  expect(waves.map(([, wave]) => wave)).toEqual([first, first + 1, first + 2]);
});
