// Asynchronous namespace deletion, as Kubernetes does it: a Namespace's DELETE marks it Terminating
// (transcripts 59-60); its objects stay readable, listable, watchable and deletable while new ones are
// refused (transcript 61); the namespace controller then removes the content through the normal deletion
// flow, one resource type at a time, writes its conditions, and removes its `kubernetes` finalizer once
// nothing is left, which lets the Namespace go.
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import type { Change } from '../../src/apiserver/store.js';
import { send } from './http.js';
import { transcript } from './transcripts.js';

// Each test waits for a namespace to be emptied in real time (a second or so each).
jest.setTimeout(60_000);

type Json = Record<string, any>;

let running: RunningApiServer;

afterEach(async () => {
  await running?.close();
});

async function start(namespaceDeletionDelayMs: number): Promise<void> {
  running = await startTestApiServer({ readyAfterMs: 10, namespaceDeletionDelayMs });
  await send(running, 'POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } },
  });
}

/** Wait until `condition` holds, polling; generous deadline (the machine may be busy). */
async function until<T>(
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const create = (path: string, body: Json) => send(running, 'POST', path, { body });
const status = async (path: string) => (await send(running, 'GET', path)).status;

/** Every change from now on, with the time it happened. */
function changes(): (Change & { at: number })[] {
  const seen: (Change & { at: number })[] = [];
  running.server.store.subscribe((change) => seen.push({ ...change, at: Date.now() }));
  return seen;
}

const pod = (claim?: string): Json => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app' },
  spec: {
    containers: [
      { name: 'app', image: 'busybox', ...(claim ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}) },
    ],
    ...(claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] } : {}),
  },
});
const claim: Json = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
};

