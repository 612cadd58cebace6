// Custom resources, opt-in as on a real cluster: without their CRDs their groups are absent from discovery
// and their URLs answer 404; with them (`crds`), the Prometheus Operator's and cert-manager's kinds are
// served for every verb, server-side apply included, and found by label as our tools list, prune and
// destroy them.
import * as k8s from '@kubernetes/client-node';
import { afterEach, describe, expect, test } from '@jest/globals';
import { startTestApiServer, type CustomResourceGroup, type RunningApiServer } from '../../src/apiserver/index.js';
import { BUILT_IN_GROUPS, send } from './http.js';

let running: RunningApiServer;

afterEach(async () => {
  await running.close();
});

type Json = Record<string, unknown>;
type ResourceList = { groupVersion: string; resources: Json[] };

const podMonitor = (
  name: string,
  spec: Json = {},
  labels: Record<string, string> = { 'app.kubernetes.io/instance': 'loki' },
) => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PodMonitor',
  metadata: { name, namespace: 'demo', labels },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/instance': 'loki' } },
    podMetricsEndpoints: [{ port: 'http-metrics', path: '/metrics' }],
    ...spec,
  },
});

async function start(crds: CustomResourceGroup[]) {
  running = await startTestApiServer({ readyAfterMs: 10, crds });
  const objects = k8s.KubernetesObjectApi.makeApiClient(running.kubeConfig);
  const apply = (object: Json, manager = 'loki-microservices', force = true) =>
    objects.patch(
      object as k8s.KubernetesObject,
      undefined,
      undefined,
      manager,
      force,
      k8s.PatchStrategy.ServerSideApply,
    ) as Promise<k8s.KubernetesObject & Json>;
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  return { objects, apply };
}

describe('a bare cluster', () => {
  test('has neither group in discovery, and their URLs answer 404', async () => {
    await start([]);
    const groups = ((await send(running, 'GET', '/apis')).json as { groups: { name: string }[] }).groups.map(
      (g) => g.name,
    );
    expect(groups).toEqual(BUILT_IN_GROUPS);
    for (const path of [
      '/apis/monitoring.coreos.com/v1',
      '/apis/cert-manager.io/v1',
      '/apis/gateway.networking.k8s.io/v1',
      '/apis/monitoring.coreos.com/v1/namespaces/demo/podmonitors',
      '/apis/cert-manager.io/v1/clusterissuers',
      '/apis/gateway.networking.k8s.io/v1/namespaces/demo/httproutes',
    ]) {
      expect({ path, status: (await send(running, 'GET', path)).status }).toEqual({ path, status: 404 });
    }
    const created = await send(running, 'POST', '/apis/monitoring.coreos.com/v1/namespaces/demo/podmonitors', {
      body: podMonitor('loki'),
    });
    expect(created.status).toBe(404);
    expect((await send(running, 'GET', '/openapi/v3')).json).not.toHaveProperty([
      'paths',
      'apis/monitoring.coreos.com/v1',
    ]);
  });

  test('client-node cannot apply a PodMonitor there, as against a cluster without the CRD', async () => {
    const { apply } = await start([]);
    await expect(apply(podMonitor('loki'))).rejects.toThrow(/PodMonitor/);
  });

  test('one group can be served without the other', async () => {
    await start(['monitoring.coreos.com']);
    const groups = ((await send(running, 'GET', '/apis')).json as { groups: { name: string }[] }).groups.map(
      (g) => g.name,
    );
    expect(groups).toEqual([...BUILT_IN_GROUPS, 'monitoring.coreos.com']);
    expect((await send(running, 'GET', '/apis/cert-manager.io/v1/namespaces/demo/certificates')).status).toBe(404);
  });
});

