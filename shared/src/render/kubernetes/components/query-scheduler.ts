import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { lokiComponent } from '../workload.js';

/**
 * Queues queries between frontends and querier workers. Both dial every scheduler pod through the headless
 * Service, which also lists pods that are not ready yet so that start-up does not deadlock.
 */
export function queryScheduler(stack: LokiStack): KubernetesObject[] {
  return lokiComponent(stack, 'queryScheduler', { discoverNotReady: true });
}
