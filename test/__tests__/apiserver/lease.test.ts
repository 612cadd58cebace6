// Leases (coordination.k8s.io/v1), served as Kubernetes serves them: discovery, the verbs through
// client-node's CoordinationV1Api, MicroTime decoding, ValidateLease, the lease strategy (create on update,
// no unconditional update), and exact optimistic concurrency: what a lock built on a Lease relies on. And
// the generic rules behind it, for every kind: DELETE preconditions, resourceVersions in PUTs and patches.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { send } from './http.js';

type Json = Record<string, any>;

let running: RunningApiServer;
let leases: k8s.CoordinationV1Api;

beforeEach(async () => {
  running = await startTestApiServer({ readyAfterMs: 10 });
  leases = running.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
});
afterEach(async () => {
  await running.close();
});

const NS = 'default';
const PATH = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;

const lease = (name: string, spec: k8s.V1LeaseSpec = {}): k8s.V1Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, namespace: NS },
  spec,
});

/** The Status of a refused call, or a failure if it was not refused. */
async function refusal(promise: Promise<unknown>): Promise<{ code: number; body: Json }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) throw error;
    return { code: error.code, body: JSON.parse(error.body as string) as Json };
  }
  throw new Error('expected the API server to refuse the call');
}

const status = (code: number, reason: string, message: string, details: Json) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  details,
  code,
});

