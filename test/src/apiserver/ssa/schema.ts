// What server-side apply needs to know of the API types: how each list and object merges, taken from the
// OpenAPI markers of Kubernetes 1.30 (x-kubernetes-list-type / -list-map-keys / -map-type, structType, and
// patch-merge-key for lists that have no list-type, which the API server turns into list maps).
//
// Everything not in the table follows structured-merge-diff's defaults: an object merges key by key
// (granular), a list is atomic (replaced and owned as a whole).
import { fieldSetOf, type FieldSet } from './fieldset.js';
import { fieldElement } from './path.js';

export type Relationship =
  /** Replaced and owned as a whole. */
  | { readonly type: 'atomic' }
  /** A struct or map merged and owned key by key. */
  | { readonly type: 'granular' }
  /** A list of scalars whose items are merged and owned by value (`v:` elements). */
  | { readonly type: 'listSet' }
  /** A list of objects whose items are merged and owned by their key fields (`k:` elements). */
  | ListMap;

export interface ListMap {
  readonly type: 'listMap';
  readonly keys: readonly string[];
  /** Values for key fields an item leaves out (the OpenAPI default of `protocol` is `TCP`). */
  readonly keyDefaults?: Readonly<Record<string, unknown>>;
}

const ATOMIC: Relationship = { type: 'atomic' };
const GRANULAR: Relationship = { type: 'granular' };
const SET: Relationship = { type: 'listSet' };
const listMap = (...keys: string[]): ListMap => ({ type: 'listMap', keys });
const PORT_KEY_DEFAULTS = { protocol: 'TCP' };

// Patterns are field names joined by dots; `name[]` is an item of the list `name`, `(a|b)` either name,
// and a leading `**` any run of fields (so `**.metadata` is every ObjectMeta, templates' included).
const META = '**.metadata';
/** A PodSpec: a Pod's `spec`, and the `spec` of every pod template. */
const POD = '**.spec';
const CONTAINER = `${POD}.(containers|initContainers|ephemeralContainers)[]`;

/** The first matching pattern wins. */
const SCHEMA: readonly (readonly [pattern: string, relationship: Relationship])[] = [
  // ObjectMeta
  [`${META}.labels`, GRANULAR],
  [`${META}.annotations`, GRANULAR],
  [`${META}.finalizers`, SET],
  [`${META}.ownerReferences`, listMap('uid')],
  [`${META}.ownerReferences[]`, ATOMIC],

  // Top-level fields; each path belongs to one kind only.
  // LabelSelector is a structType=atomic (Deployment, StatefulSet, ReplicaSet, PodDisruptionBudget,
  // PersistentVolumeClaim), so its matchLabels and matchExpressions are never merged key by key;
  // a Service's selector is a mapType=atomic map.
  ['spec.selector', ATOMIC],
  ['spec.ports', { type: 'listMap', keys: ['port', 'protocol'], keyDefaults: PORT_KEY_DEFAULTS }], // Service
  ['spec.(clusterIPs|externalIPs|ipFamilies|loadBalancerSourceRanges)', ATOMIC], // Service
  ['status.loadBalancer.ingress', ATOMIC], // Service
  ['spec.volumeClaimTemplates', ATOMIC], // StatefulSet
  ['spec.(accessModes|dataSource)', ATOMIC], // PersistentVolumeClaim (dataSource: TypedLocalObjectReference)
  ['spec.resources.(requests|limits)', GRANULAR], // PersistentVolumeClaim
  ['spec.finalizers', ATOMIC], // Namespace
  ['(data|stringData|binaryData)', GRANULAR], // ConfigMap, Secret
  ['secrets', listMap('name')], // ServiceAccount
  ['secrets[]', ATOMIC], // ObjectReference is structType=atomic
  ['imagePullSecrets', ATOMIC], // ServiceAccount (a PodSpec's is a list map)
  ['subsets', ATOMIC], // Endpoints
  ['(involvedObject|related)', ATOMIC], // Event: ObjectReference
  ['status.conditions', listMap('type')],
  ['status.(podIPs|hostIPs)', listMap('ip')], // Pod
  ['status.(containerStatuses|initContainerStatuses|ephemeralContainerStatuses)', ATOMIC], // Pod
  ['status.(capacity|allocatedResources|disruptedPods)', GRANULAR],

  // PodSpec
  [`${POD}.(containers|initContainers|ephemeralContainers)`, listMap('name')],
  [`${POD}.volumes`, listMap('name')],
  [`${POD}.imagePullSecrets`, listMap('name')],
  [`${POD}.imagePullSecrets[]`, ATOMIC], // LocalObjectReference is structType=atomic
  [`${POD}.hostAliases`, listMap('ip')],
  [`${POD}.topologySpreadConstraints`, listMap('topologyKey', 'whenUnsatisfiable')],
  [`${POD}.(resourceClaims|schedulingGates)`, listMap('name')],
  [`${POD}.nodeSelector`, ATOMIC],
  [`${POD}.(tolerations|readinessGates)`, ATOMIC],
  [`${POD}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`, ATOMIC], // NodeSelector
  [`${POD}.overhead`, GRANULAR],

  // Container
  [`${CONTAINER}.(command|args|envFrom|resizePolicy)`, ATOMIC],
  [`${CONTAINER}.ports`, { type: 'listMap', keys: ['containerPort', 'protocol'], keyDefaults: PORT_KEY_DEFAULTS }],
  [`${CONTAINER}.env`, listMap('name')],
  [`${CONTAINER}.env[].valueFrom.(configMapKeyRef|secretKeyRef|fieldRef|resourceFieldRef)`, ATOMIC],
  [`${CONTAINER}.volumeMounts`, listMap('mountPath')],
  [`${CONTAINER}.volumeDevices`, listMap('devicePath')],
  [`${CONTAINER}.resources.(requests|limits)`, GRANULAR],
  [`${CONTAINER}.resources.claims`, listMap('name')],

  // Label selectors anywhere else (topology spread constraints, affinity terms).
  ['**.(labelSelector|namespaceSelector)', ATOMIC],
];

