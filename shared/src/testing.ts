/**
 * What a test needs to look inside a stack this package rendered or applied: the names, labels and
 * annotations it gives objects, the Loki, gateway and TLS configuration it derives, and the tenant the smoke
 * test writes as. Node only. Not needed to deploy: that is the main entry.
 * @packageDocumentation
 */
export {
  configMapName,
  CREATED_FOR_ANNOTATION,
  objectName,
  runtimeConfigMapName,
  stackSelector,
} from './kubernetes/render/common.js';
export { lokiConfig, lokiConfigYaml } from './kubernetes/render/loki-config.js';
export { runtimeConfig, runtimeConfigText } from './stack/runtime-config.js';
export { LOKI_KEYS_LACKING, LOKI_OPEN_PATHS } from './stack/loki-keys.js';
export { nomadLokiConfig } from './nomad/render/loki-config.js';
export {
  gatewayRoutes,
  gatewayUpstreams,
  HTPASSWD_KEYS,
  nginxConfig,
  type GatewayRoute,
  type NginxSite,
} from './kubernetes/render/gateway-config.js';
export { gatewayTenants } from './kubernetes/render/components/gateway.js';
export { htpasswdFile, parseHtpasswd } from './kubernetes/ops/htpasswd.js';
export { caSecretName, certificateRequests, TLS_HASH_ANNOTATION, tlsSecretName } from './kubernetes/render/tls.js';
export { tlsSecrets } from './kubernetes/ops/certificates.js';
export { nomadStatusOf } from './nomad/ops/status.js';
export { stackStatusOf } from './kubernetes/ops/stack-status.js';
export { formatEndpoints } from './cli/format-status.js';
export { smokeTenant } from './kubernetes/ops/smoke.js';
export { parseQuantity } from './spec/quantity.js';
export {
  discoveryNamespaces,
  DISCOVERY_SIDECAR_IMAGE,
  STACK_NAMESPACE_LABEL,
} from './kubernetes/render/rules-discovery.js';
