// The fault knobs that make the double an unreachable, unresponsive or policy-enforcing API server:
// `outage` (a crashed kube-apiserver behind a load balancer: every connection cut, new ones reset),
// `stall` (requests accepted and never answered, for client timeouts) and `deny` (a validating admission
// webhook's refusal as kube-apiserver words it, its message computed from the request).
import { request } from 'node:https';
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { serverCredentials } from '../../src/apiserver/tls.js';
import { send } from './http.js';
import { applier, applyStack, forward, http, NAMESPACE, podOf } from './stack.js';

// Waits are on conditions with generous deadlines; a busy machine only makes them slower.
jest.setTimeout(60_000);

type Json = Record<string, any>;

let running: RunningApiServer;

beforeEach(async () => {
  running = await startTestApiServer({ readyAfterMs: 10 });
});
afterEach(async () => {
  await running.close();
});

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A raw request that gives up after `timeoutMs` without an answer (as a client's timeout does): resolves
 * with the answer, or rejects with the error (`timed out` when it gave up).
 */
async function call(
  method: string,
  path: string,
  options: { body?: unknown; timeoutMs?: number; onResponse?: () => void } = {},
): Promise<{ status: number; text: string }> {
  const { caPem } = await serverCredentials();
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${running.url}${path}`,
      {
        method,
        ca: caPem,
        headers: {
          Authorization: `Bearer ${running.server.token}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
      },
      (res) => {
        options.onResponse?.();
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    if (options.timeoutMs !== undefined) req.setTimeout(options.timeoutMs, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const configMaps = `/api/v1/namespaces/${NAMESPACE}/configmaps`;

describe('outage', () => {
  test('cuts open watches and port-forwards, resets every new connection, and ends with the stored state intact', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const before = (await send(running, 'GET', `${configMaps}/loki-config`)).json;

    const forwarded = await forward(running, podOf(running, 'distributor'), 3100);
    expect((await http(forwarded.port, 'GET', '/ready')).body).toBe('ready\n');
    expect(running.server.portForwards.open).toBe(1);
    const ws = forwarded.sockets[0]!;
    let watchEnded = false;
    const watch = await new k8s.Watch(running.kubeConfig).watch(
      configMaps,
      {},
      () => undefined,
      () => (watchEnded = true),
    );

    running.server.faults.outage();
    expect(running.server.faults.inOutage).toBe(true);
    await until(() => watchEnded, 'the watch to be cut');
    await until(
      () => ws.readyState === (ws as WebSocket).CLOSED && running.server.portForwards.open === 0,
      'the port-forward to be cut',
    );
    await until(() => running.server.openConnections === 0, 'every connection to be cut');
    // Nothing answers: not a raw request, not client-node.
    await expect(send(running, 'GET', configMaps)).rejects.toThrow();
    await expect(running.kubeConfig.makeApiClient(k8s.CoreV1Api).listNamespace()).rejects.toThrow();
    expect(running.server.portForwards.open).toBe(0);

    running.server.faults.endOutage();
    expect(running.server.faults.inOutage).toBe(false);
    expect((await send(running, 'GET', `${configMaps}/loki-config`)).json).toEqual(before);
    expect((await http(forwarded.port, 'GET', '/ready')).body).toBe('ready\n');
    expect(running.server.openConnections).toBeGreaterThan(0);
    watch.abort();
    await forwarded.close();
  });

  test('with a duration, ends by itself; requests sent during it fail, those after it are answered', async () => {
    running.server.faults.outage(300);
    await expect(call('GET', '/api/v1/namespaces')).rejects.toThrow();
    expect(running.server.faults.inOutage).toBe(true);
    await until(() => !running.server.faults.inOutage, 'the outage to end');
    expect((await call('GET', '/api/v1/namespaces')).status).toBe(200);
  });
});

describe('stall', () => {
  test('matching requests are accepted and never answered, so clients time out; others are answered; released ones are answered', async () => {
    running.server.faults.stall({ verb: 'list', resource: 'configmaps' });
    const started = Date.now();
    await expect(call('GET', '/api/v1/namespaces/default/configmaps', { timeoutMs: 300 })).rejects.toThrow('timed out');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(running.server.faults.stalled).toBe(1);
    // Other verbs and resources go through.
    expect(
      (await call('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'c' } } })).status,
    ).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/c')).status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/pods')).status).toBe(200);

    const waiting = call('GET', '/api/v1/namespaces/default/configmaps');
    await until(() => running.server.faults.stalled === 2, 'the second request to be held');
    running.server.faults.releaseStalled();
    const answered = await waiting;
    expect(answered.status).toBe(200);
    expect((JSON.parse(answered.text) as Json).items.map((item: Json) => item.metadata.name)).toEqual(['c']);
    expect(running.server.faults.stalled).toBe(0);
  });

  test('watches can be stalled alone: lists are answered, a watch never starts until allowAll()', async () => {
    running.server.faults.stall({ verb: 'watch' });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
    let started = false;
    const watch = call('GET', '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1', {
      onResponse: () => (started = true),
    });
    await until(() => running.server.faults.stalled === 1, 'the watch to be held');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(started).toBe(false);
    running.server.faults.allowAll();
    expect((await watch).status).toBe(200);
    expect(started).toBe(true);
  });

  test('close() finishes promptly with stalled requests open, and their clients see the connection go', async () => {
    running.server.faults.stall({});
    const pending = [
      call('GET', '/api/v1/namespaces/default/configmaps'),
      call('GET', '/api/v1/namespaces/default/configmaps?watch=1'),
      call('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'c' } } }),
    ].map((promise) =>
      promise.then(
        () => 'answered',
        () => 'failed',
      ),
    );
    await until(() => running.server.faults.stalled === 3, 'the requests to be held');
    const closing = Date.now();
    await running.close();
    expect(Date.now() - closing).toBeLessThan(3000);
    expect(await Promise.all(pending)).toEqual(['failed', 'failed', 'failed']);
    expect(running.server.store.get('ConfigMap', 'default', 'c')).toBeUndefined();
  });
});

describe('deny', () => {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'creds', namespace: 'default' },
    stringData: { password: 'hunter2' },
  };

  test('refuses matching writes as a validating webhook does, with a message made from the request body (a Secret echoed back)', async () => {
    const reviews: Json[] = [];
    running.server.faults.deny({ resource: 'secrets', webhook: 'secrets.policy.example.com' }, (body, review) => {
      reviews.push(review);
      return `secret values are not allowed here: ${JSON.stringify((body as Json).stringData ?? (body as Json).data)}`;
    });
    const apply = applier(running);
    const refused = await apply(secret).then(
      () => undefined,
      (error: k8s.ApiException<string>) => ({ code: error.code, body: JSON.parse(error.body) as Json }),
    );
    // What the API server answers when the webhook's Status has a message and no code: 400, no reason.
    expect(refused).toEqual({
      code: 400,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'admission webhook "secrets.policy.example.com" denied the request: secret values are not allowed here: {"password":"hunter2"}',
        code: 400,
      },
    });
    // The webhook saw the object as it would be stored: stringData already turned into data.
    expect(reviews[0]).toMatchObject({
      verb: 'patch',
      resource: 'secrets',
      namespace: 'default',
      name: 'creds',
      object: { kind: 'Secret', data: { password: Buffer.from('hunter2').toString('base64') } },
      oldObject: undefined,
    });
    expect(reviews[0]!.object.stringData).toBeUndefined();
    // Nothing was stored; a JSON create and a dry run are refused the same way; reads and other kinds are not concerned.
    expect((await send(running, 'GET', '/api/v1/namespaces/default/secrets/creds')).status).toBe(404);
    const created = await send(running, 'POST', '/api/v1/namespaces/default/secrets', {
      body: { metadata: { name: 'creds' }, data: { token: 'c2VjcmV0' } },
    });
    expect({ code: created.status, message: (created.json as Json).message }).toEqual({
      code: 400,
      message:
        'admission webhook "secrets.policy.example.com" denied the request: secret values are not allowed here: {"token":"c2VjcmV0"}',
    });
    expect(
      (
        await send(running, 'POST', '/api/v1/namespaces/default/secrets?dryRun=All', {
          body: { metadata: { name: 'creds' } },
        })
      ).status,
    ).toBe(400);
    expect((await send(running, 'GET', '/api/v1/namespaces/default/secrets')).status).toBe(200);
    expect(
      (await send(running, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'c' } } }))
        .status,
    ).toBe(201);
    // The API server's own validation comes first.
    expect(
      (await send(running, 'POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: 'Not_Valid' } } }))
        .status,
    ).toBe(422);
    // The simulated cluster's controllers are not clients: their writes are not refused.
    running.server.api.create(
      'Secret',
      'default',
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'internal' } },
      { manager: 'test' },
    );

    running.server.faults.allowAll();
    expect((await apply(secret)).metadata?.name).toBe('creds');
  });

  test("narrows by verb; deletes are shown the stored object; the webhook's code and reason are passed on", async () => {
    await send(running, 'POST', '/api/v1/namespaces/default/configmaps', {
      body: { metadata: { name: 'keep' }, data: { a: '1' } },
    });
    // As controller-runtime's admission.Denied answers: 403 Forbidden.
    running.server.faults.deny(
      { verb: 'delete', resource: 'configmaps', namespace: 'default', reason: 'Forbidden' },
      (body, review) =>
        `not ${review.verb} of ${JSON.stringify((review.oldObject as Json).data)} (${JSON.stringify(body)})`,
      403,
    );
    expect(
      (
        await send(running, 'PUT', '/api/v1/namespaces/default/configmaps/keep', {
          body: { metadata: { name: 'keep' }, data: { a: '2' } },
        })
      ).status,
    ).toBe(200);
    const refused = await send(running, 'DELETE', '/api/v1/namespaces/default/configmaps/keep', {
      body: { propagationPolicy: 'Background' },
    });
    expect({ code: refused.status, body: refused.json }).toEqual({
      code: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'admission webhook "validate.test-apiserver.example.com" denied the request: not delete of {"a":"2"} ({"propagationPolicy":"Background"})',
        reason: 'Forbidden',
        code: 403,
      },
    });
    // Verbs are the API's, as for forbid: a deletecollection is its own verb.
    running.server.faults.deny({ verb: 'deletecollection', resource: 'configmaps' }, () => 'not all of them');
    const collection = await send(running, 'DELETE', '/api/v1/namespaces/default/configmaps');
    expect({ code: collection.status, message: (collection.json as Json).message }).toEqual({
      code: 400,
      message: 'admission webhook "validate.test-apiserver.example.com" denied the request: not all of them',
    });
    expect((await send(running, 'GET', '/api/v1/namespaces/default/configmaps/keep')).status).toBe(200);

    running.server.faults.clearDenials();
    // A code below 400 is raised to 400; an empty message says so.
    running.server.faults.deny({ resource: 'deployments' }, () => '', 200);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    };
    const unexplained = await send(running, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      body: deployment,
    });
    expect({ code: unexplained.status, body: unexplained.json }).toEqual({
      code: 400,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'admission webhook "validate.test-apiserver.example.com" denied the request without explanation',
        code: 400,
      },
    });
  });
});
