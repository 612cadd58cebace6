// Unknown-field check for rendered objects. kubernetes-models validates types and enums but lets any
// unknown key through, while the API server refuses unknown fields in a server-side apply (transcript 29:
// "field not declared in schema"). The field lists come from @kubernetes/client-node's generated models.
import * as k8s from '@kubernetes/client-node';

interface Attribute {
  baseName: string;
  type: string;
}
type Model = { getAttributeTypeMap(): Attribute[] };

const ROOT_TYPES: Record<string, string> = {
  'v1/Namespace': 'V1Namespace',
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/Secret': 'V1Secret',
  'v1/ConfigMap': 'V1ConfigMap',
  'v1/Service': 'V1Service',
  'v1/PersistentVolumeClaim': 'V1PersistentVolumeClaim',
  'apps/v1/Deployment': 'V1Deployment',
  'apps/v1/StatefulSet': 'V1StatefulSet',
  'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
};

/** Paths of fields the Kubernetes API does not know, e.g. `spec.template.spec.containers[0].imagee`. */
export function unknownFields(object: { apiVersion?: string; kind?: string }): string[] {
  const type = ROOT_TYPES[`${object.apiVersion}/${object.kind}`];
  if (!type) return [`(root): no model for ${object.apiVersion} ${object.kind}`];
  return check(object, type, '');
}

function check(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((item, i) => check(item, array[1]!, `${path}[${i}]`)) : [`${path}: expected a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return Object.entries(value as object).flatMap(([key, item]) => check(item, map[1]!, `${path}.${key}`));
  const model = (k8s as unknown as Record<string, Model | undefined>)[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function') return []; // a scalar: string, number, IntOrString...
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
  const attributes = new Map(model.getAttributeTypeMap().map((attribute) => [attribute.baseName, attribute.type]));
  return Object.entries(value as object).flatMap(([key, item]) => {
    const fieldPath = path ? `${path}.${key}` : key;
    const fieldType = attributes.get(key);
    return fieldType ? check(item, fieldType, fieldPath) : [fieldPath];
  });
}
