import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { lokiComponent } from '../workload.js';

/** Evaluates LogQL alerting and recording rules kept on the object store; absent when disabled. */
export function ruler(stack: LokiStack): KubernetesObject[] {
  return stack.spec.components.ruler.enabled ? lokiComponent(stack, 'ruler') : [];
}
