// The gateway exposed outside the cluster (spec.gateway.expose): an Ingress and/or a Gateway API HTTPRoute whose
// only backend is the gateway Service, so that every outside request meets the gateway's basic auth.
import type { KubernetesObject, V1Ingress } from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import { GATEWAY, metadata, objectName } from '../common.js';
import { GATEWAY_PORT } from '../gateway-config.js';

/** On the gateway Deployment: the external base URL, for status (which reads only workloads). */
export const EXTERNAL_URL_ANNOTATION = 'loki-microservices/external-url';

const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

type Expose = NonNullable<LokiStack['spec']['gateway']['expose']>;
type ExposeIngress = NonNullable<Expose['ingress']>;

/** The HTTPRoute shape of Gateway API v1 that we render (client-node has no model for it). */
interface HTTPRoute extends KubernetesObject {
  spec: {
    parentRefs: NonNullable<Expose['httpRoute']>['parentRefs'];
    hostnames?: string[];
    rules: {
      matches: { path: { type: 'PathPrefix'; value: string } }[];
      backendRefs: { group: ''; kind: 'Service'; name: string; port: number }[];
    }[];
  };
}

/** The gateway Service's name, which the Ingress and the HTTPRoute share. */
const exposedName = (stack: LokiStack) => objectName(stack, GATEWAY);

export function exposeObjects(stack: LokiStack): KubernetesObject[] {
  const { enabled, expose } = stack.spec.gateway;
  if (!enabled || !expose) return [];
  return [
    ...(expose.ingress ? [ingress(stack, expose.ingress)] : []),
    ...(expose.httpRoute ? [httpRoute(stack, expose.httpRoute)] : []),
  ];
}

/** The Secret holding the Ingress certificate: the one named, or by default where cert-manager writes it. */
const ingressTlsSecretName = (stack: LokiStack, tls: NonNullable<ExposeIngress['tls']>) =>
  tls.secretName ?? `${exposedName(stack)}-external-tls`;

function ingress(stack: LokiStack, spec: ExposeIngress): V1Ingress {
  const base = metadata(stack, exposedName(stack), GATEWAY);
  const issuer = spec.tls?.issuerRef;
  // cert-manager's ingress-shim: https://cert-manager.io/docs/usage/ingress/
  const issuerAnnotation = issuer
    ? { [issuer.kind === 'ClusterIssuer' ? 'cert-manager.io/cluster-issuer' : 'cert-manager.io/issuer']: issuer.name }
    : {};
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...base, annotations: { ...spec.annotations, ...issuerAnnotation, ...base.annotations } },
    spec: {
      ...(spec.className ? { ingressClassName: spec.className } : {}),
      ...(spec.tls ? { tls: [{ hosts: [spec.host], secretName: ingressTlsSecretName(stack, spec.tls) }] } : {}),
      rules: [
        {
          host: spec.host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: exposedName(stack), port: { name: GATEWAY_PORT.name } } },
              },
            ],
          },
        },
      ],
    },
  };
}

function httpRoute(stack: LokiStack, spec: NonNullable<Expose['httpRoute']>): HTTPRoute {
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    metadata: metadata(stack, exposedName(stack), GATEWAY),
    spec: {
      parentRefs: spec.parentRefs,
      ...(spec.hostnames.length > 0 ? { hostnames: spec.hostnames } : {}),
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          // A Service backend needs its port number (Gateway API has no named service ports).
          backendRefs: [{ group: '', kind: 'Service', name: exposedName(stack), port: GATEWAY_PORT.servicePort }],
        },
      ],
    },
  };
}

/**
 * Where outside clients reach the gateway: the Ingress host (https with tls, else http), else the first
 * hostname of the HTTPRoute without a wildcard (https: TLS terminates on the Gateway). None for a wildcard.
 */
export function externalBaseUrl(stack: LokiStack): string | undefined {
  const { enabled, expose } = stack.spec.gateway;
  if (!enabled || !expose) return undefined;
  if (expose.ingress)
    return expose.ingress.host.startsWith('*.')
      ? undefined
      : `${expose.ingress.tls ? 'https' : 'http'}://${expose.ingress.host}`;
  const host = expose.httpRoute?.hostnames.find((name) => !name.startsWith('*.'));
  return host ? `https://${host}` : undefined;
}
