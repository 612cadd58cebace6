// The resource types the test API server serves, and its discovery documents. The discovery documents
// are the ones recorded from a real API server (fixtures/k8s-api-transcripts 01-06), filtered to the
// resources implemented here, so that clients see exactly what works. Custom resources (the Prometheus
// Operator's, cert-manager's and Gateway API's) exist only on a server started with their group in `crds`, as on a
// cluster where their CRDs are installed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Subresources served: `status` (separate writes), `log` and `portforward` (pods), `proxy` (services). */
  subresources: string[];
  /** Writes to spec bump metadata.generation (as for workloads and PodDisruptionBudgets). */
  generation: boolean;
  /**
   * The registry strategy's AllowCreateOnUpdate: a PUT of a missing object creates it (Leases).
   * @default false
   */
  createOnUpdate?: boolean;
  /**
   * The registry strategy's AllowUnconditionalUpdate: a PUT without metadata.resourceVersion overwrites
   * whatever is stored. False for Leases and custom resources: such a PUT answers 422.
   * @default true
   */
  unconditionalUpdate?: boolean;
  /** Set for custom resources: what their CRD declares for discovery. */
  crd?: { singularName: string; shortNames?: string[]; categories?: string[] };
}

/** The API groups of the custom resources the double can serve. */
export type CustomResourceGroup = 'monitoring.coreos.com' | 'cert-manager.io' | 'gateway.networking.k8s.io' | 'keda.sh';
export const CUSTOM_RESOURCE_GROUPS: readonly CustomResourceGroup[] = [
  'monitoring.coreos.com',
  'cert-manager.io',
  'gateway.networking.k8s.io',
  'keda.sh',
];

export const apiVersionOf = (type: ResourceType) => (type.group ? `${type.group}/${type.version}` : type.version);

const core = (kind: string, plural: string, namespaced: boolean, subresources: string[] = []): ResourceType => ({
  group: '',
  version: 'v1',
  kind,
  plural,
  namespaced,
  subresources,
  generation: false,
});

export const RESOURCES: ResourceType[] = [
  // namespaces/finalize: the namespace controller's way of removing its `kubernetes` finalizer (spec.finalizers).
  core('Namespace', 'namespaces', false, ['status', 'finalize']),
  core('ConfigMap', 'configmaps', true),
  core('Secret', 'secrets', true),
  core('ServiceAccount', 'serviceaccounts', true),
  core('Service', 'services', true, ['status', 'proxy']),
  core('Endpoints', 'endpoints', true),
  core('Event', 'events', true),
  core('Pod', 'pods', true, ['status', 'log', 'portforward']),
  core('PersistentVolumeClaim', 'persistentvolumeclaims', true, ['status']),
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    subresources: ['status'],
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    subresources: ['status'],
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    subresources: ['status'],
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ControllerRevision',
    plural: 'controllerrevisions',
    namespaced: true,
    subresources: [],
    generation: false,
  },
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    namespaced: true,
    subresources: ['status'],
    generation: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    subresources: [],
    generation: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    namespaced: true,
    subresources: ['status'],
    generation: true,
  },
  // RBAC objects have no spec, status or generation (pkg/registry/rbac).
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'Role',
    plural: 'roles',
    namespaced: true,
    subresources: [],
    generation: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'RoleBinding',
    plural: 'rolebindings',
    namespaced: true,
    subresources: [],
    generation: false,
  },
  // No controller here scales: tests write spec.replicas as the HPA controller would.
  {
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    subresources: ['status'],
    generation: false,
  },
  // Cluster-scoped; the server starts with kind's default class `standard` (server.ts).
  {
    group: 'storage.k8s.io',
    version: 'v1',
    kind: 'StorageClass',
    plural: 'storageclasses',
    namespaced: false,
    subresources: [],
    generation: false,
  },
  // The lease strategy (pkg/registry/coordination/lease/strategy.go): AllowCreateOnUpdate true,
  // AllowUnconditionalUpdate false; no status, no generation.
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    namespaced: true,
    subresources: [],
    generation: false,
    createOnUpdate: true,
    unconditionalUpdate: false,
  },
  // Custom resources always track generation; a status subresource is what their CRDs declare.
  custom('monitoring.coreos.com', 'PodMonitor', 'podmonitors', true, [], {
    shortNames: ['pmon'],
    categories: ['prometheus-operator'],
  }),
  custom('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors', true, [], {
    shortNames: ['smon'],
    categories: ['prometheus-operator'],
  }),
  custom('monitoring.coreos.com', 'PrometheusRule', 'prometheusrules', true, [], {
    shortNames: ['promrule'],
    categories: ['prometheus-operator'],
  }),
  // Gateway API's standard channel (v1): HTTPRoute has a status subresource and the category gateway-api.
  custom('gateway.networking.k8s.io', 'HTTPRoute', 'httproutes', true, ['status'], { categories: ['gateway-api'] }),
  {
    ...custom('keda.sh', 'ScaledObject', 'scaledobjects', true, ['status'], { shortNames: ['so'] }),
    version: 'v1alpha1',
  },
  custom('cert-manager.io', 'Issuer', 'issuers', true, ['status'], { categories: ['cert-manager'] }),
  custom('cert-manager.io', 'ClusterIssuer', 'clusterissuers', false, ['status'], { categories: ['cert-manager'] }),
  custom('cert-manager.io', 'Certificate', 'certificates', true, ['status'], {
    shortNames: ['cert', 'certs'],
    categories: ['cert-manager'],
  }),
];

