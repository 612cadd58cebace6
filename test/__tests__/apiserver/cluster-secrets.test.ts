// The kubelet and the Secrets a pod needs: a Secret volume whose Secret (or item key) is missing keeps the
// pod in ContainerCreating with a FailedMount event; an environment that names a missing Secret or key
// keeps the container in CreateContainerConfigError; both recover once the Secret is there. Optional
// references wait for nothing.
import { afterEach, describe, expect, test } from '@jest/globals';
import type { Api } from '../../src/apiserver/api.js';
import type { Cluster } from '../../src/apiserver/controllers/index.js';
import type { KubeObject } from '../../src/apiserver/store.js';
import { startCluster } from './cluster-fixture.js';

type Json = Record<string, any>;

let cluster: Cluster | undefined;
afterEach(() => cluster?.stop());

function setup(): Api {
  const started = startCluster();
  cluster = started.cluster;
  return started.api;
}

const createPod = (api: Api, spec: Json, name = 'app') =>
  api.create(
    'Pod',
    'demo',
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'demo' },
      spec: { containers: [{ name: 'app', image: 'busybox:1.36' }], ...spec },
    },
    { manager: 'test' },
  );

const createSecret = (api: Api, name: string, stringData: Record<string, string>) =>
  api.create(
    'Secret',
    'demo',
    { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'demo' }, stringData },
    { manager: 'test' },
  );

const pod = (api: Api, name = 'app') => api.get('Pod', 'demo', name) as KubeObject & { status: Json };
const warnings = (api: Api, name = 'app') =>
  api
    .list('Event', 'demo', { fieldSelector: `involvedObject.name=${name},type=Warning` })
    .map((event) => [event.reason, event.message, (event.involvedObject as Json).fieldPath]);
const reasons = (api: Api, name = 'app') =>
  api.list('Event', 'demo', { fieldSelector: `involvedObject.name=${name}` }).map((event) => event.reason);

