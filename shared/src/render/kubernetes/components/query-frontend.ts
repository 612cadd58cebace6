import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { lokiComponent } from '../workload.js';

/** The query API: splits and caches queries, queues them on the scheduler, proxies tails to queriers. */
export function queryFrontend(stack: LokiStack): KubernetesObject[] {
  return lokiComponent(stack, 'queryFrontend', { discoverNotReady: true });
}