/** The custom resource strategy allows no create on update, and no update without a resourceVersion. */
function custom(
  group: CustomResourceGroup,
  kind: string,
  plural: string,
  namespaced: boolean,
  subresources: string[],
  crd: Omit<NonNullable<ResourceType['crd']>, 'singularName'>,
): ResourceType {
  return {
    group,
    version: 'v1',
    kind,
    plural,
    namespaced,
    subresources,
    generation: true,
    unconditionalUpdate: false,
    crd: { singularName: kind.toLowerCase(), ...crd },
  };
}

/** The types a server with these custom resource groups serves. */
export function servedTypes(crds: readonly CustomResourceGroup[]): ResourceType[] {
  return RESOURCES.filter((type) => !type.crd || crds.includes(type.group as CustomResourceGroup));
}

export function resourceByKind(kind: string): ResourceType {
  const type = RESOURCES.find((r) => r.kind === kind);
  if (!type) throw new Error(`the test API server does not serve kind ${kind}`);
  return type;
}

export function resourceByPath(
  served: readonly ResourceType[],
  group: string,
  version: string,
  plural: string,
): ResourceType | undefined {
  return served.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** `deployments.apps`, as Kubernetes names a resource in messages. */
export function qualifiedName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

// ---- discovery ------------------------------------------------------------------------------------

const transcript = (file: string) =>
  (
    JSON.parse(readFileSync(new URL(`../../fixtures/k8s-api-transcripts/${file}`, import.meta.url), 'utf8')) as {
      response: { body: Record<string, unknown> };
    }
  ).response.body;

interface ApiResource {
  name: string;
  [key: string]: unknown;
}

/** The recorded resource list of a group version, keeping only what is served here. */
function resourceList(file: string, groupVersion: string): Record<string, unknown> {
  const recorded = transcript(file) as { resources: ApiResource[] };
  const served = new Set(
    RESOURCES.filter((r) => apiVersionOf(r) === groupVersion).flatMap((r) => [
      r.plural,
      ...r.subresources.map((s) => `${r.plural}/${s}`),
    ]),
  );
  return { ...recorded, resources: recorded.resources.filter((resource) => served.has(resource.name)) };
}

const GROUP_VERSION_FILES: Record<string, string> = {
  v1: '03-discovery-api-v1.json',
  'apps/v1': '05-discovery-apps-v1.json',
  'policy/v1': '06-discovery-policy-v1.json',
};

/**
 * Not in the recordings: written after Kubernetes 1.24's resource list for coordination.k8s.io/v1 (no short
 * names; the storage version hash is discovery.StorageVersionHash of coordination.k8s.io/v1/Lease).
 */
const COORDINATION_V1 = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'coordination.k8s.io/v1',
  resources: [
    {
      name: 'leases',
      singularName: '',
      namespaced: true,
      kind: 'Lease',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      storageVersionHash: 'gqkMMb/YqFM=',
    },
  ],
};

