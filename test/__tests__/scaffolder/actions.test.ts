// loki:stack:render, deploy and destroy through the scaffolder's mock action context, against the test API
// server configured as a Kubernetes-plugin cluster: outputs, dry run, checkpoint, cancel, bad input before any
// request, unknown clusters, destroy's safety, and a token that never reaches a log line or an output.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  createDeployAction,
  createDestroyAction,
  createPlanAction,
  createRenderAction,
} from '@loki-microservices/plugin-scaffolder-backend-module-loki-stack';
import { parse, parseAllDocuments } from 'yaml';
import { eventually, STACK_KINDS, startFixture, storedStackObjects, type Fixture } from '../cluster/fixture.js';
import { clusterActions, clustersOf, contextFor, permissionsThat } from './fixture.js';

let fixture: Fixture;
let actions: ReturnType<typeof clusterActions>;

beforeAll(async () => {
  fixture = await startFixture();
  actions = clusterActions(await clustersOf(fixture.running));
});

afterAll(async () => {
  await fixture.close();
});

type Json = Record<string, any>;

const server = () => fixture.running.server;
const writesTo = (namespace: string) =>
  server().faults.requests.filter((r) => r.method !== 'GET' && r.path.includes(`/namespaces/${namespace}`));
/** Requests about a namespace (other tests' watches may still be ending, elsewhere). */
const requestsAbout = (namespace: string) =>
  server().faults.requests.filter((r) => r.path.includes(`/namespaces/${namespace}`)).length;

