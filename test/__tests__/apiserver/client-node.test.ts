// The test API server as our tools will use it: through the real @kubernetes/client-node over HTTPS,
// with its knobs (faults, latency, access rules, failing workloads) each triggered in one line.
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { parseSpec, renderKubernetes } from 'loki-microservices';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { send } from './http.js';
import { generatedSecrets } from './stack.js';

let running: RunningApiServer;
let objects: k8s.KubernetesObjectApi;

beforeEach(async () => {
  running = await startTestApiServer({ readyAfterMs: 10 });
  objects = k8s.KubernetesObjectApi.makeApiClient(running.kubeConfig);
});
afterEach(async () => {
  await running.close();
});

const apply = (object: k8s.KubernetesObject, options: { manager?: string; force?: boolean; dryRun?: string } = {}) =>
  objects.patch(
    object,
    undefined,
    options.dryRun,
    options.manager ?? 'loki-microservices',
    options.force ?? true,
    k8s.PatchStrategy.ServerSideApply,
  );

/** The rendered stack, and the Secrets of random values `apply` creates beside it (the pods cannot start without them). */
async function applyStack(input = {}) {
  const rendered = renderKubernetes(parseSpec(input));
  const namespaces = rendered.objects.filter((object) => object.kind === 'Namespace');
  const others = rendered.objects.filter((object) => object.kind !== 'Namespace');
  for (const object of [...namespaces, ...generatedSecrets(rendered.generatedSecrets), ...others]) await apply(object);
}

const configMap = (data: Record<string, string>): k8s.KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'default' },
    data,
  }) as k8s.KubernetesObject;

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof k8s.ApiException ? error.code : (error as Error).name;
  }
};

describe('through client-node', () => {
  test('server-side apply creates, keeps a no-op apply free of writes, and reports conflicts with the field', async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } as k8s.KubernetesObject);
    const created = await apply(configMap({ a: '1' }));
    const again = await apply(configMap({ a: '1' }));
    expect(again.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    try {
      await apply(configMap({ a: '2' }), { manager: 'someone-else', force: false });
      throw new Error('expected a conflict');
    } catch (error) {
      expect((error as k8s.ApiException<string>).code).toBe(409);
      const status = JSON.parse((error as k8s.ApiException<string>).body) as {
        details: { causes: { field: string; message: string }[] };
      };
      expect(status.details.causes).toEqual([
        { reason: 'FieldManagerConflict', message: 'conflict with "loki-microservices"', field: '.data.a' },
      ]);
    }
  });

  test('a dry run answers the result and stores nothing', async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } as k8s.KubernetesObject);
    const answer = (await apply(configMap({ a: '1' }), { dryRun: 'All' })) as k8s.V1ConfigMap;
    expect(answer.data).toEqual({ a: '1' });
    expect(await codeOf(objects.read(configMap({}) as never))).toBe(404);
  });

  test('the whole rendered stack applies and becomes ready; typed list by label selector and a watch see it', async () => {
    const apps = running.kubeConfig.makeApiClient(k8s.AppsV1Api);
    const seen: string[] = [];
    const abort = await new k8s.Watch(running.kubeConfig).watch(
      '/apis/apps/v1/namespaces/loki/statefulsets',
      { labelSelector: 'app.kubernetes.io/component=ingester' },
      (type, object: k8s.V1StatefulSet) =>
        seen.push(`${type} ${object.metadata?.name} ${object.status?.readyReplicas ?? 0}`),
      () => undefined,
    );
    await applyStack({ spec: { profile: 'small' } });
    await running.server.cluster.idle();
    abort.abort();
    const deployments = await apps.listNamespacedDeployment({
      namespace: 'loki',
      labelSelector: 'app.kubernetes.io/instance=loki',
    });
    expect(deployments.items.map((d) => [d.metadata?.name, d.status?.readyReplicas])).toEqual(
      deployments.items.map((d) => [d.metadata?.name, d.spec?.replicas]),
    );
    expect(seen[0]).toBe('ADDED loki-ingester 0');
    expect(seen.at(-1)).toBe('MODIFIED loki-ingester 3');
  });

  test('errors carry the API status code', async () => {
    expect(await codeOf(objects.read(configMap({}) as never))).toBe(404);
    const wrongToken = new k8s.KubeConfig();
    wrongToken.loadFromString(running.kubeConfig.exportConfig().replace(running.server.token, 'not-the-token'));
    expect(await codeOf(k8s.KubernetesObjectApi.makeApiClient(wrongToken).read(configMap({}) as never))).toBe(401);
  });
});

