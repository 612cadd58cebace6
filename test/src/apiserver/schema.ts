// Structural check of an object against the Kubernetes API types, as the API server's decoding does:
// fields it does not declare, and values of the wrong type. The field lists and types come from
// @kubernetes/client-node's generated models (one per OpenAPI definition).
import * as k8s from '@kubernetes/client-node';
import { RESOURCES } from './resources.js';

interface Attribute {
  baseName: string;
  type: string;
}
type Model = { getAttributeTypeMap(): Attribute[] };

export interface SchemaProblem {
  /** `.spec.replicas`, as Kubernetes prints paths in decoding errors. */
  path: string;
  problem: 'unknown field' | 'wrong type';
  /** For wrong types: what the schema wants, as Kubernetes says it ("numeric (int or float)", "string"…). */
  expected?: string;
  actual?: string;
}

const ROOT_MODELS: Record<string, string> = {
  Namespace: 'V1Namespace',
  ServiceAccount: 'V1ServiceAccount',
  Secret: 'V1Secret',
  ConfigMap: 'V1ConfigMap',
  Service: 'V1Service',
  Endpoints: 'V1Endpoints',
  Event: 'CoreV1Event',
  Pod: 'V1Pod',
  PersistentVolumeClaim: 'V1PersistentVolumeClaim',
  Deployment: 'V1Deployment',
  ReplicaSet: 'V1ReplicaSet',
  StatefulSet: 'V1StatefulSet',
  ControllerRevision: 'V1ControllerRevision',
  PodDisruptionBudget: 'V1PodDisruptionBudget',
  NetworkPolicy: 'V1NetworkPolicy',
  Ingress: 'V1Ingress',
  Lease: 'V1Lease',
  StorageClass: 'V1StorageClass',
  Role: 'V1Role',
  RoleBinding: 'V1RoleBinding',
  HorizontalPodAutoscaler: 'V2HorizontalPodAutoscaler',
};

export function schemaProblems(kind: string, object: unknown): SchemaProblem[] {
  const model = ROOT_MODELS[kind];
  // Custom resources are stored as sent: the CRDs' OpenAPI schemas are not imitated.
  if (!model && RESOURCES.some((type) => type.kind === kind && type.crd)) return [];
  if (!model) throw new Error(`no schema for kind ${kind}`);
  return check(object, model, '');
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'map' : typeof value;
}

function check(value: unknown, type: string, path: string): SchemaProblem[] {
  if (value === null || value === undefined) return [];
  const wrong = (expected: string): SchemaProblem[] => [
    { path: path || '.', problem: 'wrong type', expected, actual: kindOf(value) },
  ];
  const array = /^Array<(.+)>$/.exec(type);
  if (array)
    return Array.isArray(value) ? value.flatMap((item, i) => check(item, array[1]!, `${path}[${i}]`)) : wrong('list');
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (kindOf(value) !== 'map') return wrong('map');
    return Object.entries(value as object).flatMap(([key, item]) => check(item, map[1]!, `${path}.${key}`));
  }
  switch (type) {
    case 'string':
    case 'Date':
    case 'V1MicroTime':
      return typeof value === 'string' ? [] : wrong('string');
    case 'number':
      return typeof value === 'number' ? [] : wrong('numeric (int or float)');
    case 'boolean':
      return typeof value === 'boolean' ? [] : wrong('boolean');
    case 'IntOrString':
      return typeof value === 'number' || typeof value === 'string' ? [] : wrong('string or numeric');
    case 'any':
    case 'object':
      return [];
  }
  const model = (k8s as unknown as Record<string, Model | undefined>)[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function') return [];
  if (kindOf(value) !== 'map') return wrong('map');
  const attributes = new Map(model.getAttributeTypeMap().map((attribute) => [attribute.baseName, attribute.type]));
  return Object.entries(value as object).flatMap(([key, item]) => {
    const fieldType = attributes.get(key);
    return fieldType
      ? check(item, fieldType, `${path}.${key}`)
      : [{ path: `${path}.${key}`, problem: 'unknown field' as const }];
  });
}