/** Not in the recordings: written after Kubernetes 1.24's resource list for networking.k8s.io/v1 (NetworkPolicies, Ingresses). */
const NETWORKING_V1 = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'networking.k8s.io/v1',
  resources: [
    {
      name: 'networkpolicies',
      singularName: '',
      namespaced: true,
      kind: 'NetworkPolicy',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['netpol'],
      storageVersionHash: 'YpfwF18m1G8=',
    },
    {
      name: 'ingresses',
      singularName: '',
      namespaced: true,
      kind: 'Ingress',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['ing'],
      storageVersionHash: '39NQlfNR+bo=',
    },
    {
      name: 'ingresses/status',
      singularName: '',
      namespaced: true,
      kind: 'Ingress',
      verbs: ['get', 'patch', 'update'],
    },
  ],
};

/** Not in the recordings: written after Kubernetes 1.24's resource list for storage.k8s.io/v1 (StorageClasses only). */
const STORAGE_V1 = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'storage.k8s.io/v1',
  resources: [
    {
      name: 'storageclasses',
      singularName: '',
      namespaced: false,
      kind: 'StorageClass',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['sc'],
      storageVersionHash: 'K+m6uJwbjGY=',
    },
  ],
};

/** Not in the recordings: written after Kubernetes 1.24's resource list for autoscaling/v2 (HPAs and their status). */
const AUTOSCALING_V2 = () => ({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'autoscaling/v2',
  resources: [
    {
      name: 'horizontalpodautoscalers',
      singularName: '',
      namespaced: true,
      kind: 'HorizontalPodAutoscaler',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['hpa'],
      categories: ['all'],
      storageVersionHash: storageVersionHash(resourceByKind('HorizontalPodAutoscaler')),
    },
    {
      name: 'horizontalpodautoscalers/status',
      singularName: '',
      namespaced: true,
      kind: 'HorizontalPodAutoscaler',
      verbs: ['get', 'patch', 'update'],
    },
  ],
});

/** discovery.StorageVersionHash: the first 8 bytes of SHA-256 over `group/version/kind`, base64. */
const storageVersionHash = (type: ResourceType) =>
  createHash('sha256').update(`${type.group}/${type.version}/${type.kind}`).digest().subarray(0, 8).toString('base64');

/**
 * Not in the recordings: written after Kubernetes 1.24's resource list for rbac.authorization.k8s.io/v1 (Roles
 * and RoleBindings only: the cluster-wide kinds are not served here). The storage version hashes are computed as
 * kube-apiserver computes them (storageVersionHash below), not copied.
 */
const RBAC_V1 = () => ({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'rbac.authorization.k8s.io/v1',
  resources: RESOURCES.filter((type) => type.group === 'rbac.authorization.k8s.io').map((type) => ({
    name: type.plural,
    singularName: '',
    namespaced: true,
    kind: type.kind,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    storageVersionHash: storageVersionHash(type),
  })),
});

type Version = { groupVersion: string; version: string };
type ApiGroupList = { groups: { name: string; versions: Version[]; preferredVersion: Version }[] };

const BUILT_IN = {
  version: transcript('01-version.json'),
  api: transcript('02-discovery-api.json'),
  apis: (() => {
    const recorded = transcript('04-discovery-apis.json') as ApiGroupList;
    const served = new Set(RESOURCES.filter((r) => !r.crd).map(apiVersionOf));
    const groups = recorded.groups
      .map((group) => ({ ...group, versions: group.versions.filter((v) => served.has(v.groupVersion)) }))
      .filter((group) => group.versions.length > 0)
      .map((group) => ({ ...group, preferredVersion: group.versions[0]! }));
    return { ...recorded, groups };
  })(),
  groupVersions: {
    ...Object.fromEntries(
      Object.entries(GROUP_VERSION_FILES).map(([groupVersion, file]) => [
        groupVersion,
        resourceList(file, groupVersion),
      ]),
    ),
    'networking.k8s.io/v1': NETWORKING_V1,
    'coordination.k8s.io/v1': COORDINATION_V1,
    'storage.k8s.io/v1': STORAGE_V1,
    'rbac.authorization.k8s.io/v1': RBAC_V1(),
    'autoscaling/v2': AUTOSCALING_V2(),
  } as Record<string, Record<string, unknown>>,
};

