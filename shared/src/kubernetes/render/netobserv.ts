// Network Observability (NetObserv) stores its flows in Loki: the `spec.loki` section of its FlowCollector
// (flows.netobserv.io/v1beta2) pointing at this stack, in the operator's Microservices mode.
import { stringify } from 'yaml';
import { objectName, PORTS, serviceHost } from './common.js';
import type { LokiStack } from '../../spec/schema.js';

/** NetObserv's own default tenant; with multi-tenancy on, the stack's tenant is used instead. */
const NETOBSERV_TENANT = 'netobserv';

/** The FlowCollector `loki` section as YAML, ready to paste under `spec:`. */
export function flowCollectorLoki(stack: LokiStack): string {
  const url = (component: 'distributor' | 'queryFrontend') =>
    `http://${serviceHost(stack, objectName(stack, component))}:${PORTS.http.port}/`;
  const loki = {
    enable: true,
    mode: 'Microservices',
    microservices: {
      ingesterUrl: url('distributor'),
      querierUrl: url('queryFrontend'),
      // Loki ignores X-Scope-OrgID when multi-tenancy is off, and then any tenant reads and writes the same data.
      tenantID: stack.spec.auth.enabled ? stack.spec.auth.tenant : NETOBSERV_TENANT,
      tls: { enable: false },
    },
  };
  return stringify({ loki });
}
