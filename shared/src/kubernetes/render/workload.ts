// The shape every Loki component shares (cf. newLokiStatefulSet in Loki's common.libsonnet): the same
// image with its own -target, the shared config, ports, probes, hardening, placement, Services and PDB.
// Component files (components/*.ts) only say what differs.
import type {
  KubernetesObject,
  V1Container,
  V1Deployment,
  V1NodeAffinity,
  V1PersistentVolumeClaim,
  V1PodDisruptionBudget,
  V1PodTemplateSpec,
  V1Service,
  V1StatefulSet,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName } from '../../spec/components.js';
import type { LokiStack } from '../../spec/schema.js';
import {
  configMapName,
  hardenedContainer,
  imagePullSecrets,
  livenessProbe,
  lokiImage,
  MEMBERLIST_LABEL,
  metadata,
  objectLabels,
  objectName,
  PATHS,
  placement,
  podSecurityContext,
  PORTS,
  readinessProbe,
  resourceRequirements,
  runtimeConfigMapName,
  selectorLabels,
  serviceAccountName,
  tmpVolume,
  ZONE_LABEL,
  zoneObjectName,
  zonesOf,
} from './common.js';
import { autoscalingOf, isAutoscaled } from './autoscaling.js';
import { lokiConfigHash } from './loki-config.js';
import { ensureBucketContainer } from './components/object-store.js';
import { rulerRuleFiles } from './rules.js';
import { rulerDiscovery } from './rules-discovery.js';
import { storageAccess } from './storage.js';
import { tlsVolume } from './tls.js';

/** Pod-template annotation carrying the config hash: a config change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'loki-microservices/config-hash';

/** Every object of one Loki component: Services, workload, and a PodDisruptionBudget when it has several pods. */
export function lokiComponent(stack: LokiStack, name: ComponentName): KubernetesObject[] {
  const traits = COMPONENTS[name];
  const zones = zonesOf(stack, name);
  // A zone-aware ingester is a StatefulSet per zone, each with its own governing Service; the rest one workload.
  const sets: { set: string; zone?: string }[] =
    zones.length > 0
      ? zones.map((zone) => ({ set: zoneObjectName(stack, zone), zone }))
      : [{ set: objectName(stack, name) }];
  const pods = leastReplicas(stack, name) * sets.length;
  return [
    service(stack, name, objectName(stack, name), false),
    ...(traits.headless
      ? sets.map(({ set, zone }) => service(stack, name, `${set}-headless`, true, traits.discoveredBeforeReady, zone))
      : []),
    ...(traits.kind === 'StatefulSet'
      ? sets.map(({ set, zone }) => statefulSet(stack, name, set, zone))
      : [deployment(stack, name)]),
    // One budget over every zone: its selector is the component's, which each zone's pods carry.
    ...(pods > 1 ? [podDisruptionBudget(stack, name)] : []),
  ];
}

/** The labels that tell a zone's objects and pods from the other zones'. */
const zoneLabels = (zone: string | undefined): Record<string, string> => (zone ? { [ZONE_LABEL]: zone } : {});

/** A zone's metadata: the component's, with the zone label. */
function zonedMetadata(stack: LokiStack, name: string, target: string, zone: string | undefined) {
  const base = metadata(stack, name, target);
  return { ...base, labels: { ...base.labels, ...zoneLabels(zone) } };
}

/** The fewest pods a component runs: an autoscaler's minimum, or its replicas. */
const leastReplicas = (stack: LokiStack, name: ComponentName) =>
  autoscalingOf(stack, name)?.min ?? stack.spec.components[name].replicas;

function service(
  stack: LokiStack,
  name: ComponentName,
  serviceName: string,
  headless: boolean,
  publishNotReady = false,
  zone?: string,
): V1Service {
  const target = COMPONENTS[name].target;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: zonedMetadata(stack, serviceName, target, zone),
    spec: {
      ...(headless ? { clusterIP: 'None' } : { type: 'ClusterIP' }),
      ...(publishNotReady ? { publishNotReadyAddresses: true } : {}),
      selector: { ...selectorLabels(stack, target), ...zoneLabels(zone) },
      ports: [PORTS.http, PORTS.grpc].map(({ name: portName, port }) => ({
        name: portName,
        port,
        targetPort: portName,
        protocol: 'TCP',
      })),
    },
  };
}

function deployment(stack: LokiStack, name: ComponentName): V1Deployment {
  const target = COMPONENTS[name].target;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(stack, objectName(stack, name), target),
    spec: {
      // Autoscaled: the autoscaler owns the count (apply hands it over, ops/apply.ts).
      ...(isAutoscaled(stack, name) ? {} : { replicas: stack.spec.components[name].replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(stack, target) },
      // Surge first: a one-replica component stays available during a rollout.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: podTemplate(stack, name, { name: 'data', emptyDir: {} }),
    },
  };
}

