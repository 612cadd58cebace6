// spec.tls on Kubernetes: the certificate each component presents (its Secret, and the DNS names it must
// carry: its Services, its pods' names, and memberlist's for ring members), the names Loki's clients verify,
// the volume that mounts it, and, with provider cert-manager, the Issuers and Certificates that make them.
// With provider generated, `apply` issues them (kubernetes/ops/certificates.ts) from the same requests.
import type { KubernetesObject, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName } from '../../spec/components.js';
import { parseDurationMs } from '../../spec/quantity.js';
import type { LokiStack } from '../../spec/schema.js';
import { deployedComponents } from '../../stack/components.js';
import type { GrpcTlsFiles, TlsPeer } from '../../stack/loki-config.js';
import { headlessNames, memberlistName, metadata, objectName, serviceHost } from './common.js';

export const TLS_DIR = '/etc/loki/tls';
export const TLS_KEYS = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

/** A certificate falls due for renewal past this fraction of its life (apply and cert-manager alike). */
export const RENEW_AT_FRACTION = 0.8;

/** Pod-template annotation carrying the hash of the mounted certificate: a renewed certificate rolls the pods. */
export const TLS_HASH_ANNOTATION = 'loki-microservices/tls-hash';

export interface CertificateRequest {
  component: ComponentName;
  secretName: string;
  commonName: string;
  dnsNames: string[];
}

export const tlsSecretName = (stack: LokiStack, component: ComponentName) => `${objectName(stack, component)}-tls`;
export const caSecretName = (stack: LokiStack) => `${stack.metadata.name}-tls-ca`;

/** Every name a Service is reached by, from the bare name to the fully qualified one. */
function serviceNames(stack: LokiStack, service: string): string[] {
  const { namespace } = stack.metadata;
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, serviceHost(stack, service)];
}

export function certificateRequests(stack: LokiStack): CertificateRequest[] {
  return deployedComponents(stack).map((component) => {
    const traits = COMPONENTS[component];
    const service = objectName(stack, component);
    const dnsNames = [
      ...serviceNames(stack, service),
      ...(traits.headless ? headlessNames(stack, component).flatMap((name) => serviceNames(stack, name)) : []),
      // A StatefulSet's pods have DNS names under its governing Service.
      ...(traits.kind === 'StatefulSet'
        ? headlessNames(stack, component).map((name) => `*.${serviceHost(stack, name)}`)
        : []),
      ...(traits.ringMember ? [serviceHost(stack, memberlistName(stack))] : []),
    ];
    return {
      component,
      secretName: tlsSecretName(stack, component),
      commonName: serviceHost(stack, service),
      dnsNames,
    };
  });
}

/** The certificate files in every Loki pod, and the name each client verifies in its peer's certificate. */
export function tlsFiles(stack: LokiStack): GrpcTlsFiles | undefined {
  if (!stack.spec.tls.enabled) return undefined;
  const fqdn = (component: ComponentName) => serviceHost(stack, objectName(stack, component));
  const serverNames: Record<TlsPeer, string> = {
    ingester: fqdn('ingester'),
    queryFrontend: fqdn('queryFrontend'),
    queryScheduler: fqdn('queryScheduler'),
    indexGateway: fqdn('indexGateway'),
    compactor: fqdn('compactor'),
    ruler: fqdn('ruler'),
    patternIngester: fqdn('patternIngester'),
    memberlist: serviceHost(stack, memberlistName(stack)),
  };
  return {
    certFile: `${TLS_DIR}/${TLS_KEYS.cert}`,
    keyFile: `${TLS_DIR}/${TLS_KEYS.key}`,
    caFile: `${TLS_DIR}/${TLS_KEYS.ca}`,
    serverNames,
  };
}

/** The component's certificate Secret, mounted where tlsFiles says; nothing when TLS is off. */
export function tlsVolume(
  stack: LokiStack,
  component: ComponentName,
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (!stack.spec.tls.enabled) return { volumes: [], mounts: [] };
  return {
    // Readable by Loki's group (fsGroup) only.
    volumes: [{ name: 'tls', secret: { secretName: tlsSecretName(stack, component), defaultMode: 0o440 } }],
    mounts: [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }],
  };
}

/** Go's duration format, which cert-manager writes back (`2160h0m0s`). */
function goDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m${seconds % 60}s`;
}

/** With provider cert-manager: the issuers (unless the spec names one) and a Certificate per component. */
export function certManagerObjects(stack: LokiStack): KubernetesObject[] {
  const { tls } = stack.spec;
  if (!tls.enabled || tls.provider !== 'cert-manager') return [];
  const name = stack.metadata.name;
  const object = (kind: string, objectName: string, spec: Record<string, unknown>): KubernetesObject =>
    ({
      apiVersion: 'cert-manager.io/v1',
      kind,
      metadata: metadata(stack, objectName),
      spec,
    }) as KubernetesObject;
  const ownIssuer = !tls.issuerRef;
  const issuerRef = tls.issuerRef
    ? { name: tls.issuerRef.name, kind: tls.issuerRef.kind, group: 'cert-manager.io' }
    : { name: `${name}-tls-ca`, kind: 'Issuer', group: 'cert-manager.io' };
  const validityMs = parseDurationMs(tls.validity);
  const ecdsa = { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' };
  return [
    ...(ownIssuer
      ? [
          object('Issuer', `${name}-tls-selfsigned`, { selfSigned: {} }),
          object('Certificate', caSecretName(stack), {
            isCA: true,
            commonName: `loki-microservices CA ${stack.metadata.namespace}/${name}`,
            secretName: caSecretName(stack),
            duration: goDuration(10 * validityMs),
            renewBefore: goDuration(10 * validityMs * (1 - RENEW_AT_FRACTION)),
            privateKey: ecdsa,
            issuerRef: { name: `${name}-tls-selfsigned`, kind: 'Issuer', group: 'cert-manager.io' },
            secretTemplate: secretTemplate(metadata(stack, caSecretName(stack))),
          }),
          object('Issuer', `${name}-tls-ca`, { ca: { secretName: caSecretName(stack) } }),
        ]
      : []),
    ...certificateRequests(stack).map((request) =>
      object('Certificate', request.secretName, {
        secretName: request.secretName,
        commonName: request.commonName,
        dnsNames: request.dnsNames,
        duration: goDuration(validityMs),
        renewBefore: goDuration(validityMs * (1 - RENEW_AT_FRACTION)),
        usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
        privateKey: ecdsa,
        issuerRef,
        secretTemplate: secretTemplate(metadata(stack, request.secretName, COMPONENTS[request.component].target)),
      }),
    ),
  ];
}

/** What cert-manager copies onto the Secrets it makes: our labels and mark, so that destroy removes them. */
const secretTemplate = ({
  labels,
  annotations,
}: {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}) => ({ labels, annotations });
