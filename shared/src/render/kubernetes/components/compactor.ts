import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { lokiComponent } from '../workload.js';

/** The singleton that compacts the index, applies retention and serves delete requests. */
export function compactor(stack: LokiStack): KubernetesObject[] {
  return lokiComponent(stack, 'compactor');
}