describe('loki:stack:deploy', () => {
  test('applies, waits, smoke-tests, and sets the outputs', async () => {
    const { ctx, lines, outputs } = contextFor({
      cluster: 'dev',
      name: 'logs',
      namespace: 's-deploy',
      replicas: { querier: 2 },
      smokeTest: true,
      wait: true,
      timeout: '2m',
    });
    await actions.deploy.handler(ctx);
    const out = outputs();
    expect(out).toMatchObject({
      name: 'logs',
      namespace: 's-deploy',
      pushUrl: 'http://logs-distributor.s-deploy.svc.cluster.local:3100/loki/api/v1/push',
      queryUrl: 'http://logs-query-frontend.s-deploy.svc.cluster.local:3100',
    });
    expect((out.status as Json).condition.type).toBe('Ready');
    expect((out.status as Json).components.querier).toMatchObject({ desired: 2, ready: 2 });
    expect(lines).toContain('Deployment logs-distributor created');
    expect(lines).toContain('querier 2/2 ready');
    expect(lines.some((line) => /^Smoke test passed/.test(line))).toBe(true);
    expect(storedStackObjects(fixture.running, 'logs', 's-deploy')).toContain('StatefulSet/logs-ingester');
  });

  test('a retried task reuses the checkpoint and does not apply again', async () => {
    const checkpoints = new Map<string, unknown>();
    const checkpoint = async ({ key, fn }: { key: string; fn: () => Promise<unknown> }) => {
      if (!checkpoints.has(key)) checkpoints.set(key, await fn());
      return checkpoints.get(key);
    };
    const input = { cluster: 'dev', namespace: 's-retry', wait: false, smokeTest: false, timeout: '1m' };
    await actions.deploy.handler(contextFor(input, { checkpoint } as never).ctx);
    const applies = () => writesTo('s-retry').filter((r) => r.method === 'PATCH').length;
    const after = applies();
    expect(after).toBeGreaterThan(0);
    const retried = contextFor(input, { checkpoint } as never);
    await actions.deploy.handler(retried.ctx);
    expect(applies()).toBe(after);
    expect(retried.lines.some((line) => line.startsWith('Applied: {"created":'))).toBe(true);
  });

  test('dry run: a server-side dry run that stores nothing, with the outputs', async () => {
    const { ctx, lines, outputs } = contextFor(
      { cluster: 'dev', namespace: 's-dry', wait: true, smokeTest: true, timeout: '1m' },
      { isDryRun: true },
    );
    await actions.deploy.handler(ctx);
    expect(lines[0]).toMatch(/^Dry run: server-side dry run of Loki .* nothing is changed$/);
    expect(outputs().queryUrl).toBe('http://loki-query-frontend.s-dry.svc.cluster.local:3100');
    expect(server().store.get('Namespace', undefined, 's-dry')).toBeUndefined();
    expect(writesTo('s-dry').filter((r) => !/[?&]dryRun=All/.test(r.path))).toEqual([]);
  });

  test('cancelled: the wait ends when the task is', async () => {
    server().cluster.setReadyAfterMs(600_000);
    try {
      const abort = new AbortController();
      const { ctx, lines } = contextFor(
        { cluster: 'dev', namespace: 's-cancel', wait: true, smokeTest: false, timeout: '5m' },
        { signal: abort.signal } as never,
      );
      const deploying = actions.deploy.handler(ctx);
      await eventually(() => lines.some((line) => line === 'ingester 0/1 ready'), 'the wait to report progress');
      abort.abort();
      await expect(deploying).rejects.toThrow('waiting was cancelled');
    } finally {
      server().cluster.setReadyAfterMs(20);
    }
  });

  test.each([
    {
      name: 'zero ingesters',
      input: { replicas: { ingester: 0 } },
      message: /spec\.components\.ingester\.replicas \(input "replicas"\): /,
    },
    {
      name: 'a bucket without an external store',
      input: { bucket: 'logs' },
      message:
        /input "bucket": applies to storage type s3, gcs, azure: set input "storageType" \(or spec\.storage\.type\)/,
    },
    { name: 'a bad name', input: { name: 'Loki_Stack' }, message: /metadata\.name \(input "name"\): / },
    {
      name: 'a bad timeout',
      input: { timeout: 'soon' },
      message: /input timeout must be a duration such as 90s, 10m or 1h30m, not "soon"/,
    },
    {
      name: 'an unknown cluster',
      input: { cluster: 'staging' },
      message: /cluster "staging" is not configured; configured clusters: "dev", "prod-eu"/,
    },
  ])('$name: an InputError before any request', async ({ input, message }) => {
    const { ctx } = contextFor({
      cluster: 'dev',
      namespace: 's-bad',
      wait: true,
      smokeTest: false,
      timeout: '1m',
      ...input,
    });
    const error = await actions.deploy.handler(ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect(requestsAbout('s-bad')).toBe(0);
  });

  test('the cluster token appears in no log line, output or error', async () => {
    const token = server().token;
    const { ctx, lines, outputs } = contextFor({
      cluster: 'prod-eu',
      namespace: 's-token',
      wait: true,
      smokeTest: false,
      timeout: '1m',
    });
    await actions.deploy.handler(ctx);
    server().faults.forbid({ verb: 'list', resource: 'deployments' });
    const failed = contextFor({
      cluster: 'prod-eu',
      namespace: 's-token',
      wait: true,
      smokeTest: false,
      timeout: '1m',
    });
    const error = (await actions.deploy.handler(failed.ctx).catch((caught: unknown) => caught)) as Error;
    server().faults.allowAll();
    expect(error).toBeInstanceOf(Error);
    for (const text of [
      ...lines,
      ...failed.lines,
      JSON.stringify(outputs()),
      JSON.stringify(failed.outputs()),
      error.message,
      String(error.stack),
    ])
      expect(text).not.toContain(token);
  });
});

describe('input as the real scaffolder passes it: checked against the JSON Schema, defaults not filled in', () => {
  test('deploy with only cluster and namespace waits until ready (wait defaults to true, timeout to 10m)', async () => {
    const { ctx, lines, outputs } = contextFor({ cluster: 'dev', namespace: 's-defaults' });
    await actions.deploy.handler(ctx);
    expect(lines).toContain('ingester 1/1 ready');
    expect((outputs().status as Json).condition.type).toBe('Ready');
  });

  test('destroy with only cluster, name and namespace keeps the volumes and says which input deletes them', async () => {
    await actions.deploy.handler(contextFor({ cluster: 'dev', namespace: 's-defaults-destroy', wait: false }).ctx);
    const { ctx, outputs } = contextFor({ cluster: 'dev', name: 'loki', namespace: 's-defaults-destroy' });
    await actions.destroy.handler(ctx);
    expect(outputs().kept).toContain(
      'PersistentVolumeClaim/data-loki-ingester-0: volumes are kept unless deleteVolumes: true',
    );
  });

  test('render with no input at all writes the demo stack into ./loki', async () => {
    const workspacePath = mkdtempSync(join(tmpdir(), 'workspace-'));
    const { ctx, outputs } = contextFor({}, { workspacePath });
    await createRenderAction().handler(ctx);
    expect(outputs().specPath).toBe('loki/loki-stack.yaml');
  });

  test.each([
    { name: 'no cluster', input: { cluster: undefined }, message: /^input cluster: Required$/ },
    {
      name: 'a number for a duration',
      input: { timeout: 600 },
      message: /^input timeout: Expected string, received number$/,
    },
    {
      name: 'an input the action does not have',
      input: { waitForIt: true },
      message: /^input \(the whole input\): Unrecognized key\(s\) in object: 'waitForIt'$/,
    },
  ])('$name: an InputError naming the input, before any request', async ({ input, message }) => {
    const { ctx } = contextFor({ cluster: 'dev', namespace: 's-bad-input', ...input });
    const error = await actions.deploy.handler(ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect(requestsAbout('s-bad-input')).toBe(0);
  });

  test('an adopt refusal names the input adopt, not a CLI flag', async () => {
    server().api.create(
      'Namespace',
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 's-adopt' } },
      { manager: 'kubectl' },
    );
    server().api.create(
      'ServiceAccount',
      's-adopt',
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'loki', namespace: 's-adopt' } },
      { manager: 'kubectl' },
    );
    const { ctx } = contextFor({ cluster: 'dev', namespace: 's-adopt', wait: false });
    await expect(actions.deploy.handler(ctx)).rejects.toThrow(/re-run with adopt: true to make them part of the stack/);
  });
});

