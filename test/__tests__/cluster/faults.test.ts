// applyStack on a flaky API server: permanent errors fail at once with the API's own message, transient
// ones (429, 500, a reset connection) are retried within the budget, and with a fifth of all requests
// failing, for 50 seeds, apply still converges to exactly the rendered state.
import { afterEach, describe, expect, test } from '@jest/globals';
import { applyStack, ClusterError, renderKubernetes, type ApplyResult, type RetryPolicy } from 'loki-microservices';
import type { Fault } from '../../src/apiserver/index.js';
import {
  eventually,
  FAST_RETRY,
  plain,
  STACK_KINDS,
  stackOf,
  startFixture,
  storedStackObjects,
  type Fixture,
} from './fixture.js';

let fixture: Fixture | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const start = async () => (fixture = await startFixture());
const keys = (objects: { kind?: string; metadata?: { name?: string } }[]) =>
  objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('permanent errors', () => {
  test('a forbidden write fails the apply with the API’s message, without retrying it', async () => {
    const { running, connection } = await start();
    running.server.faults.forbid({ verb: 'patch', resource: 'deployments' });

    const error = await rejection(applyStack(connection, stackOf(), { retry: FAST_RETRY }));

    expect(error).toBeInstanceOf(ClusterError);
    expect(error).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect((error as ClusterError).message).toMatch(
      /^applying Deployment loki\/loki-[a-z-]+: deployments\.apps "loki-[a-z-]+" is forbidden: /,
    );
    // Each Deployment was tried exactly once; the phase before went through, nothing after was sent.
    const deployments = renderKubernetes(stackOf()).objects.filter((o) => o.kind === 'Deployment');
    const patches = running.server.faults.requests.filter(
      (r) => r.method === 'PATCH' && r.path.includes('/deployments/'),
    );
    expect(patches.map((r) => r.path.split('?')[0]!.split('/').pop()).sort()).toEqual(
      deployments.map((d) => d.metadata!.name).sort(),
    );
    expect(patches.every((r) => r.status === 403)).toBe(true);
    // Nothing deleted but the stack's lock, released at the end.
    expect(running.server.faults.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      '/apis/coordination.k8s.io/v1/namespaces/loki/leases/loki-loki-microservices',
    ]);
    expect(running.server.store.get('Service', 'loki', 'loki-distributor')).toBeDefined();
  });

  test('a forbidden read fails before anything of the stack is written', async () => {
    const { running, connection } = await start();
    // A namespace that exists: apply reads what is in it (one it makes itself holds nothing to read).
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'loki' } };
    running.server.api.create('Namespace', undefined, namespace, { manager: 'test' });
    running.server.faults.forbid({ verb: 'list', resource: 'secrets' });

    const error = await rejection(applyStack(connection, stackOf(), { retry: FAST_RETRY }));

    expect(error).toMatchObject({ name: 'ClusterError', code: 403 });
    expect((error as Error).message).toMatch(
      /^listing Secrets in loki: secrets is forbidden: .*cannot list resource "secrets"/,
    );
    expect(running.server.faults.requests.filter((r) => r.path.includes('/secrets'))).toHaveLength(1);
    // Only the stack's lock, taken and released.
    const writes = running.server.faults.requests
      .filter((r) => r.method !== 'GET')
      .map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(writes).toEqual([
      'POST /apis/coordination.k8s.io/v1/namespaces/loki/leases',
      'DELETE /apis/coordination.k8s.io/v1/namespaces/loki/leases/loki-loki-microservices',
    ]);
  });

  test('a transient failure that outlasts the budget fails with the last answer', async () => {
    const { running, connection } = await start();
    running.server.faults.failNext('error', 1000);

    const error = await rejection(
      applyStack(connection, stackOf(), { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } }),
    );

    expect(error).toMatchObject({ name: 'ClusterError', code: 500 });
    expect((error as Error).message).toMatch(/injected fault/);
    // Three attempts at each of the first two reads (the namespace and the API groups), no more; the resource
    // lists read alongside them are not retried (the requests that need them would read them again); nothing
    // written.
    const { requests } = running.server.faults;
    const at = (path: string) => requests.filter((r) => r.path === path);
    await eventually(() => (at('/apis').length >= 3 ? true : undefined), 'every read to give up');
    expect(at('/api/v1/namespaces/loki')).toHaveLength(3);
    expect(at('/apis')).toHaveLength(3);
    expect(at('/api/v1')).toHaveLength(1);
    expect(requests.every((r) => r.method === 'GET' && r.fault === 'error')).toBe(true);
  });
});

