// Every rendered object of every profile, storage type and option set validates against the official
// Kubernetes OpenAPI schemas (kubernetes-models, generated from Kubernetes' own definitions), and the
// cert-manager, Prometheus Operator, Gateway API and KEDA objects against those projects' CRD schemas (same generator).
import type { KubernetesObject } from '@kubernetes/client-node';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Certificate, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { unknownFields } from '../src/kubernetes-fields.js';
import { render } from '../src/objects.js';
import { specMatrix } from '../src/specs.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Namespace,
  ServiceAccount,
  ConfigMap,
  Service,
  PersistentVolumeClaim,
  Deployment,
  StatefulSet,
  PodDisruptionBudget,
  NetworkPolicy,
  Ingress,
  HTTPRoute,
  Role,
  RoleBinding,
  Issuer,
  Certificate,
  PodMonitor,
  PrometheusRule,
  HorizontalPodAutoscaler,
  ScaledObject,
};

function validate(object: KubernetesObject): void {
  const Model = MODELS[object.kind ?? ''];
  if (!Model) throw new Error(`no schema for kind ${object.kind}`);
  new Model(object as never).validate();
}

describe.each(specMatrix())('$name', ({ input }) => {
  test('every object is valid for the Kubernetes API', () => {
    const { objects } = render(input);
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) {
      expect(() => validate(object)).not.toThrow();
      expect(unknownFields(object)).toEqual([]);
    }
  });
});

test('the validator rejects what the API server would reject', () => {
  const { objects } = render({});
  const statefulSet = structuredClone(objects.find((object) => object.kind === 'StatefulSet')!) as unknown as {
    spec: { replicas: unknown };
  };
  statefulSet.spec.replicas = 'three';
  expect(() => validate(statefulSet as unknown as KubernetesObject)).toThrow(/replicas/);
  const service = structuredClone(objects.find((object) => object.kind === 'Service')!) as unknown as {
    spec: { ports: { port: unknown }[] };
  };
  delete service.spec.ports[0]!.port;
  expect(() => validate(service as unknown as KubernetesObject)).toThrow(/port/);
  const keda = {
    spec: {
      monitoring: { enabled: true },
      components: {
        querier: {
          autoscaling: { enabled: true, mode: 'keda', keda: { prometheusAddress: 'http://prometheus:9090' } },
        },
      },
    },
  } as const;
  const scaledObject = structuredClone(
    render(keda).objects.find((object) => object.kind === 'ScaledObject')!,
  ) as unknown as { spec: { triggers: { metadata: Record<string, unknown> }[] } };
  expect(() => validate(scaledObject as unknown as KubernetesObject)).not.toThrow();
  scaledObject.spec.triggers[0]!.metadata.threshold = 3;
  expect(() => validate(scaledObject as unknown as KubernetesObject)).toThrow(/threshold must be string/);
});

test('the unknown-field check finds misspelled and misplaced fields', () => {
  const { objects } = render({});
  const deployment = structuredClone(objects.find((object) => object.kind === 'Deployment')!) as unknown as {
    spec: { replicaz?: number; template: { spec: { containers: Record<string, unknown>[] } } };
  };
  deployment.spec.replicaz = 1;
  deployment.spec.template.spec.containers[0]!.imagee = 'x';
  expect(unknownFields(deployment as unknown as KubernetesObject).sort()).toEqual([
    'spec.replicaz',
    'spec.template.spec.containers[0].imagee',
  ]);
});
