// Attack 4: two runs on one stack at once. Two applies of a gateway stack each generated passwords, and the
// gateway's htpasswd ended up not matching its passwords Secret (10 of 10 races, both exiting 0); a destroy
// beside an apply left half a stack. Apply and destroy hold a Lease per stack: the second run is refused,
// naming the holder, and changes nothing.
import { jest } from '@jest/globals';
import { applyStack, parseSpec, waitForStack } from 'loki-microservices';
import { HTPASSWD_KEYS, parseHtpasswd } from 'loki-microservices/testing';
import bcrypt from 'bcryptjs';
import { eventually, FAST_RETRY, startFixture, storedStackObjects, type Fixture } from '../cluster/fixture.js';
import { cli, inNamespace, type CliResult } from './harness.js';

jest.setTimeout(300_000);

type Json = Record<string, any>;

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

const store = () => fixture.running.server.store;
const decoded = (namespace: string, name: string) =>
  Object.fromEntries(
    Object.entries(
      ((store().get('Secret', namespace, name) as Json | undefined)?.data ?? {}) as Record<string, string>,
    ).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
const LOCKED = /stack \S+ is locked by loki-microservices (apply|destroy) on .*nothing was changed/;
/** The lock's Lease, as docs/security.md (Safety) names it: `<name>-loki-microservices` in the stack's namespace. */
const LEASE = 'loki-loki-microservices';

/** Whether every gateway user's password verifies against the gateway's htpasswd files. */
function htpasswdMatches(namespace: string): boolean {
  const passwords = decoded(namespace, 'loki-gateway-passwords');
  const files = decoded(namespace, 'loki-gateway-htpasswd');
  const lines = new Map([
    ...parseHtpasswd(files[HTPASSWD_KEYS.tenants] ?? ''),
    ...parseHtpasswd(files[HTPASSWD_KEYS.admin] ?? ''),
  ]);
  return (
    Object.keys(passwords).length > 0 &&
    Object.entries(passwords).every(([user, password]) => {
      const line = lines.get(user);
      return !!line && bcrypt.compareSync(password, line.slice(line.indexOf(':') + 1));
    })
  );
}

test('two applies of one gateway stack at once: the htpasswd always matches the passwords, a refused run says who holds the lock', async () => {
  for (let round = 1; round <= 5; round++) {
    const namespace = `race-${round}`;
    const args = ['apply', ...inNamespace(namespace), '--set', 'spec.gateway.enabled=true'];
    const results: CliResult[] = await Promise.all([cli(fixture.running, args), cli(fixture.running, args)]);
    expect(results.map((result) => result.code).sort()).toContainEqual(0);
    for (const result of results.filter((result) => result.code !== 0)) {
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(LOCKED);
    }
    expect([namespace, htpasswdMatches(namespace)]).toEqual([namespace, true]);
    expect(store().get('Lease', namespace, LEASE)).toBeUndefined();
  }
});

test('a destroy while an apply runs is refused, and the apply leaves a whole, ready stack', async () => {
  const namespace = 'overlap';
  // The apply is held in the middle of its phases (its StatefulSets are not answered yet), holding the lock.
  fixture.running.server.faults.stall({ verb: 'patch', resource: 'statefulsets', namespace });
  const applying = cli(fixture.running, ['apply', '--wait', ...inNamespace(namespace)]);
  try {
    await eventually(() => fixture.running.server.faults.stalled > 0, 'the apply to reach its StatefulSets', 60_000);
    const destroy = await cli(fixture.running, ['destroy', '--delete-volumes', ...inNamespace(namespace)]);
    expect(destroy.code).toBe(1);
    expect(destroy.stderr).toMatch(LOCKED);
    expect(destroy.stderr).toMatch(/locked by loki-microservices apply on/);
  } finally {
    fixture.running.server.faults.allowAll();
  }
  const applied = await applying;
  expect(applied.code).toBe(0);
  expect(applied.stdout).toMatch(/^Ready: /m);
  // Whole: every object an apply alone makes.
  await applyStack(fixture.connection, parseSpec({ metadata: { namespace: 'alone' } }), { retry: FAST_RETRY });
  expect(storedStackObjects(fixture.running, 'loki', namespace)).toEqual(
    storedStackObjects(fixture.running, 'loki', 'alone'),
  );
});

test('a destroy while an apply --wait waits is refused too: the wait is part of the run', async () => {
  const namespace = 'overlap-wait';
  fixture.running.server.faults.stall({ verb: 'watch', namespace });
  const applying = cli(fixture.running, ['apply', '--wait', ...inNamespace(namespace)]);
  try {
    await eventually(() => fixture.running.server.faults.stalled > 0, 'the apply to wait', 60_000);
    const destroy = await cli(fixture.running, ['destroy', ...inNamespace(namespace)]);
    expect(destroy.code).toBe(1);
    expect(destroy.stderr).toMatch(LOCKED);
  } finally {
    fixture.running.server.faults.allowAll();
  }
  expect((await applying).code).toBe(0);
});

test('a lock left by a run that died goes stale, and the next run takes it over', async () => {
  const namespace = 'stale';
  await applyStack(fixture.connection, parseSpec({ metadata: { namespace } }), { retry: FAST_RETRY });
  const long = new Date(Date.now() - 10 * 60_000).toISOString().replace('Z', '000Z');
  await fixture.connection.coordination.createNamespacedLease({
    namespace,
    body: {
      metadata: { name: LEASE },
      spec: {
        holderIdentity: 'loki-microservices apply on a-dead-runner (pid 1, run 00000000)',
        leaseDurationSeconds: 60,
        acquireTime: long as never,
        renewTime: long as never,
      },
    },
  });
  const result = await cli(fixture.running, ['apply', '--wait', ...inNamespace(namespace)]);
  expect(result.code).toBe(0);
  expect(store().get('Lease', namespace, LEASE)).toBeUndefined();
});

test('a fresh lock of another run is respected, even by a destroy', async () => {
  const namespace = 'held';
  await applyStack(fixture.connection, parseSpec({ metadata: { namespace } }), { retry: FAST_RETRY });
  await waitForStack(fixture.connection, { name: 'loki', namespace }, { timeoutMs: 60_000 });
  const now = new Date().toISOString().replace('Z', '000Z');
  await fixture.connection.coordination.createNamespacedLease({
    namespace,
    body: {
      metadata: { name: LEASE },
      spec: {
        holderIdentity: 'loki-microservices apply on another-runner (pid 7, run 12345678)',
        leaseDurationSeconds: 60,
        acquireTime: now as never,
        renewTime: now as never,
      },
    },
  });
  const objects = storedStackObjects(fixture.running, 'loki', namespace);
  const destroy = await cli(fixture.running, ['destroy', '--delete-volumes', ...inNamespace(namespace)]);
  expect(destroy.code).toBe(1);
  expect(destroy.stderr).toContain('locked by loki-microservices apply on another-runner (pid 7, run 12345678)');
  expect(storedStackObjects(fixture.running, 'loki', namespace)).toEqual(objects);
});

test('a run that lost its lock (taken over while it could not renew it) stops before changing more', async () => {
  const namespace = 'lost';
  fixture.running.server.faults.stall({ verb: 'patch', resource: 'statefulsets', namespace });
  const applying = cli(fixture.running, ['apply', ...inNamespace(namespace)]);
  try {
    await eventually(() => fixture.running.server.faults.stalled > 0, 'the apply to reach its StatefulSets', 60_000);
    // Another run took the lock over, as it may once a lock has gone stale.
    const lease = await fixture.connection.coordination.readNamespacedLease({ name: LEASE, namespace });
    await fixture.connection.coordination.replaceNamespacedLease({
      name: LEASE,
      namespace,
      body: {
        ...lease,
        spec: { ...lease.spec, holderIdentity: 'loki-microservices apply on intruder (pid 9, run 99999999)' },
      },
    });
    const before = fixture.running.server.faults.requests.length;
    // The holder renews every 15 s: its next renewal finds the Lease changed, and it reads who has it now.
    const refused = () =>
      fixture.running.server.faults.requests
        .slice(before)
        .findIndex(
          (request) => request.method === 'PUT' && request.path.includes('/leases/') && request.status === 409,
        );
    await eventually(
      () =>
        refused() >= 0 &&
        fixture.running.server.faults.requests
          .slice(before + refused())
          .some((request) => request.method === 'GET' && request.path.includes('/leases/')),
      'a renewal to be refused',
      60_000,
    );
  } finally {
    fixture.running.server.faults.allowAll();
  }
  const result = await applying;
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(
    /lost the lock of stack lost\/loki to loki-microservices apply on intruder .*stopped before changing more/,
  );
  expect(store().get('Lease', namespace, LEASE)?.spec).toMatchObject({
    holderIdentity: 'loki-microservices apply on intruder (pid 9, run 99999999)',
  });
});
