// The loki-stack backend plugin in a test backend (Backstage's default auth), reading the test API server as
// the Kubernetes-plugin clusters "dev" and "prod-eu" (and "gone", whose API server is not there), with three
// stacks: b-ready; b-failed, whose ingester crash-loops; b-degraded, whose distributor rolls out to pods that
// cannot pull their image while the old pod serves.
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { applyStack, parseSpec } from 'loki-microservices';
import type { Server } from 'node:http';
import request from 'supertest';
import { FAST_RETRY, startFixture, type Fixture } from '../cluster/fixture.js';
import { appConfig } from '../scaffolder/fixture.js';

type Json = Record<string, any>;

export interface StatusBackend {
  fixture: Fixture;
  server: Server;
  /** GET /api/loki-stack<path>. */
  get(path: string): request.Test;
  /** Poll a stack's status until its condition is `type`. */
  untilCondition(path: string, type: string): Promise<Json>;
  close(): Promise<void>;
}

export async function startStatusBackend(ttlSeconds: number): Promise<StatusBackend> {
  const fixture = await startFixture();
  const config = (await appConfig(fixture.running)).get() as Json;
  config.kubernetes.clusterLocatorMethods[0].clusters.push({ name: 'gone', url: 'https://127.0.0.1:1', authProvider: 'serviceAccount', serviceAccountToken: 'x', skipTLSVerify: true });
  const { server } = await startTestBackend({
    features: [import('@loki-microservices/plugin-loki-stack-backend'), mockServices.rootConfig.factory({ data: { ...config, lokiStack: { statusCacheSeconds: ttlSeconds } } })],
  });
  const get = (path: string) => request(server).get(`/api/loki-stack${path}`);
  const untilCondition = async (path: string, type: string): Promise<Json> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const response = await get(path);
      if (response.status === 200 && response.body.condition?.type === type) return response.body as Json;
      if (Date.now() > deadline) throw new Error(`${path} did not become ${type}: ${JSON.stringify(response.body.condition ?? response.body)}`);
      await new Promise((resolve) => setTimeout(resolve, ttlSeconds * 1000));
    }
  };

  const { cluster } = fixture.running.server;
  const apply = (namespace: string, spec: Json = {}) =>
    applyStack(fixture.connection, parseSpec({ metadata: { namespace }, spec: { components: { querier: { replicas: 2 } }, ...spec } }), { retry: FAST_RETRY });
  cluster.fail({ namespace: 'b-failed', workload: 'loki-ingester', image: 'grafana/loki' }, 'crashLoop');
  for (const namespace of ['b-ready', 'b-failed', 'b-degraded']) await apply(namespace);
  await untilCondition('/stacks/dev/b-degraded/loki', 'Ready');
  cluster.fail({ namespace: 'b-degraded', workload: 'loki-distributor' }, 'imagePull');
  await apply('b-degraded', { limits: { maxQuerySeries: 1000 } });
  return { fixture, server, get, untilCondition, close: () => fixture.close() };
}
