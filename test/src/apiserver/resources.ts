// The resource types the test API server serves, and its discovery documents. The discovery documents
// are the ones recorded from a real API server (fixtures/k8s-api-transcripts 01-06), filtered to the
// resources implemented here, so that clients see exactly what works.
import { readFileSync } from 'node:fs';

export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Subresources served: `status` (separate writes), `log` (pods), `proxy` (services). */
  subresources: string[];
  /** Writes to spec bump metadata.generation (as for workloads and PodDisruptionBudgets). */
  generation: boolean;
}

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
  core('Namespace', 'namespaces', false, ['status']),
  core('ConfigMap', 'configmaps', true),
  core('Secret', 'secrets', true),
  core('ServiceAccount', 'serviceaccounts', true),
  core('Service', 'services', true, ['status', 'proxy']),
  core('Endpoints', 'endpoints', true),
  core('Event', 'events', true),
  core('Pod', 'pods', true, ['status', 'log']),
  core('PersistentVolumeClaim', 'persistentvolumeclaims', true, ['status']),
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, subresources: ['status'], generation: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, subresources: ['status'], generation: true },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, subresources: ['status'], generation: true },
  { group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true, subresources: [], generation: false },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, subresources: ['status'], generation: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, subresources: [], generation: true },
];

export function resourceByKind(kind: string): ResourceType {
  const type = RESOURCES.find((r) => r.kind === kind);
  if (!type) throw new Error(`the test API server does not serve kind ${kind}`);
  return type;
}

export function resourceByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** `deployments.apps`, as Kubernetes names a resource in messages. */
export function qualifiedName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

// ---- discovery ------------------------------------------------------------------------------------

const transcript = (file: string) =>
  (JSON.parse(readFileSync(new URL(`../../fixtures/k8s-api-transcripts/${file}`, import.meta.url), 'utf8')) as { response: { body: Record<string, unknown> } }).response.body;

interface ApiResource {
  name: string;
  [key: string]: unknown;
}

/** The recorded resource list of a group version, keeping only what is served here. */
function resourceList(file: string, groupVersion: string): Record<string, unknown> {
  const recorded = transcript(file) as { resources: ApiResource[] };
  const served = new Set(
    RESOURCES.filter((r) => apiVersionOf(r) === groupVersion).flatMap((r) => [r.plural, ...r.subresources.map((s) => `${r.plural}/${s}`)]),
  );
  return { ...recorded, resources: recorded.resources.filter((resource) => served.has(resource.name)) };
}

const GROUP_VERSION_FILES: Record<string, string> = {
  v1: '03-discovery-api-v1.json',
  'apps/v1': '05-discovery-apps-v1.json',
  'policy/v1': '06-discovery-policy-v1.json',
};

/** Not in the recordings: written after Kubernetes 1.24's resource list for networking.k8s.io/v1. */
const NETWORKING_V1 = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'networking.k8s.io/v1',
  resources: [
    { name: 'networkpolicies', singularName: '', namespaced: true, kind: 'NetworkPolicy', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['netpol'], storageVersionHash: 'YpfwF18m1G8=' },
  ],
};

export const DISCOVERY = {
  version: transcript('01-version.json'),
  api: transcript('02-discovery-api.json'),
  apis: (() => {
    type Version = { groupVersion: string; version: string };
    const recorded = transcript('04-discovery-apis.json') as { groups: { name: string; versions: Version[]; preferredVersion: Version }[] };
    const served = new Set(RESOURCES.map(apiVersionOf));
    const groups = recorded.groups
      .map((group) => ({ ...group, versions: group.versions.filter((v) => served.has(v.groupVersion)) }))
      .filter((group) => group.versions.length > 0)
      .map((group) => ({ ...group, preferredVersion: group.versions[0]! }));
    return { ...recorded, groups };
  })(),
  groupVersions: {
    ...Object.fromEntries(Object.entries(GROUP_VERSION_FILES).map(([groupVersion, file]) => [groupVersion, resourceList(file, groupVersion)])),
    'networking.k8s.io/v1': NETWORKING_V1,
  } as Record<string, Record<string, unknown>>,
};

// ---- OpenAPI v3 --------------------------------------------------------------------------------------
// Just enough for kubectl (1.27+) to see that PATCH takes `fieldValidation`, so that it validates on the
// server (?fieldValidation=Strict) instead of downloading schemas for client-side validation. No schemas.

const openApiPath = (groupVersion: string) => (groupVersion === 'v1' ? 'api/v1' : `apis/${groupVersion}`);

export function openApiRoot(): Record<string, unknown> {
  const groupVersions = [...new Set(RESOURCES.map(apiVersionOf))];
  return { paths: Object.fromEntries(groupVersions.map((gv) => [openApiPath(gv), { serverRelativeURL: `/openapi/v3/${openApiPath(gv)}?hash=test` }])) };
}

export function openApiDocument(path: string): Record<string, unknown> | undefined {
  const types = RESOURCES.filter((type) => openApiPath(apiVersionOf(type)) === path);
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
