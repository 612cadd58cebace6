// The post step: with `cleanup: true`, destroy the stack this job deployed, volumes included, whatever the
// job's outcome. A cluster that is already gone (a kind cluster deleted before us) is said, not failed on.
import * as core from '@actions/core';
import { ClusterError, connect, describeError, destroyStack } from 'loki-microservices';
import { deployedStack } from './state.js';
import { writeSummary } from './summary.js';

/** Enough for a blip (3.5 s of retries); a cluster deleted before us should not hold the job up longer. */
const CLEANUP_RETRY = { attempts: 4, baseDelayMs: 500, maxDelayMs: 2000 };

export async function cleanup(): Promise<void> {
  const stack = deployedStack();
  if (!stack) return;
  let cleanupWanted: boolean;
  try {
    cleanupWanted = core.getBooleanInput('cleanup');
  } catch {
    return; // the main step already failed on this input
  }
  if (!cleanupWanted) {
    core.info(`cleanup is off: the stack ${stack.namespace}/${stack.name} stays`);
    return;
  }
  const title = `Loki stack ${stack.namespace}/${stack.name}: cleanup`;
  try {
    const connection = connect({ kubeconfig: stack.kubeconfig, context: stack.context });
    const result = await destroyStack(connection, stack, {
      deleteVolumes: true,
      retry: CLEANUP_RETRY,
      onObject: (object) => core.info(`${object.kind} ${object.name} deleted`),
    });
    const message = `${result.deleted.length} objects deleted, volumes included${result.namespaceDeleted ? `; namespace ${stack.namespace} deleted` : ''}`;
    core.info(message);
    core.summary.addHeading(title, 3).addRaw(message, true);
  } catch (error) {
    const message = describeError(error);
    if (unreachable(error)) {
      core.warning(
        `could not reach the cluster to delete the stack (${message}); if the cluster is gone, so is the stack`,
        { title: 'Loki stack not cleaned up' },
      );
      core.summary.addHeading(title, 3).addRaw(`Not done: the cluster could not be reached (${message}).`, true);
    } else {
      core.summary.addHeading(title, 3).addRaw(`Failed: ${message}`, true);
      core.setFailed(`cleanup of the Loki stack failed: ${message}`);
    }
  }
  await writeSummary();
}

/** No answer from an API server at all (refused, no such host, reset, or no kubeconfig left). */
function unreachable(error: unknown): boolean {
  if (error instanceof ClusterError && error.code !== undefined) return false;
  const text = `${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`;
  return (
    error instanceof ClusterError ||
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|socket hang up|fetch failed/.test(text)
  );
}