function statefulSet(stack: LokiStack, name: ComponentName, setName: string, zone: string | undefined): V1StatefulSet {
  const target = COMPONENTS[name].target;
  const component = stack.spec.components[name];
  if (!('storage' in component)) throw new Error(`${name} has no storage settings`);
  const claim: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', labels: selectorLabels(stack, target) },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: component.storage.size } },
      ...(component.storage.storageClassName ? { storageClassName: component.storage.storageClassName } : {}),
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: zonedMetadata(stack, setName, target, zone),
    spec: {
      replicas: component.replicas,
      revisionHistoryLimit: 5,
      serviceName: `${setName}-headless`,
      // Loki pods do not depend on their siblings' order; starting them together halves start-up time.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      // Volumes outlive the StatefulSet: `destroy` keeps data unless asked to delete it.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: { ...selectorLabels(stack, target), ...zoneLabels(zone) } },
      template: podTemplate(stack, name, undefined, zone),
      volumeClaimTemplates: [claim],
    },
  };
}

function podTemplate(stack: LokiStack, name: ComponentName, dataVolume?: V1Volume, zone?: string): V1PodTemplateSpec {
  const traits = COMPONENTS[name];
  const component = stack.spec.components[name];
  const storage = traits.objectStore ? storageAccess(stack) : { env: [], volumes: [], mounts: [] };
  const tls = tlsVolume(stack, name);
  const rules = rulerRuleFiles(stack, name);
  const discovery = rulerDiscovery(stack, name);
  const tmp = tmpVolume();
  const mounts: V1VolumeMount[] = [
    { name: 'config', mountPath: PATHS.configDir, readOnly: true },
    { name: 'runtime', mountPath: PATHS.runtimeConfigDir, readOnly: true },
    { name: 'data', mountPath: PATHS.data },
    tmp.mount,
    ...storage.mounts,
    ...tls.mounts,
    // The discovered rules directory first: the declared tenants' folders are mounted over it.
    ...discovery.mounts,
    ...rules.mounts,
  ];
  const env = [...storage.env, ...rules.env];
  const ports = [PORTS.http, PORTS.grpc, ...(traits.ringMember ? [PORTS.gossip] : [])];
  const loki: V1Container = hardenedContainer(stack, {
    name: 'loki',
    image: lokiImage(stack),
    // The config is every component's: the zone, which differs by StatefulSet, is a flag. Not
    // -ingester.availability-zone: Loki overwrites the ingester's zone with common.ring's, which the stack sets.
    args: [
      `-target=${traits.target}`,
      `-config.file=${PATHS.configFile}`,
      '-config.expand-env=true',
      ...(zone ? [`-common.storage.ring.instance-availability-zone=${zone}`] : []),
    ],
    ports: ports.map(({ name: portName, port }) => ({ name: portName, containerPort: port, protocol: 'TCP' })),
    ...(env.length > 0 ? { env } : {}),
    resources: resourceRequirements(component.resources),
    readinessProbe: readinessProbe(stack),
    livenessProbe: livenessProbe(),
    volumeMounts: mounts,
  });
  const initContainers =
    traits.objectStore && stack.spec.storage.type === 'bundled' ? [ensureBucketContainer(stack)] : [];

  return {
    metadata: {
      labels: {
        ...objectLabels(stack, traits.target),
        ...(traits.ringMember ? { [MEMBERLIST_LABEL]: 'true' } : {}),
        ...zoneLabels(zone),
      },
      annotations: { [CONFIG_HASH_ANNOTATION]: lokiConfigHash(stack) },
    },
    spec: {
      serviceAccountName: discovery.serviceAccountName ?? serviceAccountName(stack),
      // Loki never calls the Kubernetes API; the discovery sidecar mounts its token itself.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: podSecurityContext(),
      ...imagePullSecrets(stack),
      ...zonePlacement(stack, placement(stack, traits.target), zone),
      ...(component.nodeSelector ? { nodeSelector: component.nodeSelector } : {}),
      ...(component.tolerations ? { tolerations: component.tolerations } : {}),
      terminationGracePeriodSeconds: traits.shutdownGraceSeconds,
      ...(initContainers.length > 0 ? { initContainers } : {}),
      containers: [loki, ...discovery.containers],
      volumes: [
        { name: 'config', configMap: { name: configMapName(stack) } },
        { name: 'runtime', configMap: { name: runtimeConfigMapName(stack) } },
        ...(dataVolume ? [dataVolume] : []),
        tmp.volume,
        ...storage.volumes,
        ...tls.volumes,
        ...discovery.volumes,
        ...rules.volumes,
      ],
    },
  };
}

function podDisruptionBudget(stack: LokiStack, name: ComponentName): V1PodDisruptionBudget {
  const target = COMPONENTS[name].target;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(stack, objectName(stack, name), target),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(stack, target) } },
  };
}

/** `placement: physical` pins a zone's pods to the nodes of that zone, besides the component's spread. */
function zonePlacement(
  stack: LokiStack,
  spread: ReturnType<typeof placement>,
  zone: string | undefined,
): ReturnType<typeof placement> {
  const { placement: mode, topologyKey } = stack.spec.zoneAwareness;
  if (!zone || mode !== 'physical') return spread;
  const nodeAffinity: V1NodeAffinity = {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: topologyKey, operator: 'In', values: [zone] }] }],
    },
  };
  return { ...spread, affinity: { ...spread.affinity, nodeAffinity } };
}
