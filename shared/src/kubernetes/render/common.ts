// Names, labels, ports, probes and security settings shared by every rendered object (cf. Loki's
// common.libsonnet): defined once here so that Services, workloads and the Loki config agree.
import { createHash } from 'node:crypto';
import type {
  V1Affinity,
  V1Container,
  V1PodSecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName } from '../../spec/components.js';
import type { LokiStack, Resources } from '../../spec/schema.js';
import { MANAGER } from '../../stack/names.js';
import { STARTUP } from '../../stack/startup.js';
import { CACHE_NAMES, cacheComponent, memcachedImage } from '../../stack/caches.js';

/**
 * On every object this tool creates, the stack it was created for: only such objects may be changed, pruned
 * or destroyed by it (an object of the same name made by someone else is refused unless adopted). On a
 * namespace, set only when apply created the namespace.
 */
export const CREATED_FOR_ANNOTATION = 'loki-microservices/created-for';

/** On the workloads: the cluster DNS domain of the stack's addresses, so that status need not read its config. */
export const CLUSTER_DOMAIN_ANNOTATION = 'loki-microservices/cluster-domain';
/** Workload annotation: the schema periods (JSON), which status shows without reading the Loki config. */
export const SCHEMA_ANNOTATION = 'loki-microservices/schema';
/**
 * On the ruler's StatefulSet (not its pods: a rule change restarts nothing): the declared rule files, their
 * tenants, sources and group names (JSON), which status compares with the ruler's rules API without the spec.
 */
export const RULES_ANNOTATION = 'loki-microservices/rules';

export const PORTS = {
  http: { name: 'http-metrics', port: 3100 },
  grpc: { name: 'grpc', port: 9095 },
  gossip: { name: 'tcp-gossip-ring', port: 7946 },
  s3: { name: 's3', port: 9000 },
} as const;

export const PATHS = {
  configDir: '/etc/loki/config',
  configFile: '/etc/loki/config/config.yaml',
  runtimeConfigDir: '/etc/loki/runtime',
  rulesDir: '/etc/loki/rules',
  data: '/var/loki',
  gcsKeyDir: '/etc/loki/gcs',
} as const;

/** Loki's image runs as uid/gid 10001, and so does RustFS's. */
const NON_ROOT_ID = 10001;

/** Stack components that are not Loki targets, by the product they run. */
export const OBJECT_STORE = 'object-store';
export const GATEWAY = 'gateway';
export const MEMCACHED = 'memcached';
const PRODUCTS: Record<string, string> = {
  [OBJECT_STORE]: 'rustfs',
  [GATEWAY]: 'nginx',
  ...Object.fromEntries(CACHE_NAMES.map((cache) => [cacheComponent(cache), MEMCACHED])),
};

export function objectName(stack: LokiStack, component: ComponentName | typeof OBJECT_STORE | typeof GATEWAY): string {
  const suffix = component === OBJECT_STORE || component === GATEWAY ? component : COMPONENTS[component].target;
  return `${stack.metadata.name}-${suffix}`;
}

export const headlessName = (stack: LokiStack, component: ComponentName) => `${objectName(stack, component)}-headless`;

/** The zone of a zone-aware ingester's objects (its StatefulSet, headless Service and pods). */
export const ZONE_LABEL = 'loki-microservices/zone';

/** The zones a component runs in, one StatefulSet each: the ingester's with zoneAwareness, none otherwise. */
export const zonesOf = (stack: LokiStack, component: ComponentName): string[] =>
  component === 'ingester' && stack.spec.zoneAwareness.enabled ? stack.spec.zoneAwareness.zones : [];

export const zoneObjectName = (stack: LokiStack, zone: string) => `${objectName(stack, 'ingester')}-zone-${zone}`;

/** The headless Services a component's pods are found under: one per zone of a zone-aware ingester. */
export function headlessNames(stack: LokiStack, component: ComponentName): string[] {
  const zones = zonesOf(stack, component);
  return zones.length > 0
    ? zones.map((zone) => `${zoneObjectName(stack, zone)}-headless`)
    : [headlessName(stack, component)];
}
export const memberlistName = (stack: LokiStack) => `${stack.metadata.name}-memberlist`;
export const configMapName = (stack: LokiStack) => `${stack.metadata.name}-config`;
/** The runtime configuration (per-tenant overrides): not in the config hash, so changing it rolls no pod. */
export const runtimeConfigMapName = (stack: LokiStack) => `${stack.metadata.name}-runtime`;
export const serviceAccountName = (stack: LokiStack) => stack.metadata.name;

/** Fully qualified in-cluster DNS name of a Service of the stack. */
export function serviceHost(stack: LokiStack, service: string): string {
  return `${service}.${stack.metadata.namespace}.svc.${stack.spec.clusterDomain}`;
}

/** Pods that join the memberlist cluster carry this label; the memberlist Service selects it. */
export const MEMBERLIST_LABEL = 'loki-microservices/memberlist';

/** Labels that identify a component's pods. Stable for the life of a workload (selectors are immutable). */
export function selectorLabels(stack: LokiStack, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': PRODUCTS[component] ?? 'loki',
    'app.kubernetes.io/instance': stack.metadata.name,
    'app.kubernetes.io/component': component,
  };
}