describe('discovery', () => {
  test('lists coordination.k8s.io/v1 (as /apis recorded it, transcript 4) with leases: namespaced, all verbs, no short names', async () => {
    const groups = ((await send(running, 'GET', '/apis')).json as Json).groups as Json[];
    expect(groups.find((group) => group.name === 'coordination.k8s.io')).toEqual({
      name: 'coordination.k8s.io',
      versions: [{ groupVersion: 'coordination.k8s.io/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'coordination.k8s.io/v1', version: 'v1' },
    });
    expect((await send(running, 'GET', '/apis/coordination.k8s.io/v1')).json).toEqual({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'coordination.k8s.io/v1',
      resources: [
        {
          name: 'leases',
          singularName: '',
          namespaced: true,
          kind: 'Lease',
          verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          storageVersionHash: 'gqkMMb/YqFM=',
        },
      ],
    });
  });
});

describe('through CoordinationV1Api', () => {
  test('create, read, list, replace, delete; MicroTimes come back with their microseconds', async () => {
    const acquired = new k8s.V1MicroTime('2026-12-06T17:33:25.123Z');
    const created = await leases.createNamespacedLease({
      namespace: NS,
      body: lease('stack-lock', {
        holderIdentity: 'runner-a',
        leaseDurationSeconds: 30,
        acquireTime: acquired,
        renewTime: acquired,
        leaseTransitions: 0,
      }),
    });
    expect(created).toMatchObject({
      metadata: { name: 'stack-lock', namespace: NS, uid: expect.any(String), resourceVersion: expect.any(String) },
      spec: { holderIdentity: 'runner-a', leaseDurationSeconds: 30, leaseTransitions: 0 },
    });
    expect(created.metadata?.generation).toBeUndefined();
    const raw = (await send(running, 'GET', `${PATH}/stack-lock`)).json as Json;
    expect(raw).toMatchObject({
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      spec: { acquireTime: '2026-12-06T17:33:25.123000Z', renewTime: '2026-12-06T17:33:25.123000Z' },
    });
    expect(raw.metadata.managedFields).toEqual([
      expect.objectContaining({
        operation: 'Update',
        apiVersion: 'coordination.k8s.io/v1',
        fieldsV1: {
          'f:spec': {
            'f:acquireTime': {},
            'f:holderIdentity': {},
            'f:leaseDurationSeconds': {},
            'f:leaseTransitions': {},
            'f:renewTime': {},
          },
        },
      }),
    ]);

    const read = await leases.readNamespacedLease({ name: 'stack-lock', namespace: NS });
    expect(read.spec?.holderIdentity).toBe('runner-a');
    await leases.createNamespacedLease({ namespace: NS, body: lease('other') });
    const list = await leases.listNamespacedLease({ namespace: NS });
    expect(list.items.map((item) => [item.metadata?.name, item.spec?.holderIdentity])).toEqual([
      ['other', undefined],
      ['stack-lock', 'runner-a'],
    ]);
    // A Lease without a spec reads back with an empty one (LeaseSpec is not a pointer).
    expect(((await send(running, 'GET', `${PATH}/other`)).json as Json).spec).toEqual({});

    const renewed = await leases.replaceNamespacedLease({
      name: 'stack-lock',
      namespace: NS,
      body: { ...read, spec: { ...read.spec, renewTime: new k8s.V1MicroTime('2026-12-06T17:33:35.000Z') } },
    });
    expect(renewed.metadata?.resourceVersion).not.toBe(read.metadata?.resourceVersion);
    expect(((await send(running, 'GET', `${PATH}/stack-lock`)).json as Json).spec.renewTime).toBe(
      '2026-12-06T17:33:35.000000Z',
    );

    const deleted = (await leases.deleteNamespacedLease({ name: 'stack-lock', namespace: NS })) as unknown as Json;
    expect(deleted).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'stack-lock', group: 'coordination.k8s.io', kind: 'leases', uid: created.metadata?.uid },
    });
    expect(await refusal(leases.readNamespacedLease({ name: 'stack-lock', namespace: NS }))).toEqual({
      code: 404,
      body: status(404, 'NotFound', 'leases.coordination.k8s.io "stack-lock" not found', {
        name: 'stack-lock',
        group: 'coordination.k8s.io',
        kind: 'leases',
      }),
    });
    await leases.deleteCollectionNamespacedLease({ namespace: NS });
    expect((await leases.listNamespacedLease({ namespace: NS })).items).toEqual([]);
  });

  test('a watch sees a lease acquired, renewed and released', async () => {
    const seen: string[] = [];
    const watch = await new k8s.Watch(running.kubeConfig).watch(
      PATH,
      {},
      (type, object: k8s.V1Lease) => seen.push(`${type} ${object.spec?.holderIdentity ?? '-'}`),
      () => undefined,
    );
    const created = await leases.createNamespacedLease({
      namespace: NS,
      body: lease('lock', { holderIdentity: 'a', leaseDurationSeconds: 15 }),
    });
    await leases.replaceNamespacedLease({
      name: 'lock',
      namespace: NS,
      body: { ...created, spec: { ...created.spec, holderIdentity: 'b' } },
    });
    await leases.deleteNamespacedLease({ name: 'lock', namespace: NS });
    const deadline = Date.now() + 10_000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    watch.abort();
    expect(seen).toEqual(['ADDED a', 'MODIFIED b', 'DELETED b']);
  });

  test('server-side apply: a second manager conflicts on the holder, and force takes it over', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(running.kubeConfig);
    const apply = (holder: string, manager: string, force: boolean) =>
      objects.patch(
        lease('lock', { holderIdentity: holder, leaseDurationSeconds: 15 }) as k8s.KubernetesObject,
        undefined,
        undefined,
        manager,
        force,
        k8s.PatchStrategy.ServerSideApply,
      );
    const applied = (await apply('a', 'runner-a', false)) as k8s.V1Lease;
    expect(applied.metadata?.managedFields).toEqual([
      expect.objectContaining({
        manager: 'runner-a',
        operation: 'Apply',
        fieldsV1: { 'f:spec': { 'f:holderIdentity': {}, 'f:leaseDurationSeconds': {} } },
      }),
    ]);
    const conflict = await refusal(apply('b', 'runner-b', false));
    expect(conflict.code).toBe(409);
    // The same duration is no conflict: only a field set to another value is.
    expect(conflict.body.details.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "runner-a"', field: '.spec.holderIdentity' },
    ]);
    expect(((await apply('b', 'runner-b', true)) as k8s.V1Lease).spec?.holderIdentity).toBe('b');
  });

  test('the server-side Table `kubectl get leases` prints: NAME, HOLDER, AGE', async () => {
    await leases.createNamespacedLease({ namespace: NS, body: lease('held', { holderIdentity: 'runner-a' }) });
    await leases.createNamespacedLease({ namespace: NS, body: lease('free') });
    const table = (
      await send(running, 'GET', PATH, {
        headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
      })
    ).json as Json;
    expect(table.columnDefinitions.map((column: Json) => column.name)).toEqual(['Name', 'Holder', 'Age']);
    expect(table.rows.map((row: Json) => row.cells.slice(0, 2))).toEqual([
      ['free', ''],
      ['held', 'runner-a'],
    ]);
  });
});

