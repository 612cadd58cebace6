// The status API (plugin loki-stack) in a real backend, through Backstage's real auth: a signed-in user's token
// from the guest provider, the static token of an external service, no token; and the real catalog and
// permission backend deciding who may read which entity. The stack is put on the cluster by the core library
// (set-up, not the code under test).
import { applyStack, connect, parseSpec, STACK_ANNOTATION } from 'loki-microservices';
import { eventually, FAST_RETRY } from '../cluster/fixture.js';
import { waitForEntity } from '../../src/backstage-host/host.js';
import { START_TIMEOUT_MS, startAll, TEST_TIMEOUT_MS, type Started } from './setup.js';

type Json = Record<string, any>;

const entity = (name: string, annotations: Record<string, string>) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'loki-stack', owner: 'group:default/platform' },
});

const BY_ENTITY = '/api/loki-stack/stacks/by-entity/resource/default/logs-status';
const BY_LOCATION = '/api/loki-stack/stacks/dev/st-ready/loki';

let started: Started;

beforeAll(async () => {
  started = await startAll({
    entities: [entity('logs-status', { [STACK_ANNOTATION]: 'dev/st-ready/loki' }), entity('no-stack', {})],
  });
  const connection = connect({ kubeconfig: started.running.kubeconfigPath });
  try {
    await applyStack(connection, parseSpec({ metadata: { name: 'loki', namespace: 'st-ready' } }), {
      retry: FAST_RETRY,
    });
  } finally {
    connection.close();
  }
  await waitForEntity(started.host, 'resource:default/logs-status');
  await waitForEntity(started.host, 'resource:default/no-stack');
}, START_TIMEOUT_MS);

afterAll(async () => {
  await started?.stop();
}, 60_000);

afterEach(() => started.host.setPolicy({ deny: [] }));

test(
  'a user: the status of the stack the entity names, by entity',
  async () => {
    const token = await started.host.userToken();
    const body = await eventually(
      async () => {
        const answer = await started.host.request(BY_ENTITY, { token });
        expect([answer.status, answer.text.slice(0, 2000)]).toEqual([200, expect.anything()]);
        return (answer.body as Json).condition?.type === 'Ready' && answer.body;
      },
      'the stack to be Ready through the status API',
      120_000,
      500,
    );
    expect(body).toMatchObject({
      kind: 'StackStatus',
      name: 'loki',
      namespace: 'st-ready',
      condition: { type: 'Ready' },
    });
    expect(started.host.decisions()).toEqual(
      expect.arrayContaining([{ permission: 'loki.stack.read', user: started.host.userEntityRef, result: 'ALLOW' }]),
    );
  },
  TEST_TIMEOUT_MS,
);

test(
  'no token: 401',
  async () => {
    const answer = await started.host.request(BY_ENTITY);
    expect(answer.status).toBe(401);
  },
  TEST_TIMEOUT_MS,
);

test(
  'a user the policy denies catalog.entity.read: 404, as for an entity that does not exist',
  async () => {
    started.host.setPolicy({ deny: ['catalog.entity.read'] });
    const token = await started.host.userToken();
    const answer = await started.host.request(BY_ENTITY, { token });
    expect([answer.status, answer.text.slice(0, 1000)]).toEqual([404, expect.anything()]);
    const missing = await started.host.request('/api/loki-stack/stacks/by-entity/resource/default/no-such-entity', {
      token,
    });
    expect(missing.status).toBe(404);
    expect(answer.body.error.message).not.toMatch(/st-ready/);
  },
  TEST_TIMEOUT_MS,
);

test(
  'a user the policy denies loki.stack.read: 403',
  async () => {
    started.host.setPolicy({ deny: ['loki.stack.read'] });
    const answer = await started.host.request(BY_ENTITY, { token: await started.host.userToken() });
    expect([answer.status, answer.text.slice(0, 1000)]).toEqual([403, expect.anything()]);
  },
  TEST_TIMEOUT_MS,
);

test(
  'an entity without the annotation: 404 naming the annotation',
  async () => {
    const answer = await started.host.request('/api/loki-stack/stacks/by-entity/resource/default/no-stack', {
      token: await started.host.userToken(),
    });
    expect([answer.status, answer.body?.error?.message]).toEqual([404, expect.stringContaining(STACK_ANNOTATION)]);
  },
  TEST_TIMEOUT_MS,
);

test(
  'by location: an external service (static token) reads it; a user may not',
  async () => {
    const service = await started.host.request(BY_LOCATION, { token: started.host.serviceToken });
    expect([service.status, service.text.slice(0, 1000)]).toEqual([200, expect.anything()]);
    expect(service.body).toMatchObject({
      name: 'loki',
      namespace: 'st-ready',
      condition: { type: expect.any(String) },
    });
    const user = await started.host.request(BY_LOCATION, { token: await started.host.userToken() });
    expect(user.status).toBe(403);
    expect((await started.host.request(BY_LOCATION)).status).toBe(401);
  },
  TEST_TIMEOUT_MS,
);
