// renderKubernetes(stack): every object of the stack, in the order they must be applied. Pure and
// deterministic: the same stack gives the same objects, and toYaml gives byte-identical text.
import type {
  KubernetesObject,
  V1Deployment,
  V1Namespace,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { SpecError } from '../../errors.js';
import { COMPONENTS, type ComponentName } from '../../spec/components.js';
import { AZURE_CREDENTIALS_REQUIRED, type LokiStack } from '../../spec/schema.js';
import { deployedComponents } from '../../stack/components.js';
import { schemaAnnotationOf, stackSchemaPeriods } from '../../stack/schema-periods.js';
import { APPLY_ORDER } from './apply-order.js';
import {
  CLUSTER_DOMAIN_ANNOTATION,
  SCHEMA_ANNOTATION,
  MEMBERLIST_LABEL,
  memberlistName,
  metadata,
  objectLabels,
  objectName,
  PORTS,
  serviceAccountName,
  zoneObjectName,
  zonesOf,
} from './common.js';
import { caches } from './components/caches.js';
import { gateway } from './components/gateway.js';
import { objectStore } from './components/object-store.js';
import { credentialsSecret, withStorageCredentials, type StorageCredentials } from './credentials.js';
import { lokiConfigMap, runtimeConfigMap } from './loki-config.js';
import { monitoringFiles, prometheusOperatorObjects } from './monitoring.js';
import { networkPolicies } from './network-policy.js';
import { rulesConfigMaps, withRulesAnnotation } from './rules.js';
import { discoveryObjects } from './rules-discovery.js';
import { derivedSecrets, generatedSecrets, type DerivedSecret, type GeneratedSecret } from './generated-secrets.js';
import { withSyncWaves } from './sync-waves.js';
import { certManagerObjects } from './tls.js';
import { lokiComponent } from './workload.js';
import { autoscalers } from './autoscaling.js';

export interface RenderedStack {
  /** Objects in apply order: namespace, identity and config (cert-manager's too), Services, NetworkPolicies and monitors, volumes, workloads, PDBs. */
  objects: KubernetesObject[];
  /** Secrets the objects reference that only `apply` can create (random values), never rendered. */
  generatedSecrets: GeneratedSecret[];
  /** Secrets the objects reference that `apply` computes from others (password hashes, certificates), never rendered. */
  derivedSecrets: DerivedSecret[];
  /** Files that are not cluster objects, by name (the Prometheus scrape config and rules of spec.monitoring). */
  files: Record<string, string>;
}

export { APPLY_ORDER } from './apply-order.js';

// Write path before read path, so that a stack coming up can take data as early as possible.
const LOKI_RENDER_ORDER: ComponentName[] = [
  'compactor',
  'indexGateway',
  'ingester',
  'patternIngester',
  'distributor',
  'querier',
  'queryScheduler',
  'queryFrontend',
  'ruler',
];

function componentObjects(stack: LokiStack): KubernetesObject[] {
  const deployed = deployedComponents(stack);
  const loki = LOKI_RENDER_ORDER.filter((name) => deployed.includes(name)).flatMap((name) =>
    lokiComponent(stack, name),
  );
  // The caches before the Loki workloads that use them: a rollout in waves applies them with the store, first.
  return [...objectStore(stack), ...caches(stack), ...loki, ...gateway(stack), ...autoscalers(stack)];
}

/** Pod-template annotations by component (`app.kubernetes.io/component`) that only `apply` knows, e.g. the hash of a certificate. */
export type PodAnnotations = Partial<Record<string, Record<string, string>>>;

export interface RenderOptions {
  /** Object-store credentials to render as a Secret of the stack (see `withStorageCredentials`). */
  credentials?: StorageCredentials;
  podAnnotations?: PodAnnotations;
}

/** The StatefulSet controller labels each pod `controller-revision-hash: <set>-<10-character hash>`, at most 63. */
const MAX_STATEFULSET_NAME = 52;

/** A stack name short enough for the spec may still be too long for the StatefulSet of an optional component. */
function statefulSetNameIssues(stack: LokiStack): { path: string; message: string }[] {
  return deployedComponents(stack)
    .filter((name) => COMPONENTS[name].kind === 'StatefulSet')
    .filter((name) => objectName(stack, name).length > MAX_STATEFULSET_NAME)
    .map((name) => ({
      path: 'metadata.name',
      message: `must be at most ${MAX_STATEFULSET_NAME - objectName(stack, name).length + stack.metadata.name.length} characters with the ${COMPONENTS[name].target}: its StatefulSet "${objectName(stack, name)}" is longer than ${MAX_STATEFULSET_NAME}, and Kubernetes labels its pods with that name and a revision hash (63 at most): shorten the name, or set spec.components.${name}.enabled: false`,
    }));
}

/** Each zone's StatefulSet `<name>-ingester-zone-<zone>` must fit the same budget (its `-headless` Service then fits 63). */
function zoneNameIssues(stack: LokiStack): { path: string; message: string }[] {
  return zonesOf(stack, 'ingester').flatMap((zone, index) => {
    const name = zoneObjectName(stack, zone);
    if (name.length <= MAX_STATEFULSET_NAME) return [];
    const room = MAX_STATEFULSET_NAME - (name.length - stack.metadata.name.length - zone.length);
    return [
      {
        path: `spec.zoneAwareness.zones[${index}]`,
        message: `"${zone}" makes the StatefulSet "${name}" longer than ${MAX_STATEFULSET_NAME} characters (Kubernetes labels its pods with that name and a revision hash, 63 at most): metadata.name and the zone together may have ${room} characters; shorten the zone or metadata.name`,
      },
    ];
  });
}

export function renderKubernetes(given: LokiStack, options: RenderOptions = {}): RenderedStack {
  const nameIssues = [...statefulSetNameIssues(given), ...zoneNameIssues(given)];
  if (nameIssues.length > 0) throw new SpecError(nameIssues);
  const azure = given.spec.storage.azure;
  if (
    given.spec.storage.type === 'azure' &&
    azure &&
    !azure.secretName &&
    !azure.useFederatedToken &&
    !options.credentials
  ) {
    throw new SpecError([{ path: 'spec.storage.azure.secretName', message: AZURE_CREDENTIALS_REQUIRED }]);
  }
  const stack = options.credentials ? withStorageCredentials(given, options.credentials) : given;
  const objects = [
    namespace(stack),
    serviceAccount(stack),
    ...discoveryObjects(stack),
    ...(stack !== given ? [credentialsSecret(stack, options.credentials!)] : []),
    lokiConfigMap(stack),
    runtimeConfigMap(stack),
    ...rulesConfigMaps(stack),
    memberlistService(stack),
    ...networkPolicies(stack),
    ...prometheusOperatorObjects(stack),
    ...certManagerObjects(stack),
    ...componentObjects(stack).map((object) => withWorkloadAnnotations(stack, object, options.podAnnotations)),
  ];
  const phase = (object: KubernetesObject) => {
    // Deployments and StatefulSets form one phase: they are applied together.
    const kind = object.kind === 'StatefulSet' ? 'Deployment' : object.kind;
    return APPLY_ORDER.indexOf(kind ?? '');
  };
  return {
    objects: withSyncWaves(
      stack,
      objects
        .map((object, index) => ({ object, index }))
        .sort((a, b) => phase(a.object) - phase(b.object) || a.index - b.index)
        .map(({ object }) => object),
    ),
    generatedSecrets: generatedSecrets(stack),
    derivedSecrets: derivedSecrets(stack),
    files: monitoringFiles(stack),
  };
}

/**
 * A workload with what status reads off it (the cluster domain, the schema periods, the ruler's declared rules),
 * and the pod annotations only apply knows.
 */
function withWorkloadAnnotations(
  stack: LokiStack,
  object: KubernetesObject,
  podAnnotations: PodAnnotations = {},
): KubernetesObject {
  if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') return object;
  const workload = object as V1Deployment | V1StatefulSet;
  const component = object.metadata?.labels?.['app.kubernetes.io/component'] ?? '';
  const added = podAnnotations[component] ?? {};
  const template = workload.spec!.template;
  const annotations = {
    ...workload.metadata?.annotations,
    [CLUSTER_DOMAIN_ANNOTATION]: stack.spec.clusterDomain,
    [SCHEMA_ANNOTATION]: schemaAnnotationOf(stackSchemaPeriods(stack)),
  };
  const annotated: V1Deployment | V1StatefulSet = {
    ...workload,
    metadata: {
      ...workload.metadata,
      annotations: component === 'ruler' ? withRulesAnnotation(stack, annotations) : annotations,
    },
    spec: {
      ...workload.spec!,
      template: {
        ...template,
        metadata: { ...template.metadata, annotations: { ...template.metadata?.annotations, ...added } },
      },
    } as V1Deployment['spec'] & V1StatefulSet['spec'],
  };
  return annotated;
}

function namespace(stack: LokiStack): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: stack.metadata.namespace,
      labels: {
        ...objectLabels(stack),
        // Warn and audit, not enforce: the namespace may already hold workloads that are not ours.
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      },
    },
  };
}

function serviceAccount(stack: LokiStack): V1ServiceAccount {
  const { annotations } = stack.spec.serviceAccount;
  const base = metadata(stack, serviceAccountName(stack));
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { ...base, annotations: { ...annotations, ...base.annotations } },
    automountServiceAccountToken: false,
  };
}

/** Seeds for memberlist: every ring member, ready or not (an ingester is not ready until it has joined). */
function memberlistService(stack: LokiStack): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(stack, memberlistName(stack), 'memberlist'),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { 'app.kubernetes.io/instance': stack.metadata.name, [MEMBERLIST_LABEL]: 'true' },
      ports: [{ name: PORTS.gossip.name, port: PORTS.gossip.port, targetPort: PORTS.gossip.name, protocol: 'TCP' }],
    },
  };
}

/** Multi-document YAML, keys sorted so that the text depends only on the objects. */
export function toYaml(objects: KubernetesObject[]): string {
  return objects
    .map((object) => `---\n${stringify(object, { lineWidth: 0, sortMapEntries: true, aliasDuplicateObjects: false })}`)
    .join('');
}
