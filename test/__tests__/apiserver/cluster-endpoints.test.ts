// The simulated Endpoints controller and PodDisruptionBudget status, for the recorded Services (transcripts
// 13, 14) and budget (17).
import { parse } from 'yaml';
import { Api } from '../../src/apiserver/api.js';
import { Cluster } from '../../src/apiserver/controllers/index.js';
import type { KubeObject } from '../../src/apiserver/store.js';
import { startCluster } from './cluster-fixture.js';
import { transcript } from './transcripts.js';

type Json = Record<string, any>;

let api: Api;
let cluster: Cluster;

beforeEach(() => {
  ({ api, cluster } = startCluster({ podIpPrefix: '10.1.2.' }));
});

afterEach(() => cluster.stop());

/** Apply a recorded body (an apply request of transcript `n`), changed by `edit`. */
function applyRecorded(n: number, edit: (body: Json) => void = () => {}): KubeObject {
  const body = parse(transcript(n).request.body as string) as Json;
  edit(body);
  return api.apply(body.kind, 'demo', body.metadata.name, body as KubeObject, {
    manager: 'loki-microservices',
    force: true,
  }).object;
}

/** A Deployment of `replicas` gateway pods with named ports (the recorded distributor, relabelled). */
function applyGateway(replicas: number): void {
  applyRecorded(15, (body) => {
    body.metadata.name = 'loki-gateway';
    body.spec.replicas = replicas;
    body.spec.selector.matchLabels['app.kubernetes.io/component'] = 'gateway';
    body.spec.template.metadata.labels['app.kubernetes.io/component'] = 'gateway';
  });
}

const endpoints = (name: string) => api.store.get('Endpoints', 'demo', name) as Json | undefined;
const pods = () => api.list('Pod', 'demo') as Json[];
const addressOf = (pod: Json) => ({
  ip: pod.status.podIP,
  nodeName: 'test-node',
  targetRef: { kind: 'Pod', namespace: 'demo', name: pod.metadata.name, uid: pod.metadata.uid },
});

