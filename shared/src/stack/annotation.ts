// The catalog annotation that ties a Backstage entity to a Loki stack: `<cluster>/<namespace>/<name>`, the
// cluster being a name from the Kubernetes plugin's configuration. Browser-safe.
import { isClusterName, isNamespaceName, isStackName } from './names.js';

export const STACK_ANNOTATION = 'loki-microservices/stack';

export interface StackLocation {
  cluster: string;
  namespace: string;
  name: string;
}

export function formatStackAnnotation(location: StackLocation): string {
  return `${location.cluster}/${location.namespace}/${location.name}`;
}

/**
 * The location an annotation value names, or undefined when it is not `<cluster>/<namespace>/<name>` with a
 * valid cluster name, namespace and stack name (anyone who can edit a catalog file writes this value).
 */
export function parseStackAnnotation(value: string | undefined): StackLocation | undefined {
  const parts = value?.trim().split('/');
  if (!parts || parts.length !== 3) return undefined;
  const [cluster, namespace, name] = parts as [string, string, string];
  return isClusterName(cluster) && isNamespaceName(namespace) && isStackName(name)
    ? { cluster, namespace, name }
    : undefined;
}
