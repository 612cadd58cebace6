// Secrets the objects reference that `render` cannot write, because their values are random or derived
// from other secrets at apply time: `apply` makes them, and GitOps users are told how to provide them.
import type { LokiStack } from '../../spec/schema.js';
import { GATEWAY, OBJECT_STORE, objectLabels, objectName } from './common.js';
import { gatewayPasswordsSecretName, gatewayTenants, htpasswdSecretName } from './components/gateway.js';
import { HTPASSWD_KEYS } from './gateway-config.js';
import { SECRET_KEYS } from '../../stack/object-store.js';
import { caSecretName, certificateRequests, TLS_KEYS } from './tls.js';

/** A Secret of random values: `apply` creates it once and adds a key when one is missing, never changing a value. */
export interface GeneratedSecret {
  name: string;
  namespace: string;
  keys: string[];
  labels: Record<string, string>;
  /** The spec field that names a Secret of the user's instead. */
  instead: string;
}

/** The bundled store's root credentials, when `apply` is to generate them. */
function bundledStoreSecret(stack: LokiStack): GeneratedSecret[] {
  const bundled = stack.spec.storage.bundled;
  if (stack.spec.storage.type !== 'bundled' || !bundled || bundled.secretName) return [];
  return [
    {
      name: objectName(stack, OBJECT_STORE),
      namespace: stack.metadata.namespace,
      keys: [SECRET_KEYS.s3AccessKeyId, SECRET_KEYS.s3SecretAccessKey],
      labels: objectLabels(stack, OBJECT_STORE),
      instead: 'spec.storage.bundled.secretName',
    },
  ];
}

/** A Secret computed from others (password hashes, certificates): by `apply` at every apply, or by cert-manager. */
export interface DerivedSecret {
  name: string;
  keys: string[];
  madeBy: 'apply' | 'cert-manager';
  /** What it is made from, and how to make it without `apply`. */
  description: string;
}

export function generatedSecrets(stack: LokiStack): GeneratedSecret[] {
  const { gateway } = stack.spec;
  const passwords: GeneratedSecret[] =
    gateway.enabled && !gateway.passwordsSecret
      ? [
          {
            name: gatewayPasswordsSecretName(stack),
            namespace: stack.metadata.namespace,
            keys: [...gatewayTenants(stack), gateway.adminUser],
            labels: objectLabels(stack, GATEWAY),
            instead: 'spec.gateway.passwordsSecret',
          },
        ]
      : [];
  return [...bundledStoreSecret(stack), ...passwords];
}

/** Derived Secrets; with TLS by cert-manager, the Secrets cert-manager issues (apply keeps them, destroy deletes them). */
export function derivedSecrets(stack: LokiStack): DerivedSecret[] {
  const htpasswd: DerivedSecret[] = stack.spec.gateway.enabled
    ? [
        {
          name: htpasswdSecretName(stack),
          keys: [HTPASSWD_KEYS.tenants, HTPASSWD_KEYS.admin],
          madeBy: 'apply',
          description: `bcrypt htpasswd files of the gateway users (htpasswd -nbB <user> <password>: the tenants in ${HTPASSWD_KEYS.tenants}, ${stack.spec.gateway.adminUser} in ${HTPASSWD_KEYS.admin}) from ${gatewayPasswordsSecretName(stack)}`,
        },
      ]
    : [];
  return [...htpasswd, ...tlsSecrets(stack)];
}

function tlsSecrets(stack: LokiStack): DerivedSecret[] {
  const { tls } = stack.spec;
  if (!tls.enabled) return [];
  const keys = [TLS_KEYS.cert, TLS_KEYS.key, TLS_KEYS.ca];
  const madeBy = tls.provider === 'cert-manager' ? 'cert-manager' : 'apply';
  const leaf =
    "a certificate and key signed by the stack CA for the DNS names of the component's Services (or set spec.tls.provider: cert-manager)";
  return [
    ...(madeBy === 'cert-manager' && tls.issuerRef
      ? []
      : [{ name: caSecretName(stack), keys, madeBy, description: "the stack's CA certificate and key" } as const]),
    ...certificateRequests(stack).map(
      (request) => ({ name: request.secretName, keys, madeBy, description: leaf }) as const,
    ),
  ];
}