describe('decoding and validation', () => {
  test("a MicroTime must be RFC 3339 with six fractional digits (400 with Go's parse error); offsets are stored in UTC", async () => {
    const withTime = (acquireTime: string) =>
      send(running, 'POST', PATH, { body: { ...lease('t'), spec: { acquireTime } } });
    const milliseconds = await withTime('2026-12-06T17:33:25.123Z');
    expect({ code: milliseconds.status, body: milliseconds.json }).toEqual({
      code: 400,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-12-06T17:33:25.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
        reason: 'BadRequest',
        code: 400,
      },
    });
    expect(((await withTime('2026-12-06T17:33:25Z')).json as Json).message).toMatch(/cannot parse "Z" as ".000000"$/);
    expect(((await withTime('2026-12-06T17:33:25.123456789Z')).json as Json).message).toMatch(
      /cannot parse "789Z" as "Z07:00"$/,
    );
    expect(((await withTime('2026-13-06T17:33:25.123456Z')).json as Json).message).toMatch(
      /parsing time "2026-13-06T17:33:25.123456Z": month out of range$/,
    );
    const offset = await withTime('2026-12-06T18:33:25.123456+01:00');
    expect(offset.status).toBe(201);
    expect((offset.json as Json).spec.acquireTime).toBe('2026-12-06T17:33:25.123456Z');
  });

  test('ValidateLease: leaseDurationSeconds > 0 and leaseTransitions >= 0, 422 Invalid with a cause each', async () => {
    const refused = await refusal(
      leases.createNamespacedLease({
        namespace: NS,
        body: lease('bad', { leaseDurationSeconds: 0, leaseTransitions: -1 }),
      }),
    );
    expect(refused).toEqual({
      code: 422,
      body: status(
        422,
        'Invalid',
        'Lease.coordination.k8s.io "bad" is invalid: [spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0, spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0]',
        {
          name: 'bad',
          group: 'coordination.k8s.io',
          kind: 'Lease',
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: 'Invalid value: 0: must be greater than 0',
              field: 'spec.leaseDurationSeconds',
            },
            {
              reason: 'FieldValueInvalid',
              message: 'Invalid value: -1: must be greater than or equal to 0',
              field: 'spec.leaseTransitions',
            },
          ],
        },
      ),
    });
    // Updates are validated the same way.
    const created = await leases.createNamespacedLease({
      namespace: NS,
      body: lease('good', { leaseDurationSeconds: 1 }),
    });
    expect(
      (
        await refusal(
          leases.replaceNamespacedLease({
            name: 'good',
            namespace: NS,
            body: { ...created, spec: { leaseDurationSeconds: -5 } },
          }),
        )
      ).code,
    ).toBe(422);
    // The coordinated-leader-election fields are dropped while their feature gate is off (its default).
    const gated = await send(running, 'POST', PATH, {
      body: {
        ...lease('gated'),
        spec: { holderIdentity: 'a', strategy: 'OldestEmulationVersion', preferredHolder: 'b' },
      },
    });
    expect((gated.json as Json).spec).toEqual({ holderIdentity: 'a' });
  });
});