describe('knobs, one line each', () => {
  beforeEach(async () => {
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } as k8s.KubernetesObject);
  });

  test('failNext: a 500, a 429 with Retry-After, a reset connection', async () => {
    running.server.faults.failNext('error');
    expect(await codeOf(apply(configMap({ a: '1' })))).toBe(500);
    running.server.faults.failNext('throttle');
    const throttled = await send(running, 'GET', '/api/v1/namespaces/default/configmaps');
    expect([throttled.status, throttled.headers['retry-after']]).toEqual([429, '1']);
    running.server.faults.failNext('reset');
    await expect(send(running, 'GET', '/api/v1/namespaces/default/configmaps')).rejects.toThrow(
      /socket hang up|ECONNRESET/,
    );
    expect(await codeOf(apply(configMap({ a: '1' })))).toBe('ok');
  });

  test('a fault rate fails that fraction of requests, the same ones for the same seed', async () => {
    const outcomes = async (seed: number) => {
      running.server.faults.setFaultRate(0.3, seed);
      const results: (string | number)[] = [];
      for (let i = 0; i < 40; i++)
        results.push(
          await send(running, 'GET', '/api/v1/namespaces/default/configmaps').then(
            (r) => r.status,
            () => 'reset',
          ),
        );
      running.server.faults.setFaultRate(0);
      return results;
    };
    const first = await outcomes(7);
    expect(await outcomes(7)).toEqual(first);
    const failed = first.filter((outcome) => outcome !== 200).length;
    expect(failed).toBeGreaterThan(4);
    expect(failed).toBeLessThan(24);
    expect(new Set(first)).toEqual(new Set([200, 500, 429, 'reset']));
  });

  test('latency delays every request; the request log records them', async () => {
    running.server.faults.latencyMs = 30;
    running.server.faults.clearLog();
    await send(running, 'GET', '/api/v1/namespaces/default/configmaps');
    expect(running.server.faults.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/api/v1/namespaces/default/configmaps', status: 200 }),
    ]);
    expect(running.server.faults.requests[0]!.durationMs).toBeGreaterThanOrEqual(30);
    expect(running.server.faults.counts()).toEqual({ GET: 1 });
  });

  test('forbid: matching requests answer 403 with the RBAC message', async () => {
    running.server.faults.forbid({ verb: 'list', resource: 'pods' });
    const answer = await send(running, 'GET', '/api/v1/namespaces/default/pods');
    expect(answer.status).toBe(403);
    expect((answer.json as { message: string }).message).toBe(
      'pods is forbidden: User "system:serviceaccount:test:client" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    expect((await send(running, 'GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
  });

  test('a failing workload: CrashLoopBackOff with restarts, the error in its log, and a Warning event', async () => {
    running.server.cluster.fail({ workload: 'loki-ingester', image: 'grafana/loki' }, 'crashLoop');
    await applyStack();
    await running.server.cluster.idle();
    const pod = running.server.api.get('Pod', 'loki', 'loki-ingester-0') as unknown as {
      status: {
        containerStatuses: { ready: boolean; restartCount: number; state: { waiting?: { reason: string } } }[];
      };
    };
    expect(pod.status.containerStatuses[0]).toMatchObject({
      ready: false,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
    });
    expect(pod.status.containerStatuses[0]!.restartCount).toBeGreaterThan(0);
    const log = await send(
      running,
      'GET',
      '/api/v1/namespaces/loki/pods/loki-ingester-0/log?container=loki&tailLines=5',
    );
    expect(log.text).toMatch(/level=error/);
    const events = running.server.api.list('Event', 'loki', {
      fieldSelector: 'involvedObject.name=loki-ingester-0,type=Warning',
    });
    expect(events.map((e) => e.reason)).toContain('BackOff');
    const distributor = running.server.api.list('Pod', 'loki', {
      labelSelector: 'app.kubernetes.io/component=distributor',
    });
    expect((distributor[0]!.status as { phase: string }).phase).toBe('Running');
  });

  test('the service proxy reaches the in-memory Loki: push to the distributor, read back through the query-frontend', async () => {
    await applyStack({ spec: { auth: { enabled: true } } });
    await running.server.cluster.idle();
    const now = `${Date.now()}000000`;
    const push = await send(
      running,
      'POST',
      '/api/v1/namespaces/loki/services/loki-distributor:http-metrics/proxy/loki/api/v1/push',
      {
        headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': 'team-a' },
        body: { streams: [{ stream: { job: 'smoke' }, values: [[now, 'hello']] }] },
      },
    );
    expect(push.status).toBe(204);
    const query = `/api/v1/namespaces/loki/services/loki-query-frontend:http-metrics/proxy/loki/api/v1/query_range?query=${encodeURIComponent('{job="smoke"}')}`;
    const found = await send(running, 'GET', query, { headers: { 'X-Scope-OrgID': 'team-a' } });
    expect((found.json as { data: { result: { values: string[][] }[] } }).data.result[0]!.values).toEqual([
      [now, 'hello'],
    ]);
    expect((await send(running, 'GET', query)).status).toBe(401);
    expect((await send(running, 'GET', query, { headers: { 'X-Scope-OrgID': 'team-b' } })).json).toMatchObject({
      data: { result: [] },
    });
  });
});
