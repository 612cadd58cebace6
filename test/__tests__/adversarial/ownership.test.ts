// Attacks 5 and 6, and a low one: what is not ours. A ServiceAccount `loki` made with kubectl was reported
// "created" by apply and deleted by destroy; prune and destroy deleted anything carrying our two labels;
// apply put its labels on a namespace it had not created; destroy deleted a namespace that still held another
// team's ReplicaSet (a kind it does not list). Only objects this tool created are changed, pruned or
// destroyed (--adopt takes over the rest on purpose), and a namespace goes only when a look through every
// namespaced kind the cluster serves finds nothing but the stack.
import { jest } from '@jest/globals';
import { eventually, startFixture, storedStackObjects, type Fixture } from '../cluster/fixture.js';
import { cli, inNamespace } from './harness.js';

jest.setTimeout(180_000);

type Json = Record<string, any>;

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

const store = () => fixture.running.server.store;
/** The mark apply puts on what it creates (docs/security.md, Safety). */
const CREATED_FOR_ANNOTATION = 'loki-microservices/created-for';
const OUR_LABELS = { 'app.kubernetes.io/instance': 'loki', 'app.kubernetes.io/managed-by': 'loki-microservices' };
const createNamespace = (name: string, labels: Record<string, string> = {}) =>
  fixture.connection.core.createNamespace({ body: { metadata: { name, labels } } });

test("an existing ServiceAccount of the stack's name, made with kubectl: apply refuses before sending anything; --adopt takes it over; destroy then deletes it", async () => {
  const namespace = 'adopt';
  await createNamespace(namespace);
  await fixture.connection.core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: 'loki' } },
    fieldManager: 'kubectl-create',
  });
  const sent = fixture.running.server.faults.requests.length;
  const writes = () =>
    fixture.running.server.faults.requests
      .slice(sent)
      .filter(
        (request) =>
          request.method !== 'GET' &&
          request.path.includes(`/namespaces/${namespace}/`) &&
          !request.path.includes('/leases'),
      );
  const refused = await cli(fixture.running, ['apply', ...inNamespace(namespace)]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(
    /ServiceAccount loki already exists in namespace adopt and was not created by loki-microservices for stack "loki".*--adopt/,
  );
  expect(writes()).toEqual([]);
  expect(storedStackObjects(fixture.running, 'loki', namespace)).toEqual([]);

  const adopted = await cli(fixture.running, ['apply', '--adopt', ...inNamespace(namespace)]);
  expect(adopted.code).toBe(0);
  expect(adopted.stdout).toContain('ServiceAccount loki adopted');
  expect((store().get('ServiceAccount', namespace, 'loki') as Json).metadata.annotations[CREATED_FOR_ANNOTATION]).toBe(
    'loki',
  );
  const destroyed = await cli(fixture.running, ['destroy', ...inNamespace(namespace)]);
  expect(destroyed.code).toBe(0);
  expect(store().get('ServiceAccount', namespace, 'loki')).toBeUndefined();
});

test('look-alikes carrying our two labels are neither pruned by apply nor deleted by destroy', async () => {
  const namespace = 'lookalike';
  expect((await cli(fixture.running, ['apply', ...inNamespace(namespace)])).code).toBe(0);
  await fixture.connection.core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'loki-dashboards', labels: OUR_LABELS }, data: { team: 'a' } },
  });
  await fixture.connection.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'loki-extra-credentials', labels: OUR_LABELS }, stringData: { key: 'value' } },
  });
  expect((await cli(fixture.running, ['apply', ...inNamespace(namespace)])).code).toBe(0);
  expect(store().get('ConfigMap', namespace, 'loki-dashboards')).toBeDefined();
  expect(store().get('Secret', namespace, 'loki-extra-credentials')).toBeDefined();
  const destroyed = await cli(fixture.running, ['destroy', '--delete-volumes', ...inNamespace(namespace)]);
  expect(destroyed.code).toBe(0);
  expect(store().get('ConfigMap', namespace, 'loki-dashboards')).toBeDefined();
  expect(store().get('Secret', namespace, 'loki-extra-credentials')).toBeDefined();
  expect(store().get('Deployment', namespace, 'loki-distributor')).toBeUndefined();
  expect(destroyed.stdout).toMatch(/kept Namespace lookalike: it is not empty: .*ConfigMap\/loki-dashboards/);
});

test('apply leaves the labels of a namespace it did not create as they were', async () => {
  const namespace = 'someone-elses';
  await createNamespace(namespace, { team: 'platform', 'pod-security.kubernetes.io/enforce': 'baseline' });
  const before = store().get('Namespace', undefined, namespace) as Json;
  expect((await cli(fixture.running, ['apply', ...inNamespace(namespace)])).code).toBe(0);
  const after = store().get('Namespace', undefined, namespace) as Json;
  expect(after.metadata.labels).toEqual(before.metadata.labels);
  expect(after.metadata.annotations?.[CREATED_FOR_ANNOTATION]).toBeUndefined();
  expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
});

test("destroy keeps a namespace it created once it holds another team's object of a kind the stack never uses", async () => {
  const namespace = 'shared-later';
  expect((await cli(fixture.running, ['apply', '--wait', ...inNamespace(namespace)])).code).toBe(0);
  await fixture.connection.apps.createNamespacedReplicaSet({
    namespace,
    body: {
      metadata: { name: 'team-b-worker' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'worker' } },
        template: {
          metadata: { labels: { app: 'worker' } },
          spec: { containers: [{ name: 'worker', image: 'busybox:1.36' }] },
        },
      },
    },
  });
  const result = await cli(fixture.running, ['destroy', '--delete-volumes', ...inNamespace(namespace)]);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/kept Namespace shared-later: it is not empty: ReplicaSet\/team-b-worker/);
  expect(store().get('Namespace', undefined, namespace)).toBeDefined();
  expect(store().get('ReplicaSet', namespace, 'team-b-worker')).toBeDefined();
  expect(storedStackObjects(fixture.running, 'loki', namespace)).toEqual([]);
});

test('…and deletes it when nothing but the stack was there, the objects its workloads made included', async () => {
  const namespace = 'ours-alone';
  expect((await cli(fixture.running, ['apply', '--wait', ...inNamespace(namespace)])).code).toBe(0);
  const result = await cli(fixture.running, ['destroy', '--delete-volumes', ...inNamespace(namespace)]);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`namespace ${namespace} deleted`);
  await eventually(() => !store().get('Namespace', undefined, namespace), 'the namespace to go', 60_000);
});