describe('who may deploy and destroy, and where', () => {
  test('a policy that denies loki.stack.deploy or loki.stack.destroy stops the action before any request', async () => {
    const clusters = await clustersOf(fixture.running);
    const denied = {
      deploy: createDeployAction({ clusters, permissions: permissionsThat('deny') }),
      destroy: createDestroyAction({ clusters, permissions: permissionsThat('deny') }),
    };
    for (const action of [denied.deploy, denied.destroy]) {
      const error = await action
        .handler(contextFor({ cluster: 'dev', name: 'loki', namespace: 's-denied' }).ctx)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotAllowedError);
      expect((error as Error).message).toMatch(/the permission policy does not allow loki\.stack\.(deploy|destroy)/);
    }
    expect(requestsAbout('s-denied')).toBe(0);
  });

  test.each([
    {
      namespace: 'kube-system',
      message:
        /namespace "kube-system" is not allowed on cluster "dev": every namespace but kube-\* and default is allowed unless lokiStack\.clusters\.dev\.namespaces lists patterns/,
    },
    { namespace: 'default', message: /namespace "default" is not allowed on cluster "dev"/ },
  ])('without an allow-list, $namespace is refused before any request', async ({ namespace, message }) => {
    for (const action of [actions.deploy, actions.destroy]) {
      const error = await action
        .handler(contextFor({ cluster: 'dev', name: 'loki', namespace }).ctx)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toMatch(message);
    }
    expect(requestsAbout(namespace)).toBe(0);
  });

  test('lokiStack.clusters.<name>.namespaces: only its patterns, named when a namespace is refused; other clusters keep the default', async () => {
    const { deploy } = clusterActions(
      await clustersOf(fixture.running, { lokiStack: { clusters: { dev: { namespaces: ['team-*', 'logs'] } } } }),
    );
    const refused = await deploy
      .handler(contextFor({ cluster: 'dev', namespace: 's-outside', wait: false }).ctx)
      .catch((caught: unknown) => caught);
    expect((refused as Error).message).toBe(
      'input namespace: namespace "s-outside" is not allowed on cluster "dev": the namespaces allowed are team-*, logs (lokiStack.clusters.dev.namespaces)',
    );
    expect(requestsAbout('s-outside')).toBe(0);
    await deploy.handler(contextFor({ cluster: 'dev', namespace: 'team-a', wait: false }).ctx);
    await deploy.handler(contextFor({ cluster: 'prod-eu', namespace: 's-other-cluster', wait: false }).ctx);
    expect(storedStackObjects(fixture.running, 'loki', 'team-a')).toContain('StatefulSet/loki-ingester');
    expect(storedStackObjects(fixture.running, 'loki', 's-other-cluster')).toContain('StatefulSet/loki-ingester');
  });
});

