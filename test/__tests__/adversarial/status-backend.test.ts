// The status backend under attack (items 1, 7 and a low one): a stack path or an entity annotation that is not
// a stack's names, a cluster that accepts connections and never answers (the backend used never to answer
// either), and 503 messages that used to carry the API server's URL and the backend's RBAC identity. It answers
// 400 (path) or 404 (annotation) without asking the cluster, 503 within its deadline, and says what failed
// without saying where.
import { createServer, type Server, type Socket } from 'node:net';
import { jest } from '@jest/globals';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { applyStack, parseSpec } from 'loki-microservices';
import request from 'supertest';
import { byEntity, stackEntity } from '../backstage-status/entities.js';
import { AS, statusServices } from '../backstage-status/stacks.js';
import { FAST_RETRY, startFixture, type Fixture } from '../cluster/fixture.js';
import { appConfig } from '../scaffolder/fixture.js';

jest.setTimeout(120_000);

type Json = Record<string, any>;

let fixture: Fixture;
let silent: Server;
const held: Socket[] = [];
let get: (path: string, as?: string) => request.Test;
const TIMEOUT_SECONDS = 2;
const TRAVERSALS = ['dev/../loki', 'dev/seen/..', 'dev/seen/../loki', '../seen/loki', 'dev/seen/loki/..'];

beforeAll(async () => {
  fixture = await startFixture();
  silent = createServer((socket) => void held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const config = (await appConfig(fixture.running)).get() as Json;
  const port = (silent.address() as { port: number }).port;
  config.kubernetes.clusterLocatorMethods[0].clusters.push({
    name: 'silent',
    url: `https://127.0.0.1:${port}`,
    authProvider: 'serviceAccount',
    serviceAccountToken: 'silent-token',
    skipTLSVerify: true,
  });
  const { server } = await startTestBackend({
    features: [
      import('@loki-microservices/plugin-loki-stack-backend'),
      mockServices.rootConfig.factory({
        data: { ...config, lokiStack: { statusCacheSeconds: 0, statusTimeoutSeconds: TIMEOUT_SECONDS } },
      }),
      ...statusServices([
        ...['silent/seen/loki', 'dev/seen/loki'].map((location) => stackEntity(location)),
        ...TRAVERSALS.map((location, index) => stackEntity(location, `traversal-${index}`)),
      ]),
    ],
  });
  get = (path: string, as = AS.user) => request(server).get(`/api/loki-stack${path}`).set('Authorization', as);
  await applyStack(fixture.connection, parseSpec({ metadata: { namespace: 'seen' } }), { retry: FAST_RETRY });
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  await fixture.close();
});

test.each([
  '/stacks/dev/%2E%2E/loki',
  '/stacks/dev/seen/%2E%2E',
  '/stacks/dev/seen/..%2Floki',
  '/stacks/%2E%2E/seen/loki',
])('%s: 400, nothing asked of the cluster', async (path) => {
  const sent = fixture.running.server.faults.requests.length;
  const response = await get(path, AS.service);
  expect(response.status).toBe(400);
  expect(fixture.running.server.faults.requests).toHaveLength(sent);
});

test.each(TRAVERSALS.map((location, index) => [location, index]))(
  'an entity annotated %s: 404, nothing asked of the cluster',
  async (location, index) => {
    const sent = fixture.running.server.faults.requests.length;
    const response = await get(byEntity(stackEntity(location as string, `traversal-${index}`)));
    expect(response.status).toBe(404);
    expect(response.body.error.message).toMatch(
      /names no Loki stack: its loki-microservices\/stack annotation .* is not <cluster>\/<namespace>\/<name>/,
    );
    expect(fixture.running.server.faults.requests).toHaveLength(sent);
  },
);

test('a cluster that never answers: 503 within the deadline, saying it did not answer in time', async () => {
  const started = Date.now();
  const response = await get(byEntity(stackEntity('silent/seen/loki')));
  expect(response.status).toBe(503);
  expect(response.body.error.message).toMatch(/cluster "silent" did not answer in time/);
  expect(Date.now() - started).toBeLessThan(TIMEOUT_SECONDS * 1000 + 10_000);
});

test("a 503 says what failed, not the API server's address or the identity it refused", async () => {
  fixture.running.server.faults.forbid({ verb: 'list', resource: 'pods' });
  try {
    const response = await get(byEntity(stackEntity('dev/seen/loki')));
    expect(response.status).toBe(503);
    const message = response.body.error.message as string;
    expect(message).toMatch(/cluster "dev" refuses access/);
    expect(message).not.toContain(fixture.running.url);
    expect(message).not.toMatch(/127\.0\.0\.1|system:serviceaccount|User "/);
  } finally {
    fixture.running.server.faults.allowAll();
  }
});
