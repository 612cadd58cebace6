import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { lokiComponent } from '../workload.js';

/** Serves the tsdb index from the object store to queriers and rulers, with a local cache on its volume. */
export function indexGateway(stack: LokiStack): KubernetesObject[] {
  return lokiComponent(stack, 'indexGateway');
}