describe('loki:stack:plan, and deploy with dryRun', () => {
  const namespace = 's-plan';
  /** Every stack object's resourceVersion: a plan changes none. */
  const versions = () =>
    Object.fromEntries(
      STACK_KINDS.flatMap((kind) =>
        server()
          .store.list(kind, namespace)
          .map((object: Json) => [`${kind}/${object.metadata.name}`, object.metadata.resourceVersion]),
      ),
    );
  /** Requests that could change something: neither a read nor a dry run. */
  const realWrites = () => writesTo(namespace).filter((r) => !/[?&]dryRun=All/.test(r.path));
  const changed = {
    cluster: 'dev',
    namespace,
    replicas: { querier: 2 },
    spec: { spec: { limits: { ingestionRateMB: 17 } } },
  };

  beforeAll(async () => {
    await actions.deploy.handler(contextFor({ cluster: 'dev', namespace, smokeTest: false }).ctx);
  }, 120_000);

  test('right after deploy: no changes', async () => {
    const before = { versions: versions(), writes: realWrites().length };
    const { ctx, lines, outputs } = contextFor({ cluster: 'dev', namespace });
    await actions.plan.handler(ctx);
    expect(outputs()).toEqual({
      plan: {
        apiVersion: 'loki-microservices/v1alpha1',
        kind: 'StackPlan',
        name: 'loki',
        namespace,
        target: 'kubernetes',
        hasChanges: false,
        changes: [],
        rolls: [],
        blockers: [],
        warnings: [],
      },
      hasChanges: false,
      summary: 'no changes',
    });
    expect(lines).toContain(`stack ${namespace}/loki: no changes`);
    expect(versions()).toEqual(before.versions);
    expect(realWrites().length).toBe(before.writes);
  });

  test('a change: the plan names the pods that roll and why, the summary counts them; nothing is written', async () => {
    const before = { versions: versions(), writes: realWrites().length };
    const { ctx, lines, outputs } = contextFor(changed);
    await actions.plan.handler(ctx);
    const out = outputs();
    expect(out.hasChanges).toBe(true);
    expect(out.summary).toMatch(/^\d+ changes \(.*\d+ rolls pods.*\); \d+ pods roll$/);
    expect((out.plan as Json).rolls).toContainEqual({
      component: 'ingester',
      workload: 'StatefulSet loki-ingester',
      pods: 1,
      reasons: ['config: limits_config.ingestion_rate_mb'],
    });
    expect((out.plan as Json).changes).toContainEqual({
      kind: 'Deployment',
      name: 'loki-querier',
      impact: 'rolls',
      fields: expect.arrayContaining(['spec.replicas']),
    });
    expect(lines).toContain('Pods that roll:');
    expect(versions()).toEqual(before.versions);
    expect(realWrites().length).toBe(before.writes);
  });

  test('deploy with dryRun: true outputs the same plan instead of deploying, and writes nothing', async () => {
    const planned = contextFor(changed);
    await actions.plan.handler(planned.ctx);
    const before = { versions: versions(), writes: realWrites() };
    const { ctx, lines, outputs } = contextFor({ ...changed, dryRun: true });
    await actions.deploy.handler(ctx);
    const out = outputs();
    expect(out.plan).toEqual(planned.outputs().plan);
    expect(out.status).toBeUndefined();
    expect(lines[0]).toMatch(/^Dry run: server-side dry run of Loki .* nothing is changed$/);
    expect(lines).toContain(`Dry run: ${planned.outputs().summary}`);
    expect(versions()).toEqual(before.versions);
    expect(realWrites()).toEqual(before.writes);
  });

  test('deploy with dryRun fails, as deploy would, on a change the cluster refuses; plan reports it and succeeds', async () => {
    const bigger = {
      cluster: 'dev',
      namespace,
      spec: { spec: { components: { ingester: { storage: { size: '20Gi' } } } } },
    };
    const planned = contextFor(bigger);
    await actions.plan.handler(planned.ctx);
    expect((planned.outputs().plan as Json).blockers).toEqual([
      expect.objectContaining({ kind: 'StatefulSet', name: 'loki-ingester' }),
    ]);
    const before = versions();
    await expect(actions.deploy.handler(contextFor({ ...bigger, dryRun: true }).ctx)).rejects.toThrow(
      /^deploy would stop before changing anything: StatefulSet loki-ingester cannot be updated in place/,
    );
    expect(versions()).toEqual(before);
  });

  test('a policy that denies loki.stack.deploy denies the plan too, before any request', async () => {
    const clusters = await clustersOf(fixture.running);
    const denied = createPlanAction({ clusters, permissions: permissionsThat('deny') });
    const error = await denied
      .handler(contextFor({ cluster: 'dev', namespace: 's-plan-denied' }).ctx)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(requestsAbout('s-plan-denied')).toBe(0);
  });
});

