// A Secret's values as text; each becomes a value the redaction layer hides from then on.
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { registerSecret } from '../../redact.js';

export type SecretValues = Record<string, string>;

export function secretValues(secret: KubernetesObject | undefined): SecretValues {
  const data = (secret as V1Secret | undefined)?.data ?? {};
  const values = Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
  for (const value of Object.values(values)) registerSecret(value);
  return values;
}