describe('optimistic concurrency', () => {
  test('a stale resourceVersion is 409 Conflict, none is 422 (no unconditional update for leases), an existing name 409 AlreadyExists', async () => {
    const first = await leases.createNamespacedLease({
      namespace: NS,
      body: lease('stack-lock', { holderIdentity: 'a' }),
    });
    const second = await leases.replaceNamespacedLease({
      name: 'stack-lock',
      namespace: NS,
      body: { ...first, spec: { holderIdentity: 'b' } },
    });
    const details = { name: 'stack-lock', group: 'coordination.k8s.io', kind: 'leases' };
    expect(
      await refusal(
        leases.replaceNamespacedLease({
          name: 'stack-lock',
          namespace: NS,
          body: { ...first, spec: { holderIdentity: 'c' } },
        }),
      ),
    ).toEqual({
      code: 409,
      body: status(
        409,
        'Conflict',
        'Operation cannot be fulfilled on leases.coordination.k8s.io "stack-lock": the object has been modified; please apply your changes to the latest version and try again',
        details,
      ),
    });
    const { resourceVersion: _dropped, ...metadata } = second.metadata!;
    expect(
      await refusal(
        leases.replaceNamespacedLease({
          name: 'stack-lock',
          namespace: NS,
          body: { ...second, metadata, spec: { holderIdentity: 'c' } },
        }),
      ),
    ).toEqual({
      code: 422,
      body: status(
        422,
        'Invalid',
        'leases.coordination.k8s.io "stack-lock" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
        {
          ...details,
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: 'Invalid value: 0x0: must be specified for an update',
              field: 'metadata.resourceVersion',
            },
          ],
        },
      ),
    });
    expect(
      await refusal(
        leases.createNamespacedLease({ namespace: NS, body: lease('stack-lock', { holderIdentity: 'c' }) }),
      ),
    ).toEqual({
      code: 409,
      body: status(409, 'AlreadyExists', 'leases.coordination.k8s.io "stack-lock" already exists', details),
    });
    expect((await leases.readNamespacedLease({ name: 'stack-lock', namespace: NS })).spec?.holderIdentity).toBe('b');
  });

  test('a PUT of a missing lease creates it (AllowCreateOnUpdate), with 201', async () => {
    const created = await send(running, 'PUT', `${PATH}/fresh`, {
      body: { ...lease('fresh', { holderIdentity: 'a' }), metadata: { name: 'fresh', resourceVersion: '12345' } },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      metadata: { name: 'fresh', namespace: NS, uid: expect.any(String) },
      spec: { holderIdentity: 'a' },
    });
    expect((await send(running, 'PUT', `${PATH}/fresh2`, { body: lease('other-name') })).status).toBe(400);
  });

  test('a resourceVersion in a merge patch is a precondition; without one the patch applies to what is stored', async () => {
    const created = await leases.createNamespacedLease({ namespace: NS, body: lease('lock', { holderIdentity: 'a' }) });
    const patch = (body: Json) =>
      send(running, 'PATCH', `${PATH}/lock`, { headers: { 'Content-Type': 'application/merge-patch+json' }, body });
    const moved = await patch({
      metadata: { resourceVersion: created.metadata!.resourceVersion },
      spec: { holderIdentity: 'b' },
    });
    expect(moved.status).toBe(200);
    const stale = await patch({
      metadata: { resourceVersion: created.metadata!.resourceVersion },
      spec: { holderIdentity: 'c' },
    });
    expect({ code: stale.status, message: (stale.json as Json).message }).toEqual({
      code: 409,
      message:
        'Operation cannot be fulfilled on leases.coordination.k8s.io "lock": the object has been modified; please apply your changes to the latest version and try again',
    });
    expect((await patch({ spec: { holderIdentity: 'd' } })).status).toBe(200);
    // A JSON patch's test of the resourceVersion is another way to make it conditional.
    const tested = await send(running, 'PATCH', `${PATH}/lock`, {
      headers: { 'Content-Type': 'application/json-patch+json' },
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: created.metadata!.resourceVersion },
        { op: 'replace', path: '/spec/holderIdentity', value: 'e' },
      ],
    });
    expect(tested.status).toBe(422);
    expect((await leases.readNamespacedLease({ name: 'lock', namespace: NS })).spec?.holderIdentity).toBe('d');
  });

  test('concurrent PUTs with the same resourceVersion: exactly one wins, the others get 409', async () => {
    for (let round = 0; round < 5; round++) {
      const current =
        round === 0
          ? await leases.createNamespacedLease({
              namespace: NS,
              body: lease('lock', { holderIdentity: 'nobody', leaseTransitions: 0 }),
            })
          : await leases.readNamespacedLease({ name: 'lock', namespace: NS });
      const contenders = ['a', 'b', 'c', 'd'].map((who) => `${who}${round}`);
      const outcomes = await Promise.allSettled(
        contenders.map((holder) =>
          leases.replaceNamespacedLease({
            name: 'lock',
            namespace: NS,
            body: {
              ...current,
              spec: {
                ...current.spec,
                holderIdentity: holder,
                leaseTransitions: (current.spec?.leaseTransitions ?? 0) + 1,
              },
            },
          }),
        ),
      );
      const won = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [contenders[i]!] : []));
      const lost = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [(outcome.reason as k8s.ApiException<string>).code] : [],
      );
      expect(won).toHaveLength(1);
      expect(lost).toEqual([409, 409, 409]);
      const stored = await leases.readNamespacedLease({ name: 'lock', namespace: NS });
      expect(stored.spec).toMatchObject({ holderIdentity: won[0], leaseTransitions: round + 1 });
    }
  });
});

