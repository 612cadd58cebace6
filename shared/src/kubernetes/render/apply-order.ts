// The kinds a stack is made of, in the order a cluster needs them: the one source for the order `render` writes
// objects in, the phases `apply` sends them in, and (reversed) the order `destroy` deletes them in.

export interface ManagedKind {
  apiVersion: string;
  kind: string;
  /** Served only where its CustomResourceDefinition is installed (cert-manager, the Prometheus Operator, Gateway API). */
  crd?: string;
}

const CERT_MANAGER = 'cert-manager.io/v1';
const PROMETHEUS_OPERATOR = 'monitoring.coreos.com/v1';
const RBAC = 'rbac.authorization.k8s.io/v1';

/** Apply phases: the objects of one phase are sent together, a phase starts when the previous one is done. */
export const APPLY_PHASES: ManagedKind[][] = [
  [{ apiVersion: 'v1', kind: 'Namespace' }],
  [
    { apiVersion: 'v1', kind: 'ServiceAccount' },
    // The discovery sidecar's, in the namespaces it reads (rules-discovery.ts).
    { apiVersion: RBAC, kind: 'Role' },
    { apiVersion: RBAC, kind: 'RoleBinding' },
    { apiVersion: 'v1', kind: 'Secret' },
    { apiVersion: 'v1', kind: 'ConfigMap' },
    { apiVersion: CERT_MANAGER, kind: 'Issuer', crd: 'cert-manager' },
    { apiVersion: CERT_MANAGER, kind: 'Certificate', crd: 'cert-manager' },
  ],
  [
    { apiVersion: 'v1', kind: 'Service' },
    // Before the workloads: their pods start isolated.
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', crd: 'the Gateway API' },
    { apiVersion: PROMETHEUS_OPERATOR, kind: 'PodMonitor', crd: 'the Prometheus Operator' },
    { apiVersion: PROMETHEUS_OPERATOR, kind: 'PrometheusRule', crd: 'the Prometheus Operator' },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  ],
  [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'apps/v1', kind: 'StatefulSet' },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
    // An autoscaler whose Deployment is not there yet waits for it on its own.
    { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
    { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', crd: 'KEDA' },
  ],
];

/** Every kind in apply order; objects of one kind keep the order of their components. */
export const APPLY_ORDER: string[] = APPLY_PHASES.flat().map((managed) => managed.kind);
