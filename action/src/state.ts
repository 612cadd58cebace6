// What the main step tells the post step (GITHUB_STATE): the stack this job deployed and how to reach it.
import * as core from '@actions/core';
import type { Inputs } from './inputs.js';

export interface DeployedStack {
  name: string;
  namespace: string;
  kubeconfig?: string;
  context?: string;
}

const KEY = 'deployed-stack';

export function saveDeployedStack(inputs: Inputs): void {
  const { kubeconfig, context } = inputs;
  core.saveState(
    KEY,
    JSON.stringify({
      name: inputs.stack.metadata.name,
      namespace: inputs.stack.metadata.namespace,
      kubeconfig,
      context,
    } satisfies DeployedStack),
  );
}

export function deployedStack(): DeployedStack | undefined {
  const saved = core.getState(KEY);
  return saved ? (JSON.parse(saved) as DeployedStack) : undefined;
}
