// Typed views of the objects the controllers read and write (only the fields they use), and the small
// predicates every controller shares: owner references, pod readiness, conditions, int-or-percent.
import type { KubeObject, OwnerReference } from '../store.js';

type Labels = Record<string, string>;

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

interface SecretKeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  args?: string[];
  ports?: ContainerPort[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: SecretKeyRef; [source: string]: unknown } }[];
  envFrom?: { secretRef?: { name: string; optional?: boolean }; [source: string]: unknown }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
  [source: string]: unknown;
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  schedulerName?: string;
  terminationGracePeriodSeconds?: number;
  [field: string]: unknown;
}

export interface PodTemplate {
  metadata?: { labels?: Labels; annotations?: Record<string, string>; finalizers?: string[]; [field: string]: unknown };
  spec: PodSpec;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastProbeTime?: null;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ContainerStatus {
  name: string;
  state: Record<string, Record<string, unknown>>;
  lastState: Record<string, Record<string, unknown>>;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  started?: boolean;
}

export interface PodStatus {
  phase?: string;
  conditions?: Condition[];
  hostIP?: string;
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
  qosClass?: string;
}

export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: PodStatus;
}

export interface ReplicaSet extends KubeObject {
  spec: { replicas?: number; minReadySeconds?: number; selector: LabelSelector; template: PodTemplate };
  status?: Record<string, unknown> & {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
  };
}

export type IntOrPercent = number | string;

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplate;
    strategy?: { type?: string; rollingUpdate?: { maxSurge?: IntOrPercent; maxUnavailable?: IntOrPercent } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
  };
  status?: DeploymentStatus;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

interface ClaimTemplate {
  metadata: { name: string; labels?: Labels; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface StatefulSet extends KubeObject {
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplate;
    serviceName?: string;
    podManagementPolicy?: string;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
    volumeClaimTemplates?: ClaimTemplate[];
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
    revisionHistoryLimit?: number;
    minReadySeconds?: number;
  };
  status?: Record<string, unknown> & { currentRevision?: string; collisionCount?: number };
}

export const CONTROLLER_MANAGER = 'kube-controller-manager';

// ---- metadata ---------------------------------------------------------------------------------------

export const isDeleting = (object: KubeObject) => Boolean(object.metadata.deletionTimestamp);

export const controllerRefOf = (object: KubeObject): OwnerReference | undefined =>
  object.metadata.ownerReferences?.find((ref) => ref.controller);

/** The reference a controller puts on what it creates (blockOwnerDeletion, so that foreground deletion waits). */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Where a change is about, as the work queue keys it. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export const refTo = (kind: string, object: KubeObject): ObjectRef => ({
  kind,
  namespace: object.metadata.namespace,
  name: object.metadata.name,
});

// ---- pods -------------------------------------------------------------------------------------------

export const conditionOf = (conditions: Condition[] | undefined, type: string) =>
  conditions?.find((condition) => condition.type === type);

export const isPodReady = (pod: Pod) => conditionOf(pod.status?.conditions, 'Ready')?.status === 'True';

/** Counted by ReplicaSets and Deployments: not on its way out, not finished. */
export const isActivePod = (pod: Pod) =>
  !isDeleting(pod) && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

export const isRunningAndReady = (pod: Pod) => pod.status?.phase === 'Running' && isPodReady(pod);

/** Ready for at least minReadySeconds; otherwise how many ms until it will be (for a requeue). */
export function availability(pod: Pod, minReadySeconds: number, now: number): { available: boolean; inMs?: number } {
  if (!isPodReady(pod)) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const since = Date.parse(conditionOf(pod.status?.conditions, 'Ready')?.lastTransitionTime ?? '');
  const at = (Number.isNaN(since) ? now : since) + minReadySeconds * 1000;
  return at <= now ? { available: true } : { available: false, inMs: at - now };
}

/** A pod as a controller makes it from a template (GetPodFromTemplate): `generateName: <owner>-`. */
export function podFromTemplate(template: PodTemplate, owner: KubeObject, extraLabels: Labels = {}): Pod {
  const { labels, annotations, finalizers } = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: '',
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...labels, ...extraLabels },
      ...(annotations ? { annotations: { ...annotations } } : {}),
      ...(finalizers ? { finalizers: [...finalizers] } : {}),
      ownerReferences: [controllerRef(owner)],
    },
    spec: structuredClone(template.spec),
  };
}

// ---- conditions and numbers -------------------------------------------------------------------------

/**
 * Kubernetes' SetCondition: an unchanged status and reason leave the condition alone; otherwise it is
 * replaced and moved to the end of the list, keeping lastTransitionTime when only the reason changed.
 */
export function setCondition(conditions: Condition[], next: Condition): Condition[] {
  const current = conditionOf(conditions, next.type);
  if (current && current.status === next.status && current.reason === next.reason) return conditions;
  const condition =
    current && current.status === next.status ? { ...next, lastTransitionTime: current.lastTransitionTime } : next;
  return [...conditions.filter((c) => c.type !== next.type), condition];
}

/** GetScaledValueFromIntOrPercent: `25%` of 3 is 1 rounded up, 0 rounded down. */
export function scaledValue(value: IntOrPercent | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const percent = Number.parseInt(value.replace('%', ''), 10);
  if (!value.endsWith('%') || Number.isNaN(percent)) return Number.parseInt(value, 10) || 0;
  const scaled = (percent * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** Drop fields whose value is 0 or undefined (Go's omitempty on integers). */
export function omitZero<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== 0 && value !== undefined),
  ) as Partial<T>;
}
