import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { lokiComponent } from '../workload.js';

/** Receives pushes (`/loki/api/v1/push`) and forwards each stream to replicationFactor ingesters. */
export function distributor(stack: LokiStack): KubernetesObject[] {
  return lokiComponent(stack, 'distributor');
}
