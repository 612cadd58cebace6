// The scaffolder actions against the test API server, configured as a Backstage adopter configures the
// Kubernetes plugin (clusters "dev" and "prod-eu" with a service account token and the server's CA), and run
// through the scaffolder's own mock action context.
import { jest } from '@jest/globals';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  Clusters,
  createDeployAction,
  createDestroyAction,
  createPlanAction,
} from '@loki-microservices/plugin-scaffolder-backend-module-loki-stack';
import { serverCredentials } from '../../src/apiserver/tls.js';
import type { RunningApiServer } from '../../src/apiserver/index.js';

// createMockActionContext makes its mocks with the global `jest`, which native-ESM jest does not define.
(globalThis as { jest?: unknown }).jest = jest;
const { createMockActionContext } = await import('@backstage/plugin-scaffolder-node-test-utils');

export async function appConfig(running: RunningApiServer, extra: Record<string, unknown> = {}): Promise<ConfigReader> {
  const caData = Buffer.from((await serverCredentials()).caPem).toString('base64');
  const cluster = (name: string) => ({
    name,
    url: running.url,
    authProvider: 'serviceAccount',
    serviceAccountToken: running.server.token,
    caData,
  });
  return new ConfigReader({
    kubernetes: { clusterLocatorMethods: [{ type: 'config', clusters: [cluster('dev'), cluster('prod-eu')] }] },
    ...extra,
  });
}

export async function clustersOf(running: RunningApiServer, extra: Record<string, unknown> = {}): Promise<Clusters> {
  return new Clusters(await appConfig(running, extra));
}

/** The permission service of a backend whose policy allows everything, or denies everything. */
export const permissionsThat = (result: 'allow' | 'deny') =>
  mockServices.permissions({ result: result === 'allow' ? AuthorizeResult.ALLOW : AuthorizeResult.DENY });

/** The deploy, plan and destroy actions on `clusters`, under a policy that allows everything. */
export function clusterActions(clusters: Clusters) {
  const permissions = permissionsThat('allow');
  return {
    deploy: createDeployAction({ clusters, permissions }),
    destroy: createDestroyAction({ clusters, permissions }),
    plan: createPlanAction({ clusters, permissions }),
  };
}

type Context = ReturnType<typeof createMockActionContext>;

/**
 * A mock context (createMockActionContext's, which ignores isDryRun, signal and checkpoint: `extra` sets
 * them) with a logger whose lines, and outputs, are easy to read back.
 */
export function contextFor(input: Record<string, unknown>, extra: Partial<Context> = {}) {
  const lines: string[] = [];
  const log = (message: string) => void lines.push(message);
  const logger = { info: log, warn: log, error: log, debug: log, child: () => logger };
  const ctx = {
    ...createMockActionContext({ input: input as never }),
    logger: logger as unknown as Context['logger'],
    ...extra,
  } as Context;
  const outputs = () =>
    Object.fromEntries((ctx.output as jest.Mock).mock.calls.map(([name, value]) => [name as string, value]));
  // Typed loosely: each action narrows its own input type.
  return { ctx: ctx as never, lines, outputs };
}
