// The server-side apply engine against the exchanges recorded from Kubernetes 1.24: applies, the
// managedFields they leave, prune, conflicts, and what controllers' writes record. Times are the
// recordings' `<time>` placeholder, so recorded objects compare whole.
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  applyObject,
  conflictStatus,
  recordUpdate,
  type ApplyResult,
  type ManagedFieldsEntry,
} from '../../src/apiserver/ssa/index.js';

interface Exchange {
  request: { path: string; body?: string };
  response: { status: number; body: KubernetesObject & Record<string, unknown> };
}

const NOW = '<time>';

function exchange(name: string): Exchange {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/k8s-api-transcripts/${name}.json`, import.meta.url), 'utf8'),
  ) as Exchange;
}

/** Replays a recorded apply on `live`, with the request's field manager and force. */
function replayApply(recorded: Exchange, live: KubernetesObject | undefined): ApplyResult {
  const query = new URL(recorded.request.path, 'http://apiserver').searchParams;
  return applyObject({
    live,
    applied: parse(recorded.request.body ?? '') as KubernetesObject,
    manager: query.get('fieldManager') ?? '',
    force: query.get('force') === 'true',
    now: NOW,
  });
}

function applied(result: ApplyResult): KubernetesObject {
  if (!result.ok) throw new Error(`unexpected conflicts: ${JSON.stringify(result.conflicts)}`);
  return result.object;
}

const entries = (object: KubernetesObject) => object.metadata?.managedFields as unknown as ManagedFieldsEntry[];
const recordedEntries = (recorded: Exchange) => entries(recorded.response.body);

function withoutManagedFields(object: KubernetesObject): KubernetesObject {
  const { managedFields: _, ...metadata } = object.metadata ?? {};
  return { ...object, metadata };
}

/** The recorded object with its status (and annotations, when given) replaced, as a controller writes it. */
function withStatusFrom(object: KubernetesObject, recorded: Exchange, annotations = false): KubernetesObject {
  const source = recorded.response.body;
  return {
    ...structuredClone(object),
    ...(annotations && {
      metadata: { ...structuredClone(object.metadata), annotations: source.metadata?.annotations },
    }),
    status: structuredClone(source.status),
  } as KubernetesObject;
}

describe.each([
  '09-apply-namespace',
  '10-apply-configmap',
  '11-apply-secret',
  '12-apply-serviceaccount',
  '13-apply-service',
  '14-apply-service-headless',
  '15-apply-deployment',
  '16-apply-statefulset',
  '17-apply-pdb',
  '26-create-service-without-protocol',
  '49-apply-pod-pending',
])('create by apply: %s', (name) => {
  const recorded = exchange(name);
  const object = applied(replayApply(recorded, undefined));

  test('records the managedFields Kubernetes recorded', () => {
    expect(entries(object)).toStrictEqual(recordedEntries(recorded));
  });

  test('writes fieldsV1 keys in the order Kubernetes writes them', () => {
    expect(JSON.stringify(entries(object)[0]?.fieldsV1)).toBe(JSON.stringify(recordedEntries(recorded)[0]?.fieldsV1));
  });

  test('creates the object as applied (server defaults are the caller’s)', () => {
    expect(withoutManagedFields(object)).toStrictEqual(parse(recorded.request.body ?? ''));
  });
});

describe('re-applying to the ConfigMap', () => {
  const created = exchange('10-apply-configmap').response.body;

  test('the same configuration changes nothing (18)', () => {
    const recorded = exchange('18-apply-configmap-unchanged');
    const result = applied(replayApply(recorded, created));
    expect(result).toStrictEqual(created);
    expect(result).toStrictEqual(recorded.response.body);
  });

  test('a key the manager stopped applying is pruned (19)', () => {
    const recorded = exchange('19-apply-configmap-prune');
    expect(applied(replayApply(recorded, exchange('18-apply-configmap-unchanged').response.body))).toStrictEqual(
      recorded.response.body,
    );
  });

  test('another manager changing an owned key conflicts with the recorded 409 body (20)', () => {
    const recorded = exchange('20-apply-conflict');
    const result = replayApply(recorded, exchange('19-apply-configmap-prune').response.body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.conflicts.map(({ manager, field }) => ({ manager, field }))).toEqual([
      { manager: 'loki-microservices', field: '.data.runtime.yaml' },
    ]);
    expect(recorded.response.status).toBe(409);
    expect(conflictStatus(result.conflicts)).toStrictEqual(recorded.response.body);
  });

  test('with force the other manager takes the key over (21)', () => {
    const recorded = exchange('21-apply-conflict-forced');
    expect(applied(replayApply(recorded, exchange('19-apply-configmap-prune').response.body))).toStrictEqual(
      recorded.response.body,
    );
  });
});

describe('a Service port applied without protocol (25)', () => {
  const recorded = exchange('25-invalid-port-without-protocol');
  const object = applied(replayApply(recorded, exchange('13-apply-service').response.body));

  test('is keyed with the default protocol and no longer owns protocol', () => {
    expect(entries(object)).toStrictEqual(recordedEntries(recorded));
  });

  test('loses the protocol it no longer applies (the caller defaults it back)', () => {
    const ports = (object as { spec: { ports: Record<string, unknown>[] } }).spec.ports;
    expect(ports).toStrictEqual([
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'grpc', protocol: 'TCP', port: 9095, targetPort: 'grpc' },
    ]);
  });
});

describe('the Deployment after the deployment controller wrote its status', () => {
  const created = exchange('15-apply-deployment').response.body;
  const rolling = exchange('22-apply-deployment-dryrun');
  const ready = exchange('45-get-deployment-ready');
  const progressing = recordUpdate(
    created,
    withStatusFrom(created, rolling, true),
    'kube-controller-manager',
    NOW,
    'status',
  );

  test('the status update owns the revision annotation and the status (22)', () => {
    expect(entries(progressing)[1]).toStrictEqual(recordedEntries(rolling)[1]);
  });

  test('a later status update keeps what it still sets and drops what it removed (45)', () => {
    const readyObject = recordUpdate(
      progressing,
      withStatusFrom(progressing, ready),
      'kube-controller-manager',
      NOW,
      'status',
    );
    expect(entries(readyObject)).toStrictEqual(recordedEntries(ready));
  });

  test('an apply with more replicas and a new label changes only the Apply entry (22)', () => {
    const result = applied(replayApply(rolling, progressing));
    expect(entries(result)).toStrictEqual(recordedEntries(rolling));
    expect(result).toMatchObject({ metadata: { labels: { tier: 'write' } }, spec: { replicas: 3 } });
  });
});

test('the StatefulSet after the statefulset controller wrote its status (46)', () => {
  const created = exchange('16-apply-statefulset').response.body;
  const ready = exchange('46-get-statefulset-ready');
  expect(
    entries(recordUpdate(created, withStatusFrom(created, ready), 'kube-controller-manager', NOW, 'status')),
  ).toStrictEqual(recordedEntries(ready));
});

describe('a Pod the statefulset controller created and a node agent ran (47)', () => {
  // Placeholders as real values: Kubernetes writes `<` in a key as \u003c.
  const realistic = <T>(value: T): T =>
    JSON.parse(
      JSON.stringify(value)
        .replaceAll('<uid>', '3f0c8e51-7a2d-4c9e-9b1f-52e6d0a4c7b8')
        .replaceAll('<podIP>', '10.244.0.7'),
    ) as T;
  const recorded = realistic(exchange('47-get-pod-running').response.body) as unknown as KubernetesObject & {
    spec: Record<string, unknown>;
    status: unknown;
  };
  const { managedFields: _, ...metadata } = recorded.metadata!;
  // What the controller sent: admission added the service account token volume, tolerations and
  // priority afterwards, the scheduler the node name, the node agent the status.
  const {
    nodeName: _node,
    tolerations: _tolerations,
    priority: _priority,
    preemptionPolicy: _preemption,
    ...spec
  } = recorded.spec;
  const fromController = {
    ...recorded,
    metadata,
    spec: {
      ...spec,
      volumes: (spec.volumes as { name: string }[]).filter((volume) => !volume.name.startsWith('kube-api-access')),
      containers: (spec.containers as { volumeMounts: { name: string }[] }[]).map((container) => ({
        ...container,
        volumeMounts: container.volumeMounts.filter((mount) => !mount.name.startsWith('kube-api-access')),
      })),
    },
    status: {},
  } as KubernetesObject;
  const created = recordUpdate(undefined, fromController, 'kube-controller-manager', NOW);
  const scheduled = {
    ...recorded,
    metadata: { ...metadata, managedFields: created.metadata?.managedFields },
    status: {
      phase: 'Pending',
      conditions: [(recorded.status as { conditions: unknown[] }).conditions[0]],
      qosClass: 'BestEffort',
    },
  } as KubernetesObject;

  test('the create records what the controller sent, with `.` on what the empty Pod lacked', () => {
    expect(entries(created)).toStrictEqual([
      realistic(exchange('47-get-pod-running').response.body.metadata?.managedFields?.[0]),
    ]);
  });

  test('the status update by a nameless manager records what it changed', () => {
    const running = recordUpdate(
      scheduled,
      { ...recorded, metadata: { ...metadata, managedFields: created.metadata?.managedFields } } as KubernetesObject,
      '',
      NOW,
      'status',
    );
    expect(entries(running)).toStrictEqual(realistic(recordedEntries(exchange('47-get-pod-running'))));
  });
});
