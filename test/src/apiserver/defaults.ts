// Server-side defaulting, as the API server fills in fields on every write (values from Kubernetes'
// defaulting functions and admission plugins; shapes as in fixtures/k8s-api-transcripts). Defaulted
// fields belong to no manager, so an apply never conflicts on them.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from './store.js';

type Json = Record<string, unknown>;

const object = (parent: Json, key: string): Json => {
  if (!parent[key] || typeof parent[key] !== 'object') parent[key] = {};
  return parent[key] as Json;
};
const list = (parent: Json, key: string): Json[] => (Array.isArray(parent[key]) ? (parent[key] as Json[]) : []);
const setDefault = (target: Json, key: string, value: unknown) => {
  if (target[key] === undefined) target[key] = value;
};

/** Five random characters from the alphabet Kubernetes uses for generated names. */
export function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

/** The next ClusterIP the double hands out (10.96.0.0/12, as kubeadm's default). */
export interface IpAllocator {
  nextServiceIp(): string;
}

export function applyDefaults(kind: string, target: KubeObject, ips: IpAllocator): void {
  switch (kind) {
    case 'Namespace':
      return defaultNamespace(target);
    case 'Secret':
      return defaultSecret(target);
    case 'Service':
      return defaultService(target, ips);
    case 'Pod':
      return defaultPod(target);
    case 'PersistentVolumeClaim':
      return defaultClaim(target);
    case 'Deployment':
      return defaultDeployment(target);
    case 'ReplicaSet':
      setDefault(object(target, 'spec'), 'replicas', 1);
      return defaultPodTemplate(object(object(target, 'spec'), 'template'));
    case 'StatefulSet':
      return defaultStatefulSet(target);
  }
}

/** Fields of Kubernetes' Go types that are not omitempty: serialized as zero values on every read. */
const ZERO_VALUES: Record<string, Record<string, Json>> = {
  ReplicaSet: { status: { replicas: 0 } },
  // LeaseSpec is a struct, not a pointer: a Lease without one reads back with `spec: {}`.
  Lease: { '': { spec: {} } },
  StatefulSet: { status: { replicas: 0, availableReplicas: 0 } },
  PodDisruptionBudget: { status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } },
  Event: { '': { eventTime: null, reportingComponent: '', reportingInstance: '' } },
};

/**
 * What JSON serialization of Kubernetes' Go types adds: zero values of fields that are not omitempty,
 * `creationTimestamp: null` in templates, `status: {}`. The field manager never sees these as set, so
 * they are added after managedFields are computed.
 */
export function addZeroValues(kind: string, target: KubeObject): void {
  for (const [field, values] of Object.entries(ZERO_VALUES[kind] ?? {})) {
    const parent = field ? object(target, field) : target;
    for (const [key, value] of Object.entries(values)) setDefault(parent, key, value);
  }
  const spec = target.spec as Json | undefined;
  if (!spec || !['Deployment', 'ReplicaSet', 'StatefulSet'].includes(kind)) return;
  setDefault(target, 'status', {});
  setDefault(object(object(spec, 'template'), 'metadata'), 'creationTimestamp', null);
  for (const claim of list(spec, 'volumeClaimTemplates'))
    setDefault(object(claim, 'metadata'), 'creationTimestamp', null);
}

/** Pod templates get the pod defaults, and `serviceAccount` mirrors `serviceAccountName` (deprecated alias). */
function defaultPodTemplate(template: Json): void {
  const spec = object(template, 'spec');
  defaultPodSpec(spec);
  if (spec.serviceAccountName !== undefined) setDefault(spec, 'serviceAccount', spec.serviceAccountName);
}

/** The `kubernetes` finalizer is added on create only (api.ts): the namespace controller removes it for good. */
function defaultNamespace(namespace: KubeObject): void {
  namespace.metadata.labels = { ...namespace.metadata.labels, 'kubernetes.io/metadata.name': namespace.metadata.name };
  object(namespace, 'spec');
  setDefault(object(namespace, 'status'), 'phase', 'Active');
}

/** stringData is write-only: it is merged into data (base64) and never stored. */
function defaultSecret(secret: KubeObject): void {
  setDefault(secret, 'type', 'Opaque');
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData) {
    const data = object(secret, 'data');
    for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(value, 'utf8').toString('base64');
    delete secret.stringData;
  }
}

function defaultService(service: KubeObject, ips: IpAllocator): void {
  const spec = object(service, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'clusterIP', ips.nextServiceIp());
    setDefault(spec, 'clusterIPs', [spec.clusterIP]);
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  }
  for (const port of list(spec, 'ports')) {
    setDefault(port, 'protocol', 'TCP');
    setDefault(port, 'targetPort', port.port);
  }
  setDefault(object(service, 'status'), 'loadBalancer', {});
}

