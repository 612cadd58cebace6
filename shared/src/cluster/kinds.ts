// The kinds a stack is made of, in the order they are applied (and, reversed, destroyed).
import type { KubernetesObject } from '@kubernetes/client-node';
import { OBJECT_STORE } from '../render/kubernetes/common.js';

export interface ManagedKind {
  apiVersion: string;
  kind: string;
}

/** Apply phases: the objects of one phase are sent together, a phase starts when the previous one is done. */
export const APPLY_PHASES: ManagedKind[][] = [
  [{ apiVersion: 'v1', kind: 'Namespace' }],
  [
    { apiVersion: 'v1', kind: 'ServiceAccount' },
    { apiVersion: 'v1', kind: 'ConfigMap' },
    { apiVersion: 'v1', kind: 'Secret' },
  ],
  [
    { apiVersion: 'v1', kind: 'Service' },
    // Before the workloads: their pods start isolated.
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  ],
  [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'apps/v1', kind: 'StatefulSet' },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  ],
];

/** Every namespaced kind a stack may own, for listing, pruning and destroying by label. */
export const NAMESPACED_KINDS: ManagedKind[] = APPLY_PHASES.flat().filter((k) => k.kind !== 'Namespace');

export const phaseOf = (kind: string) => APPLY_PHASES.findIndex((phase) => phase.some((k) => k.kind === kind));

/**
 * Objects that prune and destroy keep unless asked (--prune-volumes, --delete-volumes): volume claims, and
 * the generated credentials of the bundled store, without which the data on its volume cannot be read.
 */
export function holdsData(object: KubernetesObject): boolean {
  if (object.kind === 'PersistentVolumeClaim') return true;
  return object.kind === 'Secret' && object.metadata?.labels?.['app.kubernetes.io/component'] === OBJECT_STORE;
}
