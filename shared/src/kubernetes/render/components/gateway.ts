// The gateway (spec.gateway): unprivileged nginx in front of Loki's HTTP APIs, with basic auth per tenant
// (gateway-config.ts says what goes where). Its user files come from the htpasswd Secret that `apply` derives
// from the users' passwords; nginx reads them at every request, so new passwords need no rollout.
import { autoscalingOf, isAutoscaled } from '../autoscaling.js';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
} from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import {
  checksum,
  GATEWAY,
  hardenedContainer,
  imagePullSecrets,
  metadata,
  objectLabels,
  objectName,
  placement,
  podSecurityContext,
  resourceRequirements,
  selectorLabels,
  tmpVolume,
} from '../common.js';
import { GATEWAY_PATHS, GATEWAY_PORT, nginxConfig } from '../gateway-config.js';
import { EXTERNAL_URL_ANNOTATION, exposeObjects, externalBaseUrl } from './gateway-expose.js';

/** nginx-unprivileged runs as the `nginx` user, uid and gid 101. */
const NGINX_ID = 101;

export const GATEWAY_CONFIG_HASH_ANNOTATION = 'loki-microservices/gateway-config-hash';

export const gatewayName = (stack: LokiStack) => objectName(stack, GATEWAY);
export const htpasswdSecretName = (stack: LokiStack) => `${gatewayName(stack)}-htpasswd`;
export const gatewayPasswordsSecretName = (stack: LokiStack) =>
  stack.spec.gateway.passwordsSecret ?? `${gatewayName(stack)}-passwords`;

/** The basic-auth users of the tenants (the admin user is apart). */
export function gatewayTenants(stack: LokiStack): string[] {
  const { tenants } = stack.spec.gateway;
  return tenants.length > 0 ? tenants : [stack.spec.auth.tenant];
}

/** The user our own tools (the smoke test) go through the gateway as. */
export function gatewaySmokeUser(stack: LokiStack): string {
  const tenants = gatewayTenants(stack);
  return tenants.includes(stack.spec.auth.tenant) ? stack.spec.auth.tenant : tenants[0]!;
}

export function gateway(stack: LokiStack): KubernetesObject[] {
  if (!stack.spec.gateway.enabled) return [];
  return [
    configMap(stack),
    service(stack),
    deployment(stack),
    ...((autoscalingOf(stack, GATEWAY)?.min ?? stack.spec.gateway.replicas) > 1 ? [podDisruptionBudget(stack)] : []),
    ...exposeObjects(stack),
  ];
}

function configMap(stack: LokiStack): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(stack, gatewayName(stack), GATEWAY),
    data: { 'nginx.conf': nginxConfig(stack) },
  };
}

function service(stack: LokiStack): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(stack, gatewayName(stack), GATEWAY),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(stack, GATEWAY),
      ports: [
        { name: GATEWAY_PORT.name, port: GATEWAY_PORT.servicePort, targetPort: GATEWAY_PORT.name, protocol: 'TCP' },
      ],
    },
  };
}

function deployment(stack: LokiStack): V1Deployment {
  const spec = stack.spec.gateway;
  const tmp = tmpVolume();
  const probe = { httpGet: { path: '/', port: GATEWAY_PORT.name }, periodSeconds: 10, timeoutSeconds: 1 };
  const nginx: V1Container = hardenedContainer(stack, {
    name: 'nginx',
    image: spec.image,
    // nginx itself, not the image's entrypoint: its start-up scripts would rewrite files on a read-only filesystem.
    command: ['nginx', '-g', 'daemon off;', '-e', 'stderr', '-c', GATEWAY_PATHS.configFile],
    ports: [{ name: GATEWAY_PORT.name, containerPort: GATEWAY_PORT.port, protocol: 'TCP' }],
    resources: resourceRequirements(spec.resources),
    readinessProbe: { ...probe, initialDelaySeconds: 2, failureThreshold: 3 },
    livenessProbe: { ...probe, initialDelaySeconds: 10, failureThreshold: 6 },
    volumeMounts: [
      { name: 'config', mountPath: GATEWAY_PATHS.configDir, readOnly: true },
      { name: 'htpasswd', mountPath: GATEWAY_PATHS.secretsDir, readOnly: true },
      tmp.mount,
    ],
  });
  const base = metadata(stack, gatewayName(stack), GATEWAY);
  const external = externalBaseUrl(stack);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: external ? { ...base, annotations: { ...base.annotations, [EXTERNAL_URL_ANNOTATION]: external } } : base,
    spec: {
      ...(isAutoscaled(stack, GATEWAY) ? {} : { replicas: spec.replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(stack, GATEWAY) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: objectLabels(stack, GATEWAY),
          annotations: { [GATEWAY_CONFIG_HASH_ANNOTATION]: checksum(nginxConfig(stack)) },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(NGINX_ID),
          ...imagePullSecrets(stack),
          ...placement(stack, GATEWAY),
          ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
          containers: [nginx],
          volumes: [
            { name: 'config', configMap: { name: gatewayName(stack) } },
            { name: 'htpasswd', secret: { secretName: htpasswdSecretName(stack) } },
            tmp.volume,
          ],
        },
      },
    },
  };
}

function podDisruptionBudget(stack: LokiStack): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(stack, gatewayName(stack), GATEWAY),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(stack, GATEWAY) } },
  };
}
