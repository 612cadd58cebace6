// status: the StackStatus of one stack, from three reads whatever its size (Deployments, StatefulSets and
// pods), sent together. It parses nothing but the API's JSON: what it needs beyond the objects' state (the
// cluster domain of the endpoints, the rules the ruler should have loaded) is an annotation on the workloads.
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { StackNotFoundError } from '../../errors.js';
import { assertStackRef } from '../../stack/names.js';
import { declaredRulesOfAnnotation, type DeclaredRuleFile } from '../../stack/rule-files.js';
import { RULES_ANNOTATION, stackSelector } from '../render/common.js';
import type { Connection } from './connection.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.js';
import type { StackStatus } from '../../stack/status-model.js';
import { stackStatusOf } from './stack-status.js';

export interface StackRef {
  name: string;
  namespace: string;
}

/**
 * A stack's status, and the rule groups its ruler's annotation declares (none without rules), or what is wrong
 * with that annotation (edited by hand): that makes the rules unknown, not the status.
 */
export interface StackState {
  status: StackStatus;
  declaredRules: DeclaredRuleFile[] | { invalid: string };
}

export async function getStackStatus(
  connection: Connection,
  ref: StackRef,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<StackStatus> {
  return (await getStackState(connection, ref, retry)).status;
}

export async function getStackState(
  connection: Connection,
  ref: StackRef,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<StackState> {
  assertStackRef(ref);
  const { namespace } = ref;
  const labelSelector = stackSelector(ref.name);
  const [deployments, statefulSets, pods] = await Promise.all([
    withRetry(
      `listing Deployments in ${namespace}`,
      () => connection.apps.listNamespacedDeployment({ namespace, labelSelector }),
      retry,
    ),
    withRetry(
      `listing StatefulSets in ${namespace}`,
      () => connection.apps.listNamespacedStatefulSet({ namespace, labelSelector }),
      retry,
    ),
    withRetry(
      `listing pods in ${namespace}`,
      () => connection.core.listNamespacedPod({ namespace, labelSelector }),
      retry,
    ),
  ]);
  const workloads: (V1Deployment | V1StatefulSet)[] = [
    ...deployments.items.map((item) => ({ ...item, kind: 'Deployment' })),
    ...statefulSets.items.map((item) => ({ ...item, kind: 'StatefulSet' })),
  ];
  if (workloads.length === 0) throw new StackNotFoundError(ref.name, namespace);
  const ruler = statefulSets.items.find((item) => item.metadata?.labels?.['app.kubernetes.io/component'] === 'ruler');
  return {
    status: stackStatusOf({ ...ref, workloads, pods: pods.items }),
    declaredRules: declaredRulesOfAnnotation(ruler?.metadata?.annotations?.[RULES_ANNOTATION], RULES_ANNOTATION),
  };
}
