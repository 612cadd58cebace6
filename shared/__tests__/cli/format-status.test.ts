import { endpointsOf } from '../../src/kubernetes/ops/stack-status.js';
import type { StackStatus } from '../../src/stack/status-model.js';
import { formatEndpoints } from '../../src/cli/format-status.js';

const statusWith = (gateway: boolean) =>
  ({
    endpoints: endpointsOf({ name: 'logs', namespace: 'obs', clusterDomain: 'cluster.local', gateway }),
  }) as StackStatus;

test('the endpoints say when they ask for basic auth (the gateway), and not otherwise', () => {
  expect(formatEndpoints(statusWith(false))).toEqual([
    'push URL:  http://logs-distributor.obs.svc.cluster.local:3100/loki/api/v1/push',
    'query URL: http://logs-query-frontend.obs.svc.cluster.local:3100',
  ]);
  expect(formatEndpoints(statusWith(true))).toEqual([
    "push URL:  http://logs-gateway.obs.svc.cluster.local/loki/api/v1/push (basic auth: a tenant's user and password)",
    "query URL: http://logs-gateway.obs.svc.cluster.local (basic auth: a tenant's user and password)",
  ]);
});