describe('Secret volumes', () => {
  const withVolume = (secret: Json) => ({
    volumes: [{ name: 'credentials', secret }],
    containers: [
      { name: 'app', image: 'busybox:1.36', volumeMounts: [{ name: 'credentials', mountPath: '/etc/credentials' }] },
    ],
  });

  test('a missing Secret: Pending, ContainerCreating, no IP, a FailedMount event; it starts once the Secret exists', async () => {
    const api = setup();
    createPod(api, withVolume({ secretName: 'credentials' }));
    await cluster!.idle();
    expect(pod(api).status).toMatchObject({
      phase: 'Pending',
      hostIP: '172.18.0.2',
      containerStatuses: [
        { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
      ],
    });
    expect(pod(api).status).not.toHaveProperty('podIP');
    expect(pod(api).status.conditions.find((c: Json) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
    });
    expect(warnings(api)).toEqual([
      ['FailedMount', 'MountVolume.SetUp failed for volume "credentials" : secret "credentials" not found', undefined],
    ]);
    expect(reasons(api)).not.toContain('Pulling');
    expect(() => cluster!.logs('demo', 'app')).toThrow(
      'container "app" in pod "app" is waiting to start: ContainerCreating',
    );

    createSecret(api, 'credentials', { password: 'secret' });
    await cluster!.idle();
    expect(pod(api).status).toMatchObject({
      phase: 'Running',
      podIP: expect.stringMatching(/^10\.244\.0\./),
      containerStatuses: [{ ready: true, state: { running: {} } }],
    });
    expect(cluster!.secretVolume(pod(api) as never, 'credentials')).toEqual({ password: Buffer.from('secret') });
  });

  test('a missing item key is a FailedMount too; an optional volume mounts without its Secret', async () => {
    const api = setup();
    createSecret(api, 'credentials', { password: 'secret' });
    createPod(api, withVolume({ secretName: 'credentials', items: [{ key: 'token', path: 'token' }] }), 'app');
    createPod(api, withVolume({ secretName: 'absent', optional: true }), 'optional');
    await cluster!.idle();
    expect(warnings(api)).toEqual([
      [
        'FailedMount',
        'MountVolume.SetUp failed for volume "credentials" : references non-existent secret key: token',
        undefined,
      ],
    ]);
    expect(pod(api, 'optional').status.phase).toBe('Running');
    expect(cluster!.secretVolume(pod(api, 'optional') as never, 'credentials')).toEqual({});

    api.replace(
      'Secret',
      'demo',
      'credentials',
      { ...api.get('Secret', 'demo', 'credentials'), stringData: { token: 't0ken' } },
      { manager: 'test' },
    );
    await cluster!.idle();
    expect(pod(api).status.phase).toBe('Running');
    expect(cluster!.secretVolume(pod(api) as never, 'credentials')).toEqual({ token: Buffer.from('t0ken') });
  });

  test('init containers wait for the volumes as well', async () => {
    const api = setup();
    createPod(api, {
      ...withVolume({ secretName: 'credentials' }),
      initContainers: [{ name: 'init', image: 'busybox:1.36' }],
    });
    await cluster!.idle();
    expect(pod(api).status).toMatchObject({
      phase: 'Pending',
      initContainerStatuses: [{ state: { waiting: { reason: 'PodInitializing' } } }],
      containerStatuses: [{ state: { waiting: { reason: 'PodInitializing' } } }],
    });
    createSecret(api, 'credentials', { password: 'secret' });
    await cluster!.idle();
    expect(pod(api).status.phase).toBe('Running');
  });
});

describe('Secrets in the environment', () => {
  const withEnv = (env: Json[], envFrom: Json[] = []) => ({
    containers: [{ name: 'app', image: 'busybox:1.36', env, envFrom }],
  });

  test('a missing Secret: CreateContainerConfigError after the pull, a Failed event, an IP; it starts once the Secret exists', async () => {
    const api = setup();
    createPod(
      api,
      withEnv([{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'credentials', key: 'password' } } }]),
    );
    await cluster!.idle();
    expect(pod(api).status).toMatchObject({
      phase: 'Pending',
      podIP: expect.any(String),
      containerStatuses: [
        {
          ready: false,
          started: false,
          imageID: '',
          state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "credentials" not found' } },
        },
      ],
    });
    expect(warnings(api)).toEqual([['Failed', 'Error: secret "credentials" not found', 'spec.containers{app}']]);
    expect(reasons(api)).toEqual(expect.arrayContaining(['Pulling', 'Pulled']));
    expect(() => cluster!.logs('demo', 'app')).toThrow(
      'container "app" in pod "app" is waiting to start: CreateContainerConfigError',
    );

    createSecret(api, 'credentials', { other: 'x' });
    await cluster!.idle();
    expect(pod(api).status.containerStatuses[0].state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: "couldn't find key password in Secret demo/credentials",
    });

    api.replace(
      'Secret',
      'demo',
      'credentials',
      { ...api.get('Secret', 'demo', 'credentials'), stringData: { password: 'secret' } },
      { manager: 'test' },
    );
    await cluster!.idle();
    expect(pod(api).status).toMatchObject({
      phase: 'Running',
      containerStatuses: [{ ready: true, state: { running: {} } }],
    });
    expect(reasons(api)).toEqual(expect.arrayContaining(['Created', 'Started']));
  });

  test('envFrom a missing Secret fails the same way; optional references wait for nothing', async () => {
    const api = setup();
    createPod(api, withEnv([], [{ secretRef: { name: 'bundle' } }]), 'app');
    createPod(
      api,
      withEnv(
        [{ name: 'A', valueFrom: { secretKeyRef: { name: 'absent', key: 'a', optional: true } } }],
        [{ secretRef: { name: 'absent', optional: true } }],
      ),
      'optional',
    );
    await cluster!.idle();
    expect(pod(api).status.containerStatuses[0].state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'secret "bundle" not found',
    });
    expect(pod(api, 'optional').status.phase).toBe('Running');
  });
});
