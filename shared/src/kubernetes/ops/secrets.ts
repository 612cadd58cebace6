// The Secrets `apply` makes rather than renders: generated ones (random values, created once, a key added
// when one is missing, a value never changed) and derived ones, computed at every apply from other Secrets
// (the gateway's htpasswd files from its users' passwords; certificates, certificates.ts). Values are read and
// written here only; they never reach a log, an output or an error message.
import { randomInt } from 'node:crypto';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { GATEWAY, metadata } from '../render/common.js';
import { gatewayPasswordsSecretName, gatewayTenants, htpasswdSecretName } from '../render/components/gateway.js';
import { HTPASSWD_KEYS } from '../render/gateway-config.js';
import type { GeneratedSecret } from '../render/generated-secrets.js';
import type { PodAnnotations } from '../render/index.js';
import type { LokiStack } from '../../spec/schema.js';
import { tlsAnnotationsOf, tlsSecrets } from './certificates.js';
import type { Connection } from './connection.js';
import { htpasswdFile, parseHtpasswd } from './htpasswd.js';
import { secretValues, type SecretValues } from './secret-values.js';
import { withRetry, type RetryPolicy } from './retry.js';

/** A generated Secret with all its values: those it has, and new random ones for its missing keys. */
export interface ResolvedSecret {
  secret: GeneratedSecret;
  values: SecretValues;
  /** Keys that get a new value now (all of them for a Secret that does not exist yet). */
  added: string[];
  /** The Secret as it is in the cluster (undefined: it does not exist yet). */
  current: KubernetesObject | undefined;
}

export function resolveGeneratedSecret(secret: GeneratedSecret, current: KubernetesObject | undefined): ResolvedSecret {
  const values = secretValues(current);
  const added = secret.keys.filter((key) => values[key] === undefined);
  for (const key of added)
    values[key] = randomCredential(key.includes('SECRET') ? 40 : key.includes('ACCESS_KEY') ? 20 : 32);
  return { secret, values, added, current };
}

/**
 * The passwords of the gateway's users: from the Secret `apply` generates (resolved already), or from the
 * user's own `spec.gateway.passwordsSecret`, which must hold every user.
 */
export async function gatewayPasswords(
  connection: Connection,
  stack: LokiStack,
  generated: ResolvedSecret[],
  retry: RetryPolicy,
): Promise<SecretValues> {
  const name = gatewayPasswordsSecretName(stack);
  const own = generated.find((resolved) => resolved.secret.name === name);
  const users = [...gatewayTenants(stack), stack.spec.gateway.adminUser];
  const values = own ? own.values : await readUserSecret(connection, stack, name, retry);
  const missing = users.filter((user) => values[user] === undefined || values[user] === '');
  if (missing.length > 0) {
    throw new ClusterError(
      `Secret ${stack.metadata.namespace}/${name} (spec.gateway.passwordsSecret) has no password for ${missing.map((user) => `"${user}"`).join(', ')}: add a key per gateway user (every tenant and the admin user)`,
      422,
      'Invalid',
    );
  }
  return values;
}

async function readUserSecret(
  connection: Connection,
  stack: LokiStack,
  name: string,
  retry: RetryPolicy,
): Promise<SecretValues> {
  const namespace = stack.metadata.namespace;
  try {
    return secretValues(
      await withRetry(
        `reading Secret ${namespace}/${name}`,
        () => connection.core.readNamespacedSecret({ name, namespace }),
        retry,
      ),
    );
  } catch (error) {
    if (error instanceof ClusterError && error.code === 404) {
      throw new ClusterError(
        `Secret ${namespace}/${name} (spec.gateway.passwordsSecret) does not exist: create it with a password per gateway user, or remove spec.gateway.passwordsSecret to have apply generate them`,
        404,
        'NotFound',
      );
    }
    throw error;
  }
}

/** The gateway's htpasswd Secret for these passwords, keeping the lines of the `previous` files that still verify. */
export function htpasswdSecret(stack: LokiStack, passwords: SecretValues, previous: SecretValues = {}): V1Secret {
  const file = (users: string[], key: string) => htpasswdFile(users, passwords, parseHtpasswd(previous[key] ?? ''));
  const files = {
    [HTPASSWD_KEYS.tenants]: file(gatewayTenants(stack), HTPASSWD_KEYS.tenants),
    [HTPASSWD_KEYS.admin]: file([stack.spec.gateway.adminUser], HTPASSWD_KEYS.admin),
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(stack, htpasswdSecretName(stack), GATEWAY),
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(files).map(([key, text]) => [key, Buffer.from(text).toString('base64')])),
  };
}

/** Secrets computed from others at every apply (the gateway's htpasswd files, generated certificates), and the pod annotations they call for. */
export async function derivedSecrets(
  connection: Connection,
  stack: LokiStack,
  current: (name: string) => SecretValues | undefined,
  generated: ResolvedSecret[],
  retry: RetryPolicy,
  now = new Date(),
): Promise<{ objects: V1Secret[]; podAnnotations: PodAnnotations }> {
  const objects: V1Secret[] = [];
  let podAnnotations: PodAnnotations = {};
  if (stack.spec.gateway.enabled) {
    const passwords = await gatewayPasswords(connection, stack, generated, retry);
    objects.push(htpasswdSecret(stack, passwords, current(htpasswdSecretName(stack))));
  }
  if (stack.spec.tls.enabled && stack.spec.tls.provider === 'generated') {
    const tls = await tlsSecrets(stack, current, now);
    objects.push(...tls.secrets);
    podAnnotations = tls.podAnnotations;
  } else if (stack.spec.tls.enabled) {
    podAnnotations = tlsAnnotationsOf(stack, current);
  }
  return { objects, podAnnotations };
}

const CREDENTIAL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomCredential(length: number): string {
  const credential = Array.from({ length }, () => CREDENTIAL_ALPHABET[randomInt(CREDENTIAL_ALPHABET.length)]).join('');
  registerSecret(credential);
  return credential;
}
