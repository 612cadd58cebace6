import * as core from '@actions/core';
import type { LokiStack, StackStatus } from 'loki-microservices';

export const stackTitle = (stack: LokiStack) => `Loki stack ${stack.metadata.namespace}/${stack.metadata.name}`;

/** The outputs of the commands that read the stack's status. */
export function setStatusOutputs(status: StackStatus): void {
  core.setOutput('status', JSON.stringify(status));
  core.setOutput('ready', String(status.condition.type === 'Ready'));
}