describe('DELETE preconditions', () => {
  test('a uid or resourceVersion that does not match is 409 Conflict (dry runs too) and the lease stays; matching ones delete it', async () => {
    const created = await leases.createNamespacedLease({ namespace: NS, body: lease('lock', { holderIdentity: 'a' }) });
    const renewed = await leases.replaceNamespacedLease({
      name: 'lock',
      namespace: NS,
      body: { ...created, spec: { holderIdentity: 'a', renewTime: new k8s.V1MicroTime() } },
    });
    const { uid } = created.metadata!;
    const [stale, current] = [created.metadata!.resourceVersion!, renewed.metadata!.resourceVersion!];
    const details = { name: 'lock', group: 'coordination.k8s.io', kind: 'Lease' };
    const remove = (preconditions: k8s.V1Preconditions, dryRun?: string) =>
      leases.deleteNamespacedLease({
        name: 'lock',
        namespace: NS,
        ...(dryRun ? { dryRun } : {}),
        body: { preconditions },
      });

    expect(await refusal(remove({ resourceVersion: stale }))).toEqual({
      code: 409,
      body: status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on Lease.coordination.k8s.io "lock": the ResourceVersion in the precondition (${stale}) does not match the ResourceVersion in record (${current}). The object might have been modified`,
        details,
      ),
    });
    const otherUid = '00000000-0000-0000-0000-000000000000';
    expect(await refusal(remove({ uid: otherUid, resourceVersion: current }))).toEqual({
      code: 409,
      body: status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on Lease.coordination.k8s.io "lock": the UID in the precondition (${otherUid}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`,
        details,
      ),
    });
    expect((await refusal(remove({ resourceVersion: stale }, 'All'))).code).toBe(409);
    expect((await leases.readNamespacedLease({ name: 'lock', namespace: NS })).metadata?.resourceVersion).toBe(current);

    await remove({ uid, resourceVersion: current });
    expect((await refusal(leases.readNamespacedLease({ name: 'lock', namespace: NS }))).code).toBe(404);
  });

  test('apply to every kind: a ConfigMap (core group: no group in the details), a graceful Pod, and a Namespace in its own words', async () => {
    const configMap = await send(running, 'POST', `/api/v1/namespaces/${NS}/configmaps`, {
      body: { metadata: { name: 'c' } },
    });
    const refused = await send(running, 'DELETE', `/api/v1/namespaces/${NS}/configmaps/c`, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: '1' } },
    });
    expect({ code: refused.status, body: refused.json }).toEqual({
      code: 409,
      body: status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ConfigMap "c": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${(configMap.json as Json).metadata.resourceVersion}). The object might have been modified`,
        { name: 'c', kind: 'ConfigMap' },
      ),
    });
    await send(running, 'POST', `/api/v1/namespaces/${NS}/pods`, {
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    });
    const pod = await send(running, 'DELETE', `/api/v1/namespaces/${NS}/pods/p`, {
      body: { preconditions: { uid: 'not-it' } },
    });
    expect({ code: pod.status, kind: (pod.json as Json).details.kind }).toEqual({ code: 409, kind: 'Pod' });
    expect(running.server.api.get('Pod', NS, 'p').metadata.deletionTimestamp).toBeUndefined();

    await send(running, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'team' } } });
    const uid = running.server.api.get('Namespace', undefined, 'team').metadata.uid;
    const namespace = await send(running, 'DELETE', '/api/v1/namespaces/team', {
      body: { preconditions: { uid: 'not-it' } },
    });
    expect({ code: namespace.status, body: namespace.json }).toEqual({
      code: 409,
      body: status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on namespaces "team": Precondition failed: UID in precondition: not-it, UID in object meta: ${uid}`,
        { name: 'team', kind: 'namespaces' },
      ),
    });
    expect(
      (await send(running, 'DELETE', '/api/v1/namespaces/team', { body: { preconditions: { uid } } })).status,
    ).toBe(200);
  });

  test('custom resources allow no unconditional update either (422 without a resourceVersion)', async () => {
    await running.close();
    running = await startTestApiServer({ readyAfterMs: 10, crds: ['monitoring.coreos.com'] });
    const path = `/apis/monitoring.coreos.com/v1/namespaces/${NS}/podmonitors`;
    const body = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'm' },
      spec: { selector: {} },
    };
    const created = (await send(running, 'POST', path, { body })).json as Json;
    const unconditional = await send(running, 'PUT', `${path}/m`, { body: { ...body, spec: { jobLabel: 'x' } } });
    expect({ code: unconditional.status, message: (unconditional.json as Json).message }).toEqual({
      code: 422,
      message:
        'podmonitors.monitoring.coreos.com "m" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    });
    expect(
      (
        await send(running, 'PUT', `${path}/m`, {
          body: {
            ...body,
            metadata: { name: 'm', resourceVersion: created.metadata.resourceVersion },
            spec: { jobLabel: 'x' },
          },
        })
      ).status,
    ).toBe(200);
    // Core kinds allow it: a ConfigMap PUT without a resourceVersion overwrites.
    await send(running, 'POST', `/api/v1/namespaces/${NS}/configmaps`, {
      body: { metadata: { name: 'c' }, data: { a: '1' } },
    });
    expect(
      (
        await send(running, 'PUT', `/api/v1/namespaces/${NS}/configmaps/c`, {
          body: { metadata: { name: 'c' }, data: { a: '2' } },
        })
      ).status,
    ).toBe(200);
  });
});