describe('loki:stack:render', () => {
  test('writes the spec and the manifests into the workspace, and says where', async () => {
    const workspacePath = mkdtempSync(join(tmpdir(), 'workspace-'));
    const { ctx, outputs } = contextFor(
      {
        name: 'logs',
        namespace: 'obs',
        profile: 'small',
        storageType: 's3',
        bucket: 'acme-logs',
        region: 'eu-west-1',
        secretName: 'loki-s3',
        targetPath: './deploy/loki',
      },
      { workspacePath },
    );
    await createRenderAction().handler(ctx);
    expect(requestsAbout('obs')).toBe(0);
    const out = outputs();
    expect(out.specPath).toBe('deploy/loki/loki-stack.yaml');
    expect(out.manifestsPath).toBe('deploy/loki/manifests');
    expect(out.queryUrl).toBe('http://logs-query-frontend.obs.svc.cluster.local:3100');
    expect((out.files as string[]).every((file) => existsSync(join(workspacePath, file)))).toBe(true);
    // The spec as given (no profile defaults baked in), which renders the same stack again.
    expect(parse(readFileSync(join(workspacePath, out.specPath as string), 'utf8'))).toEqual({
      metadata: { name: 'logs', namespace: 'obs' },
      spec: {
        profile: 'small',
        storage: { type: 's3', s3: { bucket: 'acme-logs', region: 'eu-west-1', secretName: 'loki-s3' } },
      },
    });
    const ingester = (out.files as string[]).find((file) => file.endsWith('statefulset-logs-ingester.yaml'))!;
    const [document] = parseAllDocuments(readFileSync(join(workspacePath, ingester), 'utf8'));
    expect((document!.toJSON() as Json).spec.replicas).toBe(3);
  });

  test('networkPolicy and monitoring render the NetworkPolicies and the Prometheus files, and are recorded in the spec', async () => {
    const workspacePath = mkdtempSync(join(tmpdir(), 'workspace-'));
    const { ctx, outputs } = contextFor(
      { name: 'iso', networkPolicy: true, monitoring: true, targetPath: './loki' },
      { workspacePath },
    );
    await createRenderAction().handler(ctx);
    const files = outputs().files as string[];
    expect(files.filter((file) => file.includes('networkpolicy-iso-')).length).toBeGreaterThan(5);
    expect(files).toEqual(
      expect.arrayContaining(['loki/manifests/prometheus-scrape.yaml', 'loki/manifests/prometheus-rules.yaml']),
    );
    expect(parse(readFileSync(join(workspacePath, 'loki/loki-stack.yaml'), 'utf8'))).toEqual({
      metadata: { name: 'iso' },
      spec: { networkPolicy: { enabled: true }, monitoring: { enabled: true } },
    });
  });

  test('replicas: a range switches on an HPA, recorded in the spec; a count sets replicas', async () => {
    const workspacePath = mkdtempSync(join(tmpdir(), 'workspace-'));
    const { ctx, outputs } = contextFor(
      { name: 'busy', replicas: { querier: { min: 2, max: 8 }, distributor: 2 }, targetPath: './loki' },
      { workspacePath },
    );
    await createRenderAction().handler(ctx);
    const files = outputs().files as string[];
    const hpa = files.find((file) => file.endsWith('horizontalpodautoscaler-busy-querier.yaml'))!;
    expect(parse(readFileSync(join(workspacePath, hpa), 'utf8')).spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 8,
    });
    expect(parse(readFileSync(join(workspacePath, 'loki/loki-stack.yaml'), 'utf8'))).toEqual({
      metadata: { name: 'busy' },
      spec: {
        components: { querier: { autoscaling: { enabled: true, min: 2, max: 8 } }, distributor: { replicas: 2 } },
      },
    });
  });

  test('ingressHost exposes the gateway: the Ingress among the manifests, the external URLs as outputs, the spec recorded', async () => {
    const workspacePath = mkdtempSync(join(tmpdir(), 'workspace-'));
    const input = {
      name: 'pub',
      gateway: true,
      networkPolicy: true,
      ingressHost: 'logs.example.com',
      ingressClass: 'nginx',
      ingressTlsSecret: 'logs-example-tls',
      ingressControllerNamespace: 'ingress-nginx',
      targetPath: './loki',
    };
    const { ctx, outputs } = contextFor(input, { workspacePath });
    await createRenderAction().handler(ctx);
    expect(outputs()).toMatchObject({
      externalPushUrl: 'https://logs.example.com/loki/api/v1/push',
      externalQueryUrl: 'https://logs.example.com',
    });
    expect((outputs().files as string[]).filter((file) => file.includes('ingress-pub-'))).toEqual([
      expect.stringMatching(/^loki\/manifests\/\d+-ingress-pub-gateway\.yaml$/),
    ]);
    expect(parse(readFileSync(join(workspacePath, 'loki/loki-stack.yaml'), 'utf8'))).toEqual({
      metadata: { name: 'pub' },
      spec: {
        networkPolicy: { enabled: true },
        gateway: {
          enabled: true,
          expose: {
            ingress: { host: 'logs.example.com', className: 'nginx', tls: { secretName: 'logs-example-tls' } },
            controllerNamespace: 'ingress-nginx',
          },
        },
      },
    });
    const internal = contextFor({ name: 'pub', gateway: true, targetPath: './plain' }, { workspacePath });
    await createRenderAction().handler(internal.ctx);
    expect(internal.outputs()).not.toHaveProperty('externalPushUrl');
  });

  test('zoneAwareness: the ingesters as a StatefulSet per zone, recorded in the spec', async () => {
    const workspacePath = mkdtempSync(join(tmpdir(), 'workspace-'));
    const { ctx, outputs } = contextFor(
      { name: 'zoned', profile: 'small', zoneAwareness: true, targetPath: './loki' },
      { workspacePath },
    );
    await createRenderAction().handler(ctx);
    expect((outputs().files as string[]).filter((file) => file.includes('statefulset-zoned-ingester'))).toEqual([
      expect.stringMatching(/-statefulset-zoned-ingester-zone-a\.yaml$/),
      expect.stringMatching(/-statefulset-zoned-ingester-zone-b\.yaml$/),
      expect.stringMatching(/-statefulset-zoned-ingester-zone-c\.yaml$/),
    ]);
    expect(parse(readFileSync(join(workspacePath, 'loki/loki-stack.yaml'), 'utf8'))).toEqual({
      metadata: { name: 'zoned' },
      spec: { profile: 'small', zoneAwareness: { enabled: true } },
    });
  });

  test('ingressHost without the gateway is refused, saying how to fix it', async () => {
    const { ctx } = contextFor(
      { ingressHost: 'logs.example.com' },
      { workspacePath: mkdtempSync(join(tmpdir(), 'ws-')) },
    );
    await expect(createRenderAction().handler(ctx)).rejects.toThrow(
      /spec\.gateway\.expose: needs the gateway, so that exposing never bypasses auth: set spec\.gateway\.enabled: true/,
    );
  });

  test('a targetPath outside the workspace is refused', async () => {
    const { ctx } = contextFor(
      { targetPath: '../outside' },
      { workspacePath: mkdtempSync(join(tmpdir(), 'workspace-')) },
    );
    await expect(createRenderAction().handler(ctx)).rejects.toThrow(/outside/);
  });
});