describe('with the CRDs', () => {
  test("discovery lists the groups after the built-in ones, and each resource as the API server lists a CRD's", async () => {
    await start(['monitoring.coreos.com', 'cert-manager.io']);
    const apis = (await send(running, 'GET', '/apis')).json as { groups: Json[] };
    expect(apis.groups.slice(-2)).toEqual([
      {
        name: 'cert-manager.io',
        versions: [{ groupVersion: 'cert-manager.io/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'cert-manager.io/v1', version: 'v1' },
      },
      {
        name: 'monitoring.coreos.com',
        versions: [{ groupVersion: 'monitoring.coreos.com/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'monitoring.coreos.com/v1', version: 'v1' },
      },
    ]);
    const verbs = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];
    const monitoring = (await send(running, 'GET', '/apis/monitoring.coreos.com/v1')).json as ResourceList;
    expect(monitoring.resources).toEqual([
      {
        name: 'podmonitors',
        singularName: 'podmonitor',
        namespaced: true,
        kind: 'PodMonitor',
        verbs,
        shortNames: ['pmon'],
        categories: ['prometheus-operator'],
        storageVersionHash: expect.stringMatching(/^[A-Za-z0-9+/]{11}=$/),
      },
      {
        name: 'servicemonitors',
        singularName: 'servicemonitor',
        namespaced: true,
        kind: 'ServiceMonitor',
        verbs,
        shortNames: ['smon'],
        categories: ['prometheus-operator'],
        storageVersionHash: expect.any(String),
      },
      {
        name: 'prometheusrules',
        singularName: 'prometheusrule',
        namespaced: true,
        kind: 'PrometheusRule',
        verbs,
        shortNames: ['promrule'],
        categories: ['prometheus-operator'],
        storageVersionHash: expect.any(String),
      },
    ]);
    const certManager = (await send(running, 'GET', '/apis/cert-manager.io/v1')).json as ResourceList;
    expect(certManager.resources.map((r) => [r.name, r.kind, r.namespaced])).toEqual([
      ['issuers', 'Issuer', true],
      ['issuers/status', 'Issuer', true],
      ['clusterissuers', 'ClusterIssuer', false],
      ['clusterissuers/status', 'ClusterIssuer', false],
      ['certificates', 'Certificate', true],
      ['certificates/status', 'Certificate', true],
    ]);
    expect(certManager.resources[5]).toEqual({
      name: 'certificates/status',
      singularName: '',
      namespaced: true,
      kind: 'Certificate',
      verbs: ['get', 'patch', 'update'],
    });
    expect((await send(running, 'GET', '/openapi/v3')).json).toHaveProperty(['paths', 'apis/cert-manager.io/v1']);
  });

  test("Gateway API: HTTPRoute as its standard channel's CRD lists it, with a status subresource", async () => {
    await start(['gateway.networking.k8s.io']);
    const gatewayApi = (await send(running, 'GET', '/apis/gateway.networking.k8s.io/v1')).json as ResourceList;
    expect(gatewayApi.resources.map((r) => [r.name, r.kind, r.namespaced])).toEqual([
      ['httproutes', 'HTTPRoute', true],
      ['httproutes/status', 'HTTPRoute', true],
    ]);
    expect(gatewayApi.resources[0]).toMatchObject({ singularName: 'httproute', categories: ['gateway-api'] });
    expect((await send(running, 'GET', '/apis/networking.k8s.io/v1')).json).toMatchObject({
      resources: expect.arrayContaining([expect.objectContaining({ name: 'ingresses', kind: 'Ingress' })]),
    });
  });

  test('every verb through client-node: apply, get, list by label, replace, merge patch, delete', async () => {
    const { objects, apply } = await start(['monitoring.coreos.com']);
    const created = await apply(podMonitor('loki'));
    expect(created).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'loki', namespace: 'demo', generation: 1, uid: expect.any(String) },
    });
    await apply({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'loki', namespace: 'demo', labels: { 'app.kubernetes.io/instance': 'loki' } },
      spec: { endpoints: [{ port: 'http' }] },
    });
    await apply({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'loki', namespace: 'demo', labels: { 'app.kubernetes.io/instance': 'loki' } },
      spec: { groups: [{ name: 'loki', rules: [{ alert: 'LokiDown', expr: 'up == 0' }] }] },
    });
    await apply(podMonitor('other', {}, { 'app.kubernetes.io/instance': 'other' }));

    const read = await objects.read({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'loki', namespace: 'demo' },
    });
    expect((read as unknown as Json).spec).toEqual({
      groups: [{ name: 'loki', rules: [{ alert: 'LokiDown', expr: 'up == 0' }] }],
    });
    const listed = await objects.list(
      'monitoring.coreos.com/v1',
      'PodMonitor',
      'demo',
      undefined,
      undefined,
      undefined,
      undefined,
      'app.kubernetes.io/instance=loki',
    );
    expect(listed.items.map((item) => item.metadata?.name)).toEqual(['loki']);

    const replaced = (await objects.replace({
      ...(created as k8s.KubernetesObject),
      spec: { ...(created.spec as Json), jobLabel: 'app' },
    } as k8s.KubernetesObject)) as unknown as Json;
    expect(replaced).toMatchObject({ metadata: { generation: 2 }, spec: { jobLabel: 'app' } });
    const patched = (await objects.patch(
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PodMonitor',
        metadata: { name: 'loki', namespace: 'demo', labels: { team: 'observability' } },
      } as k8s.KubernetesObject,
      undefined,
      undefined,
      'kubectl',
      undefined,
      k8s.PatchStrategy.MergePatch,
    )) as unknown as Json;
    // A label is metadata: no new generation.
    expect(patched).toMatchObject({ metadata: { generation: 2, labels: { team: 'observability' } } });

    await objects.delete({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'loki', namespace: 'demo' },
    });
    const servicemonitors = await send(
      running,
      'GET',
      '/apis/monitoring.coreos.com/v1/namespaces/demo/servicemonitors',
    );
    expect(servicemonitors.json).toMatchObject({
      kind: 'ServiceMonitorList',
      apiVersion: 'monitoring.coreos.com/v1',
      items: [],
    });
  });

  test('deletecollection and lists by label across namespaces, as prune and destroy use them', async () => {
    const { apply } = await start(['monitoring.coreos.com']);
    await apply(podMonitor('loki'));
    await apply(podMonitor('keep', {}, { 'app.kubernetes.io/instance': 'other' }));
    const all = await send(
      running,
      'GET',
      '/apis/monitoring.coreos.com/v1/podmonitors?labelSelector=app.kubernetes.io%2Finstance%3Dloki',
    );
    expect((all.json as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name)).toEqual([
      'loki',
    ]);
    const deleted = await send(
      running,
      'DELETE',
      '/apis/monitoring.coreos.com/v1/namespaces/demo/podmonitors?labelSelector=app.kubernetes.io%2Finstance%3Dloki',
    );
    expect(deleted.status).toBe(200);
    expect(running.server.api.list('PodMonitor', 'demo').map((m) => m.metadata.name)).toEqual(['keep']);
  });

  test('server-side apply merges custom resources as structs with atomic lists: a second manager conflicts on a list, not on a field beside it', async () => {
    const { apply } = await start(['monitoring.coreos.com']);
    await apply(podMonitor('loki'));
    const other = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'loki', namespace: 'demo' },
    };
    const merged = await apply({ ...other, spec: { jobLabel: 'app.kubernetes.io/component' } }, 'someone-else', false);
    expect(merged.spec).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'loki' } },
      podMetricsEndpoints: [{ port: 'http-metrics', path: '/metrics' }],
      jobLabel: 'app.kubernetes.io/component',
    });
    const conflict = await apply(
      { ...other, spec: { podMetricsEndpoints: [{ port: 'http-metrics', path: '/metrics' }, { port: 'grpc' }] } },
      'someone-else',
      false,
    ).then(
      () => undefined,
      (error: k8s.ApiException<string>) => ({
        code: error.code,
        causes: (JSON.parse(error.body) as { details: { causes: Json[] } }).details.causes,
      }),
    );
    expect(conflict).toEqual({
      code: 409,
      causes: [
        {
          reason: 'FieldManagerConflict',
          message: 'conflict with "loki-microservices"',
          field: '.spec.podMetricsEndpoints',
        },
      ],
    });
    // Applied again without a field it owned, the first manager prunes it; the other's field stays.
    const pruned = await apply({
      ...podMonitor('loki'),
      spec: { selector: { matchLabels: { 'app.kubernetes.io/instance': 'loki' } } },
    });
    expect(pruned.spec).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'loki' } },
      jobLabel: 'app.kubernetes.io/component',
    });
    expect(pruned.metadata).toMatchObject({ generation: 3 });
  });

  test('Certificates, Issuers and ClusterIssuers have a status subresource: the main resource ignores status, /status writes only status', async () => {
    const { apply } = await start(['cert-manager.io']);
    const issuer = await apply({
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: 'external' },
      spec: { acme: { server: 'https://acme.example' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(issuer.metadata).not.toHaveProperty('namespace');
    const stored = running.server.api.get('ClusterIssuer', undefined, 'external');
    expect(stored.status).toEqual({
      conditions: [expect.objectContaining({ type: 'Ready', status: 'False', reason: 'ErrInitIssuer' })],
    });
    expect(
      (await send(running, 'GET', '/apis/cert-manager.io/v1/namespaces/demo/clusterissuers/external')).status,
    ).toBe(404);

    const path = '/apis/cert-manager.io/v1/clusterissuers/external/status';
    const written = await send(running, 'PUT', path, {
      body: {
        ...stored,
        spec: { selfSigned: {} },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test' }] },
      },
    });
    expect(written.status).toBe(200);
    expect(written.json).toMatchObject({
      spec: { acme: { server: 'https://acme.example' } },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test' }] },
      metadata: { generation: 1 },
    });
  });

  test('deleting a namespace deletes its custom resources', async () => {
    const { apply } = await start(['monitoring.coreos.com']);
    await apply(podMonitor('loki'));
    running.server.api.delete('Namespace', undefined, 'demo');
    await running.server.cluster.idle();
    expect(running.server.api.list('PodMonitor', undefined)).toEqual([]);
    expect(running.server.api.store.get('Namespace', undefined, 'demo')).toBeUndefined();
  });

  test('a watch sees custom resources change', async () => {
    const { apply } = await start(['monitoring.coreos.com']);
    const seen: string[] = [];
    const watch = await new k8s.Watch(running.kubeConfig).watch(
      '/apis/monitoring.coreos.com/v1/namespaces/demo/podmonitors',
      {},
      (type, object: k8s.KubernetesObject) => seen.push(`${type} ${object.metadata?.name}`),
      () => undefined,
    );
    await apply(podMonitor('loki'));
    running.server.api.delete('PodMonitor', 'demo', 'loki');
    await new Promise((resolve) => setTimeout(resolve, 50));
    watch.abort();
    expect(seen).toEqual(['ADDED loki', 'DELETED loki']);
  });
});
