// status: the StackStatus of one stack, from four reads whatever its size (workloads, pods, and the
// stack's ConfigMap for the cluster domain of its endpoints), sent together.
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { StackNotFoundError } from '../errors.js';
import { stackSelector } from '../render/kubernetes/common.js';
import type { Connection } from './connection.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.js';
import { stackStatusOf, type StackStatus } from './status-model.js';

export interface StackRef {
  name: string;
  namespace: string;
}

export async function getStackStatus(connection: Connection, ref: StackRef, retry: RetryPolicy = DEFAULT_RETRY): Promise<StackStatus> {
  const { namespace } = ref;
  const labelSelector = stackSelector(ref.name);
  const [deployments, statefulSets, pods, clusterDomain] = await Promise.all([
    withRetry(`listing Deployments in ${namespace}`, () => connection.apps.listNamespacedDeployment({ namespace, labelSelector }), retry),
    withRetry(`listing StatefulSets in ${namespace}`, () => connection.apps.listNamespacedStatefulSet({ namespace, labelSelector }), retry),
    withRetry(`listing pods in ${namespace}`, () => connection.core.listNamespacedPod({ namespace, labelSelector }), retry),
    clusterDomainOf(connection, ref, retry),
  ]);
  const workloads: (V1Deployment | V1StatefulSet)[] = [
    ...deployments.items.map((item) => ({ ...item, kind: 'Deployment' })),
    ...statefulSets.items.map((item) => ({ ...item, kind: 'StatefulSet' })),
  ];
  if (workloads.length === 0) throw new StackNotFoundError(ref.name, namespace);
  return stackStatusOf({ ...ref, clusterDomain, workloads, pods: pods.items });
}

/** The cluster domain the stack was rendered with, read back from its Loki config (cluster.local if unreadable). */
export async function clusterDomainOf(connection: Connection, ref: StackRef, retry: RetryPolicy = DEFAULT_RETRY): Promise<string> {
  const configMap = await withRetry(`reading ConfigMap ${ref.namespace}/${ref.name}-config`, () => connection.core.readNamespacedConfigMap({ name: `${ref.name}-config`, namespace: ref.namespace }), retry).catch(() => undefined);
  const config = configMap?.data?.['config.yaml'];
  const address = config ? ((parse(config) as { common?: { compactor_address?: string } } | null)?.common?.compactor_address ?? '') : '';
  return /\.svc\.([^:/]+)/.exec(address)?.[1] ?? 'cluster.local';
}
