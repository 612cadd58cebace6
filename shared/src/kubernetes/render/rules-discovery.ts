// Discovered rules (spec.rules.discovery): kiwigrid/k8s-sidecar in each ruler pod watches ConfigMaps carrying
// one label in the listed namespaces and writes their files into the ruler's rules directory, under the folder
// their annotation names (the tenant). The ruler reads that directory every poll_interval, as it reads the
// declared rules. The sidecar is the one container of the stack holding an API token: the pod mounts none
// (automountServiceAccountToken: false) and the token, the cluster CA and the namespace are projected into the
// sidecar container alone, where the Kubernetes client looks for them. Its ServiceAccount may only read
// ConfigMaps, through a Role and RoleBinding in each listed namespace.
import type { KubernetesObject, V1Container, V1Volume, V1VolumeMount, V1ServiceAccount } from '@kubernetes/client-node';
import type { ComponentName } from '../../spec/components.js';
import type { LokiStack } from '../../spec/schema.js';
import { hardenedContainer, metadata, PATHS } from './common.js';
import { RULES_TENANT_ANNOTATION } from './rules.js';

/** kiwigrid/k8s-sidecar, pinned: the image the discovery sidecar runs. */
export const DISCOVERY_SIDECAR_IMAGE = 'docker.io/kiwigrid/k8s-sidecar:2.5.0';

/**
 * On the Roles and RoleBindings of discovery: the namespace of the stack they were made for. The stack's
 * labels and created-for mark name the stack only, and a stack of the same name in another namespace could
 * own objects in a listed namespace too.
 */
export const STACK_NAMESPACE_LABEL = 'loki-microservices/stack-namespace';

/**
 * On the discovery ServiceAccount: the namespaces it was given Roles in, comma-separated. apply and destroy
 * read it to find the Roles and RoleBindings of namespaces no longer listed; it is applied in the same phase as
 * they are.
 */
export const DISCOVERY_NAMESPACES_ANNOTATION = 'loki-microservices/rules-discovery-namespaces';

/** Where the Kubernetes clients look for the in-cluster token, CA and namespace. */
const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** What the kubelet sets for the tokens it projects itself: renewed by the kubelet at 80% of their life. */
const TOKEN_SECONDS = 3607;

export const discoveryEnabled = (stack: LokiStack) =>
  stack.spec.components.ruler.enabled && stack.spec.rules.discovery.enabled;

export const discoveryServiceAccountName = (stack: LokiStack) => `${stack.metadata.name}-rules-discovery`;

/** The namespaces whose ConfigMaps are collected: those listed, else the stack's own. */
export function discoveryNamespaces(stack: LokiStack): string[] {
  if (!discoveryEnabled(stack)) return [];
  const { namespaces } = stack.spec.rules.discovery;
  return namespaces.length > 0 ? namespaces : [stack.metadata.namespace];
}

/** The ServiceAccount, and a Role and RoleBinding (get, list and watch ConfigMaps) per namespace. */
export function discoveryObjects(stack: LokiStack): KubernetesObject[] {
  if (!discoveryEnabled(stack)) return [];
  const name = discoveryServiceAccountName(stack);
  const namespaces = discoveryNamespaces(stack);
  const base = metadata(stack, name, 'ruler');
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      ...base,
      // The ruler runs as this account: the stack's cloud identity (IRSA, Workload Identity) must reach it too.
      annotations: {
        ...stack.spec.serviceAccount.annotations,
        ...base.annotations,
        [DISCOVERY_NAMESPACES_ANNOTATION]: namespaces.join(','),
      },
    },
    // The token is projected into the sidecar container only (discoverySidecar).
    automountServiceAccountToken: false,
  };
  const inNamespace = (namespace: string) => ({
    ...base,
    namespace,
    labels: { ...base.labels, [STACK_NAMESPACE_LABEL]: stack.metadata.namespace },
  });
  return [
    serviceAccount,
    ...namespaces.flatMap((namespace) => [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: inNamespace(namespace),
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: inNamespace(namespace),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: stack.metadata.namespace }],
      },
    ]),
  ];
}

const DISCOVERED_VOLUME = 'rules-discovered';
const TOKEN_VOLUME = 'rules-discovery-token';

/**
 * What discovery adds to a ruler pod: its ServiceAccount, the sidecar, the volumes, and the Loki container's
 * mount of the discovered rules. The rules directory becomes an emptyDir the sidecar writes and Loki reads;
 * the declared tenants' ConfigMaps are mounted over their folders in the Loki container only, so that neither
 * can overwrite the other (discovered files for a declared tenant land beneath its mount, unseen).
 */
export function rulerDiscovery(
  stack: LokiStack,
  component: ComponentName,
): { serviceAccountName?: string; containers: V1Container[]; volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (component !== 'ruler' || !discoveryEnabled(stack)) return { containers: [], volumes: [], mounts: [] };
  const [[key, value]] = Object.entries(stack.spec.rules.discovery.labelSelector) as [[string, string]];
  const sidecar = hardenedContainer(stack, {
    name: 'rules-discovery',
    image: DISCOVERY_SIDECAR_IMAGE,
    env: [
      { name: 'LABEL', value: key },
      { name: 'LABEL_VALUE', value },
      { name: 'FOLDER', value: PATHS.rulesDir },
      { name: 'FOLDER_ANNOTATION', value: RULES_TENANT_ANNOTATION },
      { name: 'NAMESPACE', value: discoveryNamespaces(stack).join(',') },
      { name: 'RESOURCE', value: 'configmap' },
      // Two ConfigMaps with the same file name (in one tenant) must not replace each other's file.
      { name: 'UNIQUE_FILENAMES', value: 'true' },
    ],
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    volumeMounts: [
      { name: DISCOVERED_VOLUME, mountPath: PATHS.rulesDir },
      { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true },
    ],
  });
  return {
    serviceAccountName: discoveryServiceAccountName(stack),
    containers: [sidecar],
    volumes: [
      { name: DISCOVERED_VOLUME, emptyDir: {} },
      {
        name: TOKEN_VOLUME,
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: TOKEN_SECONDS } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ],
    mounts: [{ name: DISCOVERED_VOLUME, mountPath: PATHS.rulesDir, readOnly: true }],
  };
}