describe('a deleted namespace', () => {
  test('keeps its objects readable, listable, watchable and deletable, then loses them through the normal deletion flow, then goes', async () => {
    // Ample time for the requests right after the DELETE, however busy the machine.
    const delayMs = 3000;
    await start(delayMs);
    for (const name of ['a', 'b'])
      await create('/api/v1/namespaces/demo/configmaps', { metadata: { name }, data: { key: name } });
    await create('/api/v1/namespaces/demo/secrets', { metadata: { name: 's' }, stringData: { password: 'x' } });
    await create('/api/v1/namespaces/demo/persistentvolumeclaims', claim);
    await create('/api/v1/namespaces/demo/pods', pod('data'));
    await running.server.cluster.idle();
    expect((running.server.api.get('Pod', 'demo', 'app').status as Json).phase).toBe('Running');
    const seen = changes();

    const deletedAt = Date.now();
    const deleted = await send(running, 'DELETE', '/api/v1/namespaces/demo');
    expect(deleted.status).toBe(200);
    expect(deleted.json).toMatchObject({
      kind: 'Namespace',
      metadata: { name: 'demo', deletionTimestamp: expect.any(String) },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Terminating' },
    });

    // Right after the DELETE: everything is still there, and can be read, listed, watched and deleted.
    expect((await send(running, 'GET', '/api/v1/namespaces/demo/configmaps/a')).json).toMatchObject({
      data: { key: 'a' },
    });
    expect(
      ((await send(running, 'GET', '/api/v1/namespaces/demo/configmaps')).json as { items: Json[] }).items.map(
        (i) => i.metadata.name,
      ),
    ).toEqual(['a', 'b']);
    const watched: string[] = [];
    const watch = await new k8s.Watch(running.kubeConfig).watch(
      '/api/v1/namespaces/demo/configmaps',
      {},
      (type, object: k8s.KubernetesObject) => watched.push(`${type} ${object.metadata?.name}`),
      () => undefined,
    );
    const removed = await send(running, 'DELETE', '/api/v1/namespaces/demo/secrets/s');
    expect(removed.status).toBe(200);
    expect(removed.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 's', kind: 'secrets' } });
    expect(await status('/api/v1/namespaces/demo/configmaps/a')).toBe(200);

    // Then the namespace controller takes the content away, and the Namespace goes last.
    await until(async () => (await status('/api/v1/namespaces/demo/configmaps/a')) === 404, 'the ConfigMaps to go');
    await until(async () => (await status('/api/v1/namespaces/demo')) === 404, 'the Namespace to go');
    watch.abort();
    expect(watched).toEqual(['ADDED a', 'ADDED b', 'DELETED a', 'DELETED b']);

    const removals = seen.filter((change) => change.type === 'DELETED');
    const removedAt = (kind: string, name?: string) =>
      removals.find((change) => change.kind === kind && (!name || change.object.metadata.name === name))!.at;
    // Not before the delay: the content started to go only then (the Secret went with its own DELETE).
    expect(removedAt('ConfigMap') - deletedAt).toBeGreaterThanOrEqual(delayMs);
    // The pod terminated gracefully (marked first, then removed by its kubelet), and the claim's protection
    // finalizer held it until the pod was gone.
    const podMarked = seen.find(
      (change) => change.kind === 'Pod' && change.type === 'MODIFIED' && change.object.metadata.deletionTimestamp,
    );
    expect(podMarked).toBeDefined();
    expect(podMarked!.at).toBeLessThanOrEqual(removedAt('Pod'));
    const claimMarked = seen.find(
      (change) =>
        change.kind === 'PersistentVolumeClaim' &&
        change.type === 'MODIFIED' &&
        change.object.metadata.deletionTimestamp,
    );
    expect(claimMarked?.object.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    expect(removals.findIndex((change) => change.kind === 'Pod')).toBeLessThan(
      removals.findIndex((change) => change.kind === 'PersistentVolumeClaim'),
    );
    expect(removals.at(-1)).toMatchObject({ kind: 'Namespace', object: { metadata: { name: 'demo' } } });
    // Its last state: the deletion conditions, all False once the content was gone.
    const last = removals.at(-1)!.object;
    expect((last.status as Json).conditions.map((c: Json) => [c.type, c.status, c.reason])).toEqual([
      ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
      ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
      ['NamespaceContentRemaining', 'False', 'ContentRemoved'],
      ['NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers'],
    ]);
    expect(await status('/api/v1/namespaces/demo/pods/app')).toBe(404);
    expect(await status('/api/v1/namespaces/demo/persistentvolumeclaims/data')).toBe(404);
  });

  test('is emptied one resource type at a time, not in one step', async () => {
    await start(100);
    for (const name of ['a', 'b']) await create('/api/v1/namespaces/demo/configmaps', { metadata: { name } });
    for (const name of ['c', 'd']) await create('/api/v1/namespaces/demo/secrets', { metadata: { name } });
    await create('/api/v1/namespaces/demo/serviceaccounts', { metadata: { name: 'e' } });
    const seen = changes();
    await send(running, 'DELETE', '/api/v1/namespaces/demo');
    await until(async () => (await status('/api/v1/namespaces/demo')) === 404, 'the Namespace to go');
    const at = (kind: string) =>
      seen.filter((change) => change.type === 'DELETED' && change.kind === kind).map((change) => change.at);
    // One deletecollection per type: the objects of a type go together, the next type a step later.
    for (const kind of ['ConfigMap', 'Secret', 'ServiceAccount'])
      expect(at(kind)).toHaveLength(kind === 'ServiceAccount' ? 1 : 2);
    expect(Math.min(...at('Secret')) - Math.max(...at('ConfigMap'))).toBeGreaterThanOrEqual(5);
    expect(Math.min(...at('ServiceAccount')) - Math.max(...at('Secret'))).toBeGreaterThanOrEqual(5);
  });

  test('refuses new objects with 403 as transcript 61 records it, and a second DELETE with 409', async () => {
    await start(60_000);
    expect((await send(running, 'DELETE', '/api/v1/namespaces/demo')).status).toBe(200);
    const recorded = transcript(61);
    const refused = await send(running, recorded.request.method, recorded.request.path, {
      headers: recorded.request.headers,
      body: recorded.request.body,
    });
    expect({ status: refused.status, body: refused.json }).toEqual({
      status: recorded.response.status,
      body: recorded.response.body,
    });
    // A POST too, in the same words.
    const posted = await create('/api/v1/namespaces/demo/configmaps', { metadata: { name: 'late' } });
    expect({ status: posted.status, body: posted.json }).toEqual({ status: 403, body: recorded.response.body });
    const lease = await create('/apis/coordination.k8s.io/v1/namespaces/demo/leases', { metadata: { name: 'lock' } });
    expect((lease.json as Json).message).toBe(
      'leases.coordination.k8s.io "lock" is forbidden: unable to create new content in namespace demo because it is being terminated',
    );
    // The namespace REST's answer to a DELETE while its content is being removed.
    const again = await send(running, 'DELETE', '/api/v1/namespaces/demo');
    expect({ status: again.status, body: again.json }).toEqual({
      status: 409,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'Operation cannot be fulfilled on namespaces "demo": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
        reason: 'Conflict',
        details: { name: 'demo', kind: 'namespaces' },
        code: 409,
      },
    });
  });

  test('stays Terminating while a finalizer holds an object, with the conditions saying so, and goes once it is released', async () => {
    await start(100);
    await create('/api/v1/namespaces/demo/configmaps', {
      metadata: { name: 'held', finalizers: ['example.com/hold'] },
    });
    await create('/api/v1/namespaces/demo/configmaps', { metadata: { name: 'free' } });
    await send(running, 'DELETE', '/api/v1/namespaces/demo');
    const conditionsOf = async () =>
      ((await send(running, 'GET', '/api/v1/namespaces/demo')).json as Json).status.conditions as Json[] | undefined;
    const conditions = await until(async () => {
      const current = await conditionsOf();
      return current?.find((c) => c.type === 'NamespaceContentRemaining')?.status === 'True' && current;
    }, 'the conditions');
    expect(conditions).toEqual([
      {
        type: 'NamespaceDeletionDiscoveryFailure',
        status: 'False',
        lastTransitionTime: expect.any(String),
        reason: 'ResourcesDiscovered',
        message: 'All resources successfully discovered',
      },
      {
        type: 'NamespaceDeletionGroupVersionParsingFailure',
        status: 'False',
        lastTransitionTime: expect.any(String),
        reason: 'ParsedGroupVersions',
        message: 'All legacy kube types successfully parsed',
      },
      {
        type: 'NamespaceDeletionContentFailure',
        status: 'False',
        lastTransitionTime: expect.any(String),
        reason: 'ContentDeleted',
        message: 'All content successfully deleted, may be waiting on finalization',
      },
      {
        type: 'NamespaceContentRemaining',
        status: 'True',
        lastTransitionTime: expect.any(String),
        reason: 'SomeResourcesRemain',
        message: 'Some resources are remaining: configmaps. has 1 resource instances',
      },
      {
        type: 'NamespaceFinalizersRemaining',
        status: 'True',
        lastTransitionTime: expect.any(String),
        reason: 'SomeFinalizersRemain',
        message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
      },
    ]);
    expect(await status('/api/v1/namespaces/demo/configmaps/free')).toBe(404);
    const held = (await send(running, 'GET', '/api/v1/namespaces/demo/configmaps/held')).json as Json;
    expect(held.metadata).toMatchObject({ deletionTimestamp: expect.any(String), finalizers: ['example.com/hold'] });
    expect(((await send(running, 'GET', '/api/v1/namespaces/demo')).json as Json).status.phase).toBe('Terminating');

    // Updates of what is there are allowed: removing the finalizer lets the object, then the namespace, go.
    const released = await send(running, 'PATCH', '/api/v1/namespaces/demo/configmaps/held', {
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { metadata: { finalizers: null } },
    });
    expect(released.status).toBe(200);
    await until(async () => (await status('/api/v1/namespaces/demo')) === 404, 'the Namespace to go');
  });

  test('a namespace created again under the same name after it went is a new, empty one', async () => {
    await start(50);
    await create('/api/v1/namespaces/demo/configmaps', { metadata: { name: 'old' } });
    await send(running, 'DELETE', '/api/v1/namespaces/demo');
    await until(async () => (await status('/api/v1/namespaces/demo')) === 404, 'the Namespace to go');
    expect((await create('/api/v1/namespaces', { metadata: { name: 'demo' } })).status).toBe(201);
    expect((await create('/api/v1/namespaces/demo/configmaps', { metadata: { name: 'new' } })).status).toBe(201);
    expect(
      ((await send(running, 'GET', '/api/v1/namespaces/demo/configmaps')).json as { items: Json[] }).items.map(
        (i) => i.metadata.name,
      ),
    ).toEqual(['new']);
    expect(((await send(running, 'GET', '/api/v1/namespaces/demo')).json as Json).spec).toEqual({
      finalizers: ['kubernetes'],
    });
  });
});

