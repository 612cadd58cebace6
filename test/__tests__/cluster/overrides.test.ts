// Per-tenant overrides on the test API server: changing only spec.overrides configures the `<name>-runtime`
// ConfigMap and nothing else, and no pod is replaced (Loki re-reads the mounted file by itself).
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { applyStack, type AppliedObject, type LokiStackInput } from 'loki-microservices';
import { parse } from 'yaml';
import { FAST_RETRY, stackOf, startFixture, type Fixture } from './fixture.js';

let fixture: Fixture;

beforeEach(async () => {
  fixture = await startFixture();
});
afterEach(async () => {
  await fixture.close();
});

const withOverrides = (overrides: Record<string, unknown>): LokiStackInput => ({
  spec: { auth: { enabled: true, tenant: 'team-a' }, overrides } as LokiStackInput['spec'],
});
const apply = (input: LokiStackInput) =>
  applyStack(fixture.connection, stackOf(input as Record<string, unknown>), { retry: FAST_RETRY });
const changed = (objects: AppliedObject[]) =>
  objects.filter((o) => o.action !== 'unchanged').map((o) => `${o.kind}/${o.name} ${o.action}`);
/** Every live pod of the stack, by name and uid: a replaced pod has a new one. */
const pods = () =>
  fixture.running.server.api
    .list('Pod', 'loki', { labelSelector: 'app.kubernetes.io/instance=loki' })
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => `${p.metadata.name} ${p.metadata.uid}`)
    .sort();
const runtimeFile = () =>
  parse(
    (fixture.running.server.store.get('ConfigMap', 'loki', 'loki-runtime')!.data as Record<string, string>)[
      'runtime.yaml'
    ]!,
  ) as unknown;

test('changing only spec.overrides configures the runtime ConfigMap alone and replaces no pod', async () => {
  const first = await apply(withOverrides({ 'team-a': { queryTimeout: '5m' } }));
  expect(first.objects.find((o) => o.kind === 'ConfigMap' && o.name === 'loki-runtime')?.action).toBe('created');
  await fixture.running.server.cluster.idle();
  const before = pods();
  expect(before.length).toBeGreaterThanOrEqual(8);

  const second = await apply(
    withOverrides({ 'team-a': { queryTimeout: '2m', retention: '2160h' }, 'team-b': { maxQuerySeries: 100 } }),
  );

  expect(changed(second.objects)).toEqual(['ConfigMap/loki-runtime configured']);
  expect(second.objects.filter((o) => o.action === 'unchanged').length).toBe(second.objects.length - 1);
  expect(runtimeFile()).toEqual({
    overrides: {
      'team-a': { query_timeout: '2m', retention_period: '2160h' },
      'team-b': { max_query_series: 100 },
    },
  });
  await fixture.running.server.cluster.idle();
  expect(pods()).toEqual(before);

  // Removing every override empties the file, again without touching anything else.
  const third = await apply({ spec: { auth: { enabled: true, tenant: 'team-a' } } });
  expect(changed(third.objects)).toEqual(['ConfigMap/loki-runtime configured']);
  expect(runtimeFile()).toEqual({ overrides: {} });
  await fixture.running.server.cluster.idle();
  expect(pods()).toEqual(before);
});
