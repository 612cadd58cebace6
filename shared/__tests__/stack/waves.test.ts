import { parseSpec } from '../../src/spec/parse.js';
import { plannedWaves, waveName, waveOf, wavesOf } from '../../src/stack/waves.js';

test('servers before clients, one component a wave, numbered from 1', () => {
  const waves = wavesOf(parseSpec({}));
  expect(waves.map((wave) => wave.components.join())).toEqual([
    'compactor',
    'index-gateway',
    'ingester',
    'query-scheduler',
    'querier',
    'query-frontend',
    'ruler',
    'distributor',
  ]);
  expect(waveOf(waves, 'ingester')?.number).toBe(3);
  expect(waveOf(waves, 'object-store')).toBeUndefined();
});

test('only what the stack runs: no ruler when it is off, the gateway last when it is on', () => {
  const stack = parseSpec({
    spec: {
      components: { ruler: { enabled: false } },
      auth: { enabled: true, tenant: 'a' },
      gateway: { enabled: true, tenants: ['a'] },
    },
  });
  const waves = wavesOf(stack);
  expect(waves.map((wave) => wave.components.join())).not.toContain('ruler');
  expect(waves.at(-1)).toEqual({ number: 8, components: ['gateway'] });
});

test('the pattern ingester rolls after the ingesters and before its clients, the queriers and the distributors', () => {
  const labels = wavesOf(parseSpec({ spec: { profile: 'small' } })).map((wave) => wave.components.join());
  expect(labels.indexOf('pattern-ingester')).toBe(labels.indexOf('ingester') + 1);
  expect(labels.indexOf('pattern-ingester')).toBeLessThan(labels.indexOf('querier'));
  expect(labels.indexOf('pattern-ingester')).toBeLessThan(labels.indexOf('distributor'));
  expect(labels).toHaveLength(9);
});

test('zone-aware ingesters: a wave per zone, in the order of the zones; a plan counts each zone in its own wave', () => {
  const stack = parseSpec({ spec: { profile: 'small', zoneAwareness: { enabled: true, zones: ['c', 'a', 'b'] } } });
  const waves = wavesOf(stack);
  expect(waves.slice(2, 5)).toEqual([
    { number: 3, components: ['ingester'], zone: 'c' },
    { number: 4, components: ['ingester'], zone: 'a' },
    { number: 5, components: ['ingester'], zone: 'b' },
  ]);
  expect(waves.map(waveName).slice(1, 6)).toEqual([
    'index-gateway',
    'ingester zone c',
    'ingester zone a',
    'ingester zone b',
    'pattern-ingester',
  ]);
  expect(waveOf(waves, 'ingester', 'a')?.number).toBe(4);
  const roll = (zone: string) => ({
    component: 'ingester',
    workload: `StatefulSet loki-ingester-zone-${zone}`,
    zone,
    pods: 2,
    reasons: [],
  });
  expect(plannedWaves(stack, [roll('a'), roll('b')]).waves).toEqual([
    { number: 4, components: ['ingester'], zone: 'a', pods: 2 },
    { number: 5, components: ['ingester'], zone: 'b', pods: 2 },
  ]);
});
