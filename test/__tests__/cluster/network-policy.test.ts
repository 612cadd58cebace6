// NetworkPolicies through the real client-node to the test API server: applied before the workloads,
// stored exactly as rendered (client-node's model names `from` `_from`; a plain `from` would be dropped
// and the policy would admit everyone), unchanged on a second apply, pruned when switched off, destroyed
// with the stack.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { applyStack, destroyStack, renderKubernetes } from 'loki-microservices';
import { FAST_RETRY, stackOf, startFixture, storedStackObjects, type Fixture } from './fixture.js';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await startFixture();
});
afterAll(async () => {
  await fixture.close();
});

const withPolicies = {
  spec: {
    networkPolicy: {
      enabled: true,
      allowFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'promtail' } } }],
    },
  },
};

test('apply stores every policy as rendered, before the workloads, and a second apply changes nothing', async () => {
  const stack = stackOf(withPolicies);
  const rendered = renderKubernetes(stack).objects.filter((o) => o.kind === 'NetworkPolicy');
  expect(rendered.length).toBeGreaterThan(5);
  const first = await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
  const kinds = first.objects.map((o) => o.kind);
  expect(kinds.lastIndexOf('NetworkPolicy')).toBeLessThan(kinds.indexOf('Deployment'));
  for (const policy of rendered) {
    const stored = fixture.running.server.store.get('NetworkPolicy', 'loki', policy.metadata!.name!)!;
    expect(stored.spec).toEqual((policy as unknown as { spec: unknown }).spec);
  }
  const entry = fixture.running.server.store.get('NetworkPolicy', 'loki', 'loki-entrypoints')!;
  expect((entry.spec as { ingress: { from: unknown[] }[] }).ingress[0]!.from).toEqual([
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'promtail' } } },
  ]);

  const second = await applyStack(fixture.connection, stack, { retry: FAST_RETRY });
  expect(second.objects.filter((o) => o.action !== 'unchanged')).toEqual([]);
});

test('switched off, the policies are pruned; destroy removes the rest', async () => {
  const off = await applyStack(fixture.connection, stackOf({}), { retry: FAST_RETRY });
  expect(off.objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.action)).toEqual(
    expect.arrayContaining(['pruned']),
  );
  expect(storedStackObjects(fixture.running).filter((o) => o.startsWith('NetworkPolicy/'))).toEqual([]);
  await applyStack(fixture.connection, stackOf(withPolicies), { retry: FAST_RETRY });
  await destroyStack(fixture.connection, { name: 'loki', namespace: 'loki' }, { wait: true, timeoutMs: 20_000 });
  expect(storedStackObjects(fixture.running).filter((o) => o.startsWith('NetworkPolicy/'))).toEqual([]);
});