interface Rule {
  /** The pattern started with `**`: it matches the end of a path. */
  readonly suffix: boolean;
  readonly segments: readonly RegExp[];
  readonly relationship: Relationship;
}

const RULES: readonly Rule[] = SCHEMA.map(([pattern, relationship]) => {
  const parts = pattern.split('.');
  const suffix = parts[0] === '**';
  const segments = (suffix ? parts.slice(1) : parts).map((part) => new RegExp(`^${part.replaceAll('[]', '\\[\\]')}$`));
  return { suffix, segments, relationship };
});

/**
 * The relationship of the field at `segments` (field names from the object's root, a list item adding
 * `[]` to its list's name: `['spec', 'containers[]', 'ports']`), or undefined where the defaults apply.
 */
export function relationshipAt(segments: readonly string[]): Relationship | undefined {
  return RULES.find((rule) => matches(rule, segments))?.relationship;
}

function matches(rule: Rule, segments: readonly string[]): boolean {
  const offset = segments.length - rule.segments.length;
  if (offset < 0 || (offset > 0 && !rule.suffix)) return false;
  return rule.segments.every((segment, i) => segment.test(segments[offset + i]!));
}

/**
 * Kinds with a status subresource, and what their status strategy resets (GetResetFields). Writes to the
 * main resource cannot own `status`; writes to `/status` cannot own these.
 */
const STATUS_RESETS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  Deployment: [['spec'], ['metadata', 'labels']],
  StatefulSet: [['spec']],
  ReplicaSet: [['spec']],
  Pod: [['spec'], ['metadata', 'deletionTimestamp'], ['metadata', 'ownerReferences']],
  Service: [['spec']],
  PersistentVolumeClaim: [['spec']],
  PodDisruptionBudget: [['spec']],
  Namespace: [['spec']],
  // Custom resources with a status subresource (the CRD status strategy resets spec only).
  Issuer: [['spec']],
  ClusterIssuer: [['spec']],
  Certificate: [['spec']],
};

/** Fields a write to the resource (or its `status` subresource) never owns: the server resets them. */
export function resetFields(kind: string, subresource: string | undefined): FieldSet {
  const statusResets = STATUS_RESETS[kind];
  if (!statusResets) return fieldSetOf([]);
  const paths = subresource === 'status' ? statusResets : [['status']];
  return fieldSetOf(paths.map((path) => path.map(fieldElement)));
}

/**
 * What a create is compared with: the zero value of the kind's Go type as it serializes. Only its
 * granular parts matter (a field already there is not "added", so its owner gets no `.` for it): the
 * structs that are not pointers, and a Pod's `containers`, which is null rather than absent.
 */
const POD_TEMPLATE = { metadata: {}, spec: { containers: null } };
const ZERO_VALUES: Readonly<Record<string, Record<string, unknown>>> = {
  Pod: { spec: { containers: null }, status: {} },
  Deployment: { spec: { template: POD_TEMPLATE, strategy: {} }, status: {} },
  ReplicaSet: { spec: { template: POD_TEMPLATE }, status: {} },
  StatefulSet: { spec: { template: POD_TEMPLATE, updateStrategy: {} }, status: {} },
  Service: { spec: {}, status: { loadBalancer: {} } },
  PersistentVolumeClaim: { spec: { resources: {} }, status: {} },
  PodDisruptionBudget: { spec: {}, status: {} },
  Namespace: { spec: {}, status: {} },
  Event: { source: {} },
  Lease: { spec: {} },
};

export function zeroValue(kind: string): Record<string, unknown> {
  return structuredClone(ZERO_VALUES[kind] ?? {});
}