describe('loki:stack:destroy', () => {
  test('removes only this stack: another stack and a foreign object in the namespace stay, volumes stay', async () => {
    const deploy = actions.deploy;
    for (const name of ['loki', 'loki-dev'])
      await deploy.handler(
        contextFor({ cluster: 'dev', name, namespace: 's-destroy', wait: false, smokeTest: false, timeout: '1m' }).ctx,
      );
    server().api.create(
      'ConfigMap',
      's-destroy',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'loki-foreign', namespace: 's-destroy', labels: { 'app.kubernetes.io/instance': 'loki' } },
        data: {},
      },
      { manager: 'kubectl' },
    );
    const { ctx, outputs } = contextFor({
      cluster: 'dev',
      name: 'loki',
      namespace: 's-destroy',
      deleteVolumes: false,
      timeout: '1m',
    });
    await actions.destroy.handler(ctx);
    const out = outputs();
    expect(out.deleted as string[]).toContain('StatefulSet/loki-ingester');
    expect((out.kept as string[]).some((kept) => kept.startsWith('PersistentVolumeClaim/data-loki-ingester-0'))).toBe(
      true,
    );
    expect(out.namespaceDeleted).toBe(false);
    expect(
      storedStackObjects(fixture.running, 'loki', 's-destroy').filter(
        (o) => !o.startsWith('PersistentVolumeClaim/') && o !== 'Secret/loki-object-store',
      ),
    ).toEqual([]);
    expect(storedStackObjects(fixture.running, 'loki-dev', 's-destroy')).toContain('StatefulSet/loki-dev-ingester');
    expect(server().store.get('ConfigMap', 's-destroy', 'loki-foreign')).toBeDefined();
  });
});