function defaultClaim(claim: KubeObject): void {
  setDefault(object(claim, 'spec'), 'volumeMode', 'Filesystem');
  setDefault(object(claim, 'status'), 'phase', 'Pending');
}

function defaultDeployment(deployment: KubeObject): void {
  const spec = object(deployment, 'spec');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  const strategy = object(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = object(strategy, 'rollingUpdate');
    setDefault(rollingUpdate, 'maxSurge', '25%');
    setDefault(rollingUpdate, 'maxUnavailable', '25%');
  }
  defaultPodTemplate(object(spec, 'template'));
}

function defaultStatefulSet(statefulSet: KubeObject): void {
  const spec = object(statefulSet, 'spec');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  setDefault(spec, 'revisionHistoryLimit', 10);
  const strategy = object(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') setDefault(object(strategy, 'rollingUpdate'), 'partition', 0);
  setDefault(spec, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
  for (const template of list(spec, 'volumeClaimTemplates')) {
    setDefault(template, 'apiVersion', 'v1');
    setDefault(template, 'kind', 'PersistentVolumeClaim');
    setDefault(object(template, 'spec'), 'volumeMode', 'Filesystem');
    setDefault(object(template, 'status'), 'phase', 'Pending');
  }
  defaultPodTemplate(object(spec, 'template'));
}

function defaultPod(pod: KubeObject): void {
  const spec = object(pod, 'spec');
  defaultPodSpec(spec);
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'serviceAccount', spec.serviceAccountName);
  setDefault(spec, 'enableServiceLinks', true);
  setDefault(object(pod, 'status'), 'phase', 'Pending');
  setDefault(pod.status as Json, 'qosClass', qosClass(spec));
}

/**
 * Mutating admission on create, which comes after the field manager has recorded who set what, so what it
 * adds belongs to no manager (transcripts 37, 40, 47): the pod's service account token volume, priority and
 * default tolerations; a claim's default StorageClass (kind's "standard") and protection finalizer.
 */
export function admit(kind: string, target: KubeObject): void {
  const spec = target.spec as Json | undefined;
  if (kind === 'Pod' && spec) {
    mountServiceAccountToken(spec);
    setDefault(spec, 'priority', 0);
    setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
    setDefault(spec, 'tolerations', [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  }
  if (kind === 'PersistentVolumeClaim' && spec) {
    setDefault(spec, 'storageClassName', 'standard');
    if (!target.metadata.finalizers?.includes('kubernetes.io/pvc-protection')) {
      target.metadata.finalizers = [...(target.metadata.finalizers ?? []), 'kubernetes.io/pvc-protection'];
    }
  }
}

/** The ServiceAccount admission plugin: a projected token volume in every container, unless opted out. */
function mountServiceAccountToken(spec: Json): void {
  if (
    spec.automountServiceAccountToken === false ||
    list(spec, 'volumes').some((v) => String(v.name).startsWith('kube-api-access-'))
  )
    return;
  const name = `kube-api-access-${randomSuffix()}`;
  spec.volumes = [
    ...list(spec, 'volumes'),
    {
      name,
      projected: {
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
        defaultMode: 420,
      },
    },
  ];
  for (const container of [...list(spec, 'initContainers'), ...list(spec, 'containers')]) {
    container.volumeMounts = [
      ...list(container, 'volumeMounts'),
      { name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ];
  }
}

function defaultPodSpec(spec: Json): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const container of [...list(spec, 'initContainers'), ...list(spec, 'containers')]) defaultContainer(container);
  for (const volume of list(spec, 'volumes')) {
    for (const source of ['configMap', 'secret'] as const)
      if (volume[source]) setDefault(volume[source] as Json, 'defaultMode', 420);
  }
}

function defaultContainer(container: Json): void {
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  const image = String(container.image ?? '');
  const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
  setDefault(container, 'imagePullPolicy', tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(container, 'resources', {});
  for (const port of list(container, 'ports')) setDefault(port, 'protocol', 'TCP');
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
    const value = container[probe] as Json | undefined;
    if (!value) continue;
    if (value.httpGet) setDefault(value.httpGet as Json, 'scheme', 'HTTP');
    setDefault(value, 'timeoutSeconds', 1);
    setDefault(value, 'periodSeconds', 10);
    setDefault(value, 'successThreshold', 1);
    setDefault(value, 'failureThreshold', 3);
  }
}

function qosClass(spec: Json): string {
  const containers = list(spec, 'containers');
  const resources = containers.map((c) => (c.resources ?? {}) as { requests?: Json; limits?: Json });
  if (resources.every((r) => !r.requests && !r.limits)) return 'BestEffort';
  const guaranteed = resources.every(
    (r) =>
      r.limits?.cpu &&
      r.limits?.memory &&
      (!r.requests || (r.requests.cpu === r.limits.cpu && r.requests.memory === r.limits.memory)),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