describe('Endpoints', () => {
  test('list ready pods with the Service ports resolved through the named container ports', async () => {
    applyRecorded(13);
    applyGateway(2);
    await cluster.idle();
    const ips = pods().map((pod) => pod.status.podIP);
    expect(new Set(ips).size).toBe(2);
    for (const ip of ips) expect(ip).toMatch(/^10\.1\.2\.\d+$/);
    expect(endpoints('loki-gateway')).toMatchObject({
      metadata: {
        name: 'loki-gateway',
        labels: api.get('Service', 'demo', 'loki-gateway').metadata.labels,
        managedFields: [{ manager: 'kube-controller-manager' }],
      },
      subsets: [
        {
          addresses: pods()
            .map(addressOf)
            .sort((a, b) => a.ip.localeCompare(b.ip)),
          ports: [
            { name: 'http', port: 3100, protocol: 'TCP' },
            { name: 'grpc', port: 9095, protocol: 'TCP' },
          ],
        },
      ],
    });
  });

  test('exist without subsets while no pod is selected, and go with their Service', async () => {
    applyRecorded(13);
    await cluster.idle();
    expect(endpoints('loki-gateway')!.subsets).toBeUndefined();
    api.delete('Service', 'demo', 'loki-gateway');
    await cluster.idle();
    expect(endpoints('loki-gateway')).toBeUndefined();
  });

  test('of a Service without a selector are left to whoever writes them', async () => {
    api.create(
      'Service',
      'demo',
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external' }, spec: { ports: [{ port: 80 }] } },
      { manager: 'test' },
    );
    const manual = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'external' },
      subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80, protocol: 'TCP' }] }],
    };
    api.create('Endpoints', 'demo', manual as KubeObject, { manager: 'test' });
    applyGateway(1);
    await cluster.idle();
    expect(endpoints('external')!.subsets).toEqual(manual.subsets);
    expect(endpoints('external')!.metadata.managedFields.map((entry: Json) => entry.manager)).toEqual(['test']);
  });

  test('list pods that are not ready in notReadyAddresses, and drop pods being deleted', async () => {
    cluster.fail({ workload: 'loki-gateway' }, 'crashLoop');
    applyRecorded(13);
    applyGateway(1);
    await cluster.idle();
    expect(endpoints('loki-gateway')!.subsets).toEqual([
      { notReadyAddresses: [addressOf(pods()[0]!)], ports: expect.any(Array) },
    ]);

    const updates: { subsets: unknown; podDeleting: boolean }[] = [];
    api.store.subscribe((change) => {
      if (change.kind === 'Endpoints')
        updates.push({ subsets: change.object.subsets, podDeleting: Boolean(pods()[0]?.metadata.deletionTimestamp) });
    });
    api.delete('Deployment', 'demo', 'loki-gateway');
    await cluster.idle();
    expect(updates).toEqual([{ subsets: undefined, podDeleting: true }]);
  });

  test('with publishNotReadyAddresses list every pod in addresses, with the hostname of StatefulSet pods', async () => {
    cluster.fail({ workload: 'loki-ingester' }, 'crashLoop');
    applyRecorded(14);
    applyRecorded(16);
    await cluster.idle();
    const headless = endpoints('loki-ingester-headless')!;
    expect(headless.metadata.labels['service.kubernetes.io/headless']).toBe('');
    expect(headless.subsets).toHaveLength(1);
    expect(headless.subsets[0].notReadyAddresses).toBeUndefined();
    expect(headless.subsets[0].addresses.map((a: Json) => a.hostname).sort()).toEqual([
      'loki-ingester-0',
      'loki-ingester-1',
    ]);
  });

  test('take numeric target ports as they are, and leave out pods a named port cannot be found on', async () => {
    applyRecorded(13, (body) =>
      body.spec.ports.push({ name: 'metrics', port: 8080, targetPort: 9100, protocol: 'TCP' }),
    );
    applyGateway(1);
    applyRecorded(15, (body) => {
      body.metadata.name = 'no-ports';
      body.spec.replicas = 1;
      for (const labels of [body.spec.selector.matchLabels, body.spec.template.metadata.labels])
        labels['app.kubernetes.io/component'] = 'gateway';
      body.spec.selector.matchLabels.variant = 'no-ports';
      body.spec.template.metadata.labels.variant = 'no-ports';
      delete body.spec.template.spec.containers[0].ports;
    });
    await cluster.idle();
    const withPorts = pods().find((pod) => !pod.metadata.labels.variant);
    const withoutNamedPorts = pods().find((pod) => pod.metadata.labels.variant);
    expect(endpoints('loki-gateway')!.subsets).toEqual([
      {
        addresses: [addressOf(withPorts!)],
        ports: [
          { name: 'http', port: 3100, protocol: 'TCP' },
          { name: 'grpc', port: 9095, protocol: 'TCP' },
          { name: 'metrics', port: 9100, protocol: 'TCP' },
        ],
      },
      { addresses: [addressOf(withoutNamedPorts!)], ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }] },
    ]);
  });
});

describe('PodDisruptionBudget status', () => {
  const budget = () => api.get('PodDisruptionBudget', 'demo', 'loki-ingester').status as Json;

  test('counts healthy pods against maxUnavailable of the StatefulSet replicas', async () => {
    applyRecorded(17);
    applyRecorded(16);
    await cluster.idle();
    expect(budget()).toEqual({
      observedGeneration: 1,
      disruptionsAllowed: 1,
      currentHealthy: 2,
      desiredHealthy: 1,
      expectedPods: 2,
      conditions: [
        {
          type: 'DisruptionAllowed',
          status: 'True',
          observedGeneration: 1,
          lastTransitionTime: expect.any(String),
          reason: 'SufficientPods',
          message: '',
        },
      ],
    });
  });

  test('allows no disruption while too few pods are healthy', async () => {
    cluster.fail({ workload: 'loki-ingester' }, 'crashLoop');
    applyRecorded(17);
    applyRecorded(16);
    await cluster.idle();
    expect(budget()).toMatchObject({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 2 });
    expect(budget().conditions[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
  });

  test.each([
    ['a percentage of the replicas (rounded up)', '50%', { desiredHealthy: 2, expectedPods: 3 }],
    ['a count, expecting the selected pods', 2, { desiredHealthy: 2, expectedPods: 1 }],
  ])('takes minAvailable as %s', async (_, minAvailable, expected) => {
    cluster.fail({ namespace: 'demo' }, 'unschedulable');
    applyRecorded(17, (body) => {
      delete body.spec.maxUnavailable;
      body.spec.minAvailable = minAvailable;
    });
    // Three replicas wanted, one pod so far (OrderedReady waits for the unschedulable first one).
    applyRecorded(16, (body) => {
      body.spec.replicas = 3;
      body.spec.podManagementPolicy = 'OrderedReady';
    });
    await cluster.idle();
    expect(budget()).toMatchObject({ ...expected, currentHealthy: 0, disruptionsAllowed: 0 });
  });
});
