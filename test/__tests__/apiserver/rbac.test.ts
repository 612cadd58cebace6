// Roles and RoleBindings (rbac.authorization.k8s.io/v1), served as Kubernetes serves them for what rules
// discovery needs: discovery, server-side apply through client-node's RbacAuthorizationV1Api, listing by label
// in one namespace, unknown fields refused, and ValidateRoleBindingUpdate's "cannot change roleRef".
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { send } from './http.js';

type Json = Record<string, any>;

let running: RunningApiServer;
let rbac: k8s.RbacAuthorizationV1Api;
let objects: k8s.KubernetesObjectApi;

beforeEach(async () => {
  running = await startTestApiServer({ readyAfterMs: 10 });
  rbac = running.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
  objects = k8s.KubernetesObjectApi.makeApiClient(running.kubeConfig);
});
afterEach(async () => {
  await running.close();
});

const role = (namespace: string, labels: Record<string, string> = {}): k8s.V1Role => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name: 'reader', namespace, labels },
  rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
});

const binding = (roleName: string): k8s.V1RoleBinding => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'reader', namespace: 'default' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
  subjects: [{ kind: 'ServiceAccount', name: 'sidecar', namespace: 'logs' }],
});

const apply = (object: k8s.KubernetesObject) =>
  objects.patch(object, undefined, undefined, 'test', false, k8s.PatchStrategy.ServerSideApply);

describe('discovery', () => {
  test('/apis lists rbac.authorization.k8s.io/v1 as recorded (transcript 4); its resource list has roles and rolebindings', async () => {
    const groups = ((await send(running, 'GET', '/apis')).json as Json).groups as Json[];
    expect(groups.find((group) => group.name === 'rbac.authorization.k8s.io')).toEqual({
      name: 'rbac.authorization.k8s.io',
      versions: [{ groupVersion: 'rbac.authorization.k8s.io/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'rbac.authorization.k8s.io/v1', version: 'v1' },
    });
    const list = (await send(running, 'GET', '/apis/rbac.authorization.k8s.io/v1')).json as Json;
    expect(list.resources.map((resource: Json) => [resource.name, resource.kind, resource.namespaced])).toEqual([
      ['roles', 'Role', true],
      ['rolebindings', 'RoleBinding', true],
    ]);
  });
});

describe('roles and role bindings', () => {
  test('server-side apply creates them in their namespace; a list by label finds only those of that namespace', async () => {
    for (const namespace of ['default', 'kube-public'])
      await apply(role(namespace, { owner: namespace === 'default' ? 'us' : 'them' }));
    await apply(binding('reader'));
    const listed = await rbac.listNamespacedRole({ namespace: 'default', labelSelector: 'owner=us' });
    expect(listed.items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`)).toEqual([
      'default/reader',
    ]);
    expect((await rbac.listNamespacedRole({ namespace: 'default', labelSelector: 'owner=them' })).items).toEqual([]);
    const stored = await rbac.readNamespacedRoleBinding({ name: 'reader', namespace: 'default' });
    expect(stored.subjects).toEqual([{ kind: 'ServiceAccount', name: 'sidecar', namespace: 'logs' }]);
    expect(stored.metadata?.managedFields?.[0]).toMatchObject({ manager: 'test', operation: 'Apply' });
  });

  test('a field Role does not have is refused (strict field validation of apply)', async () => {
    const response = await send(
      running,
      'PATCH',
      '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/reader?fieldManager=test&fieldValidation=Strict',
      {
        headers: { 'Content-Type': 'application/apply-patch+yaml' },
        body: { ...role('default'), spec: { rules: [] } },
      },
    );
    expect(response.status).toBe(400);
  });

  test('the roleRef of a RoleBinding cannot change', async () => {
    await apply(binding('reader'));
    const refused = await apply(binding('writer')).then(
      () => undefined,
      (error: unknown) => error as k8s.ApiException<string>,
    );
    expect(refused?.code).toBe(422);
    expect(JSON.parse(refused!.body)).toMatchObject({
      reason: 'Invalid',
      details: { causes: [{ reason: 'FieldValueInvalid', field: 'roleRef' }] },
    });
    expect(JSON.parse(refused!.body).message).toContain('cannot change roleRef');
  });

  test('delete removes it', async () => {
    await apply(role('default'));
    await rbac.deleteNamespacedRole({ name: 'reader', namespace: 'default' });
    expect(running.server.store.get('Role', 'default', 'reader')).toBeUndefined();
  });
});
