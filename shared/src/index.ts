/**
 * loki-microservices core: the stack spec, the Kubernetes renderer, and the cluster operations.
 * Node only; browsers import `loki-microservices/types`.
 * @packageDocumentation
 */
export * from './errors.js';
export { assertStackRef, isClusterName, isNamespaceName, isStackName, stackRefProblems } from './names.js';
export { describeError, redact, REDACTED, registerSecret } from './redact.js';
export * from './spec/components.js';
export { applyOverrides } from './spec/overrides.js';
export { kebabCase, parseSpecWithInputs, replicaFields, STACK_INPUTS, stackInputFields, storageInputFields, withInputs, type InputField, type StackInputName, type StorageInputs } from './spec/inputs.js';
export { formatStackAnnotation, parseStackAnnotation, STACK_ANNOTATION, type StackLocation } from './annotation.js';
export { parseSpec, readSpecDocument } from './spec/parse.js';
export { PROFILE_PRESETS, type ProfilePreset } from './spec/profiles.js';
export * from './spec/schema.js';
export { isDuration, parseDurationMs, parseQuantity, parseTimeoutMs, TIMEOUT_EXAMPLES } from './spec/quantity.js';
export { APPLY_ORDER, renderKubernetes, toYaml, type RenderedStack, type RenderOptions } from './render/kubernetes/index.js';
export { CREDENTIAL_KEYS, credentialsSecretNameOf, namingCredentialsSecret, withStorageCredentials, type StorageCredentials } from './render/kubernetes/credentials.js';
export { directoryWithin, generatedSecretsNote, writeFileWithin, writeManifests } from './render/manifests.js';
export { flowCollectorLoki } from './integrations/netobserv.js';
export { lokiConfig, lokiConfigYaml } from './render/kubernetes/loki-config.js';
export { SCHEMA_FROM, type GrpcTlsFiles, type LokiWiring } from './render/loki-config.js';
export { CONFIG_HASH_ANNOTATION } from './render/kubernetes/workload.js';
export { CLUSTER_DOMAIN_ANNOTATION, CREATED_FOR_ANNOTATION, MANAGER, objectName, stackSelector } from './render/kubernetes/common.js';
export { gatewayRoutes, gatewayUpstreams, GATEWAY_PORT, HTPASSWD_KEYS, nginxConfig, podSite, type GatewayRoute, type NginxSite } from './render/kubernetes/gateway-config.js';
export { gatewayPasswordsSecretName, gatewaySmokeUser, gatewayTenants, htpasswdSecretName } from './render/kubernetes/components/gateway.js';
export { BCRYPT_COST, htpasswdFile, parseHtpasswd } from './cluster/htpasswd.js';
export { caSecretName, certificateRequests, RENEW_AT_FRACTION, TLS_HASH_ANNOTATION, tlsSecretName, type CertificateRequest } from './render/kubernetes/tls.js';
export { tlsSecrets, type IssuedTls } from './cluster/certificates.js';
export type { DerivedSecret, GeneratedSecret } from './render/kubernetes/generated-secrets.js';
export * from './cluster/index.js';
export { kubeconfigSecrets } from './cluster/connection.js';
export { VERSION } from './version.js';
export { renderNomad, type RenderedNomadJob } from './render/nomad/index.js';
export { nomadLokiConfig } from './render/nomad/loki-config.js';
export * from './nomad/index.js';