/** The verbs kube-apiserver lists for every custom resource, in its order. */
const CUSTOM_RESOURCE_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

/** The resource list of a custom group version, as the API server builds it from the CRDs. */
function customResourceList(groupVersion: string, types: ResourceType[]): Record<string, unknown> {
  const resources = types.flatMap((type) => [
    {
      name: type.plural,
      singularName: type.crd!.singularName,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: CUSTOM_RESOURCE_VERBS,
      ...(type.crd!.shortNames ? { shortNames: type.crd!.shortNames } : {}),
      ...(type.crd!.categories ? { categories: type.crd!.categories } : {}),
      storageVersionHash: storageVersionHash(type),
    },
    ...type.subresources.map((subresource) => ({
      name: `${type.plural}/${subresource}`,
      singularName: '',
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: ['get', 'patch', 'update'],
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

export interface Discovery {
  version: unknown;
  api: unknown;
  apis: unknown;
  /** Resource lists by group version (`v1`, `apps/v1`, `cert-manager.io/v1`…). */
  groupVersions: Record<string, Record<string, unknown>>;
}

/** The discovery documents of a server with these custom resource groups (their groups come after the built-in ones). */
export function discovery(crds: readonly CustomResourceGroup[]): Discovery {
  const custom = servedTypes(crds).filter((type) => type.crd);
  const groupVersions = [...new Set(custom.map(apiVersionOf))].sort();
  const groups = groupVersions.map((groupVersion) => {
    const version = { groupVersion, version: groupVersion.split('/')[1]! };
    return { name: groupVersion.split('/')[0]!, versions: [version], preferredVersion: version };
  });
  return {
    ...BUILT_IN,
    apis: { ...BUILT_IN.apis, groups: [...BUILT_IN.apis.groups, ...groups] },
    groupVersions: {
      ...BUILT_IN.groupVersions,
      ...Object.fromEntries(
        groupVersions.map((gv) => [
          gv,
          customResourceList(
            gv,
            custom.filter((type) => apiVersionOf(type) === gv),
          ),
        ]),
      ),
    },
  };
}

// ---- OpenAPI v3 --------------------------------------------------------------------------------------
// Just enough for kubectl (1.27+) to see that PATCH takes `fieldValidation`, so that it validates on the
// server (?fieldValidation=Strict) instead of downloading schemas for client-side validation. No schemas.

const openApiPath = (groupVersion: string) => (groupVersion === 'v1' ? 'api/v1' : `apis/${groupVersion}`);

export function openApiRoot(served: readonly ResourceType[]): Record<string, unknown> {
  const groupVersions = [...new Set(served.map(apiVersionOf))];
  return {
    paths: Object.fromEntries(
      groupVersions.map((gv) => [openApiPath(gv), { serverRelativeURL: `/openapi/v3/${openApiPath(gv)}?hash=test` }]),
    ),
  };
}

export function openApiDocument(served: readonly ResourceType[], path: string): Record<string, unknown> | undefined {
  const types = served.filter((type) => openApiPath(apiVersionOf(type)) === path);
  if (types.length === 0) return undefined;
  const parameter = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  const patch = (type: ResourceType) => ({
    'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind },
    parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map(parameter),
  });
  const paths = Object.fromEntries(
    types.map((type) => {
      const collection = type.namespaced ? `/${path}/namespaces/{namespace}/${type.plural}` : `/${path}/${type.plural}`;
      return [`${collection}/{name}`, { patch: patch(type) }];
    }),
  );
  return { openapi: '3.0.0', info: { title: 'Kubernetes (test API server)', version: 'v1.24.0' }, paths };
}