describe('the namespace strategies', () => {
  test('spec.finalizers changes only through namespaces/finalize; an update of the Namespace keeps them', async () => {
    await start(60_000);
    const stored = (await send(running, 'GET', '/api/v1/namespaces/demo')).json as Json;
    const updated = await send(running, 'PUT', '/api/v1/namespaces/demo', {
      body: { ...stored, metadata: { ...stored.metadata, labels: { team: 'a' } }, spec: { finalizers: [] } },
    });
    expect(updated.json).toMatchObject({ metadata: { labels: { team: 'a' } }, spec: { finalizers: ['kubernetes'] } });
    expect((await send(running, 'GET', '/api/v1/namespaces/demo/finalize')).status).toBe(405);
    // Finalizing a namespace that is not being deleted just empties the list (as the API server allows).
    const current = (await send(running, 'GET', '/api/v1/namespaces/demo')).json as Json;
    const finalized = await send(running, 'PUT', '/api/v1/namespaces/demo/finalize', {
      body: { ...current, spec: { finalizers: [] }, status: { phase: 'Terminating' } },
    });
    expect(finalized.status).toBe(200);
    expect((finalized.json as Json).spec).toEqual({});
    expect((finalized.json as Json).status).toEqual({ phase: 'Active' });
    // Without its `kubernetes` finalizer, the first DELETE still only marks it (and nothing empties it);
    // the next DELETE removes it.
    await create('/api/v1/namespaces/demo/configmaps', { metadata: { name: 'orphan' } });
    expect(((await send(running, 'DELETE', '/api/v1/namespaces/demo')).json as Json).status).toEqual({
      phase: 'Terminating',
    });
    await running.server.cluster.idle();
    expect(await status('/api/v1/namespaces/demo/configmaps/orphan')).toBe(200);
    const second = await send(running, 'DELETE', '/api/v1/namespaces/demo');
    expect(second.json).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'demo', kind: 'namespaces' },
    });
    expect(await status('/api/v1/namespaces/demo')).toBe(404);
  });
});