describe('transient errors are retried', () => {
  test.each<Fault>(['throttle', 'error', 'reset'])(
    '%s: the reads and the writes it hits are sent again and the apply succeeds',
    async (fault) => {
      const { running, connection } = await start();
      const { faults } = running.server;
      faults.failNext(fault, 3); // the first three reads
      // The three writes of the phase after the namespace (ServiceAccount, ConfigMap, Secret), once each.
      for (const write of [
        /^PATCH .*\/serviceaccounts\/loki/,
        /^PATCH .*\/configmaps\/loki-config/,
        /^POST .*\/secrets/,
      ])
        faults.failNext(fault, 1, (r) => write.test(`${r.method} ${r.path}`));
      const result = await applyStack(connection, stackOf(), { retry: FAST_RETRY });

      expect(result.objects.every((o) => o.action === 'created')).toBe(true);
      expect(result.secrets).toEqual([{ name: 'loki-object-store', action: 'created' }]);
      const failed = faults.requests.filter((r) => r.fault === fault);
      expect(failed).toHaveLength(6);
      const writes = failed.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path.split('?')[0]}`);
      expect(writes.sort()).toEqual([
        'PATCH /api/v1/namespaces/loki/configmaps/loki-config',
        'PATCH /api/v1/namespaces/loki/serviceaccounts/loki',
        'POST /api/v1/namespaces/loki/secrets',
      ]);
      // Each failed write was sent again, once, and went through.
      for (const request of failed.filter((r) => r.method !== 'GET')) {
        const again = faults.requests.filter((r) => r.method === request.method && r.path === request.path && !r.fault);
        expect({ request: `${request.method} ${request.path}`, answered: again.map((r) => r.status) }).toEqual({
          request: `${request.method} ${request.path}`,
          answered: [expect.any(Number)],
        });
        expect(again[0]!.status).toBe(201);
      }
      expect(storedStackObjects(running)).toContain('Secret/loki-object-store');
      expect(running.server.store.list('Secret', 'loki')).toHaveLength(1);
    },
  );
});

describe('a fifth of all requests failing', () => {
  const SEEDS = Array.from({ length: 50 }, (_, i) => i + 1);
  const RETRY: RetryPolicy = { ...FAST_RETRY, attempts: 12 };

  const stack = stackOf();
  const rendered = renderKubernetes(stack);

  /** What must hold once the faults stop, as a list of problems (empty when it holds). */
  async function converged({ running, connection }: Fixture, result: ApplyResult): Promise<string[]> {
    const problems: string[] = [];
    if (result.objects.some((o) => o.action !== 'created'))
      problems.push(`first apply: ${JSON.stringify(result.objects.filter((o) => o.action !== 'created'))}`);
    if (JSON.stringify(result.secrets) !== JSON.stringify([{ name: 'loki-object-store', action: 'created' }]))
      problems.push(`secrets: ${JSON.stringify(result.secrets)}`);
    // Exactly the rendered objects and one generated Secret carry our labels.
    const expected = [
      ...keys(rendered.objects.filter((o) => o.kind !== 'Namespace')),
      'Secret/loki-object-store',
    ].sort();
    const stored = storedStackObjects(running);
    if (JSON.stringify(stored) !== JSON.stringify(expected)) problems.push(`stored: ${JSON.stringify(stored)}`);
    if (running.server.store.list('Secret', 'loki').length !== 1)
      problems.push(`secrets stored: ${running.server.store.list('Secret', 'loki').length}`);
    // Each with the rendered fields (the server adds defaults: the render must be a subset of what it stores).
    for (const object of rendered.objects) {
      const live = running.server.store.get(
        object.kind!,
        object.kind === 'Namespace' ? undefined : 'loki',
        object.metadata!.name!,
      );
      try {
        expect(live).toMatchObject(plain(object) as Record<string, unknown>);
      } catch {
        problems.push(`${object.kind}/${object.metadata?.name} differs from the render`);
      }
    }
    // And applying again changes nothing.
    const again = await applyStack(connection, stack, { retry: RETRY });
    const changed = again.objects.filter((o) => o.action !== 'unchanged');
    if (changed.length > 0 || again.secrets[0]?.action !== 'kept')
      problems.push(`second apply: ${JSON.stringify([...changed, ...again.secrets])}`);
    return problems;
  }

  /** Back to an empty cluster: the namespace and everything in it removed from the store at once. */
  function forget(running: Fixture['running'], namespace: string): void {
    const { store } = running.server;
    for (const kind of [...STACK_KINDS, 'Endpoints', 'Event', 'Lease'])
      for (const object of store.list(kind, namespace)) store.remove(kind, namespace, object.metadata.name);
    store.remove('Namespace', undefined, namespace);
  }

  test(`apply converges to the rendered state for ${SEEDS.length} seeds`, async () => {
    // One server and one connection for all seeds, emptied between them. Its simulated cluster is stopped:
    // only what the API stores is asserted, and nothing then writes status between the applies.
    const each = await start();
    each.running.server.cluster.stop();
    const { faults } = each.running.server;
    const problems: Record<number, string[]> = {};
    let injected = 0;
    for (const seed of SEEDS) {
      forget(each.running, 'loki');
      faults.clearLog();
      faults.setFaultRate(0.2, seed);
      const result = await applyStack(each.connection, stack, { retry: RETRY }).catch(
        (error: unknown) => error as Error,
      );
      faults.setFaultRate(0);
      const faulted = faults.requests.filter((r) => r.fault).length;
      injected += faulted;
      const found = result instanceof Error ? [`apply failed: ${result.message}`] : await converged(each, result);
      if (faulted === 0) found.push('no fault was injected');
      if (found.length > 0) problems[seed] = found;
    }
    expect(problems).toEqual({});
    expect(injected).toBeGreaterThan(SEEDS.length * 5);
  }, 120_000);
});
