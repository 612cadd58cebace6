import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { lokiComponent } from '../workload.js';

/**
 * Holds recent streams in memory with a WAL on its volume, and flushes chunks to the object store.
 * Five minutes of grace on shutdown let it flush (Grafana's own jsonnet uses the same).
 */
export function ingester(stack: LokiStack): KubernetesObject[] {
  return lokiComponent(stack, 'ingester', { terminationGracePeriodSeconds: 300 });
}
