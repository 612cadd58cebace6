import type { KubernetesObject } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { lokiComponent } from '../workload.js';

/** Pulls query work from the query-scheduler; reads ingesters for recent data and the object store for the rest. */
export function querier(stack: LokiStack): KubernetesObject[] {
  return lokiComponent(stack, 'querier');
}