/** Labels for every object; `component` is a Loki target, `object-store`, `gateway`, a cache, or omitted for stack-wide objects. */
export function objectLabels(stack: LokiStack, component?: string): Record<string, string> {
  const version =
    component === OBJECT_STORE
      ? imageTag(stack.spec.storage.bundled!.image)
      : component === GATEWAY
        ? imageTag(stack.spec.gateway.image)
        : component && PRODUCTS[component] === MEMCACHED
          ? imageTag(memcachedImage(stack))
          : stack.spec.version;
  return {
    ...stack.metadata.labels,
    ...(component
      ? selectorLabels(stack, component)
      : { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/instance': stack.metadata.name }),
    'app.kubernetes.io/part-of': 'loki',
    'app.kubernetes.io/managed-by': MANAGER,
    'app.kubernetes.io/version': version,
  };
}

/** The label selector that finds every object of the stack `name` (for status, prune and destroy). */
export function stackSelector(name: string): string {
  return `app.kubernetes.io/instance=${name},app.kubernetes.io/managed-by=${MANAGER}`;
}

export function metadata(stack: LokiStack, name: string, component?: string) {
  return {
    name,
    namespace: stack.metadata.namespace,
    labels: objectLabels(stack, component),
    annotations: { [CREATED_FOR_ANNOTATION]: stack.metadata.name },
  };
}

export function lokiImage(stack: LokiStack): string {
  return `${stack.spec.image}:${stack.spec.version}`;
}

function imageTag(image: string): string {
  const digest = image.indexOf('@');
  if (digest >= 0) return image.slice(digest + 1 + 'sha256:'.length, digest + 1 + 'sha256:'.length + 12);
  return image.slice(image.lastIndexOf(':') + 1);
}

/** Runs as `id` (Loki's and RustFS's 10001 unless told), in the Pod Security Standards "restricted" way. */
export function podSecurityContext(id = NON_ROOT_ID): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: id,
    runAsGroup: id,
    fsGroup: id,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Pod Security Standards "restricted", with a read-only root filesystem on top. */
export function containerSecurityContext(): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
  };
}

export function resourceRequirements(resources: Resources): V1ResourceRequirements {
  const result: V1ResourceRequirements = {};
  if (resources.requests && Object.keys(resources.requests).length > 0)
    result.requests = { ...resources.requests } as Record<string, string>;
  if (resources.limits && Object.keys(resources.limits).length > 0)
    result.limits = { ...resources.limits } as Record<string, string>;
  return result;
}

/** Ready when Loki says so: `/ready` covers ring membership and, for ingesters, the WAL replay. */
export function readinessProbe(stack: LokiStack): V1Probe {
  const startup = STARTUP[stack.spec.profile];
  return {
    httpGet: { path: '/ready', port: PORTS.http.name },
    initialDelaySeconds: startup.readinessInitialDelaySeconds,
    periodSeconds: startup.readinessPeriodSeconds,
    timeoutSeconds: 1,
    failureThreshold: 3,
  };
}

/**
 * Alive while the HTTP server answers. Deliberately not `/ready`: a ring problem must not restart
 * healthy pods. Same endpoint and patience as the Loki Operator.
 */
export function livenessProbe(): V1Probe {
  return {
    httpGet: { path: '/loki/api/v1/status/buildinfo', port: PORTS.http.name },
    initialDelaySeconds: 15,
    periodSeconds: 10,
    timeoutSeconds: 2,
    failureThreshold: 10,
  };
}

/** Node and zone spreading for the pods of one component, as `spec.scheduling` asks. */
export function placement(
  stack: LokiStack,
  component: string,
): { affinity?: V1Affinity; topologySpreadConstraints?: V1TopologySpreadConstraint[] } {
  const labelSelector = { matchLabels: selectorLabels(stack, component) };
  const { antiAffinity, zoneSpread } = stack.spec.scheduling;
  const result: { affinity?: V1Affinity; topologySpreadConstraints?: V1TopologySpreadConstraint[] } = {};
  const term = { labelSelector, topologyKey: 'kubernetes.io/hostname' };
  if (antiAffinity === 'soft') {
    result.affinity = {
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
    };
  } else if (antiAffinity === 'hard') {
    result.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  }
  if (zoneSpread) {
    result.topologySpreadConstraints = [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector },
    ];
  }
  return result;
}

export function imagePullSecrets(stack: LokiStack) {
  return stack.spec.imagePullSecrets.length > 0
    ? { imagePullSecrets: stack.spec.imagePullSecrets.map((name) => ({ name })) }
    : {};
}

/** Short content hash for pod-template annotations, so that a changed input rolls the pods. */
export function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function tmpVolume() {
  return { volume: { name: 'tmp', emptyDir: {} }, mount: { name: 'tmp', mountPath: '/tmp' } };
}

/** Container fields every container of the stack shares. */
export function hardenedContainer(stack: LokiStack, container: V1Container): V1Container {
  return { ...container, imagePullPolicy: stack.spec.imagePullPolicy, securityContext: containerSecurityContext() };
}
