// What a valid spec may still get wrong without breaking the stack: reported, never refused. The CLI prints
// them on standard error as `warning: <field>: <message>` before doing what it was asked.
import type { SpecIssue } from '../errors.js';
import type { LokiStack } from './schema.js';

export function specWarnings(stack: LokiStack): SpecIssue[] {
  return [...overridesWarnings(stack), ...exposeWarnings(stack)];
}

function overridesWarnings(stack: LokiStack): SpecIssue[] {
  const { gateway, overrides } = stack.spec;
  if (!gateway.enabled || gateway.tenants.length === 0) return [];
  return Object.keys(overrides)
    .filter((tenant) => !gateway.tenants.includes(tenant))
    .map((tenant) => ({
      path: `spec.overrides.${tenant}`,
      message: `"${tenant}" is not in spec.gateway.tenants: no gateway user writes or reads as this tenant, so its overrides apply only to clients that bypass the gateway; add it to spec.gateway.tenants, or check the spelling`,
    }));
}

/** Basic auth over plain HTTP outside the cluster gives every password to whoever sees the traffic. */
function exposeWarnings(stack: LokiStack): SpecIssue[] {
  const ingress = stack.spec.gateway.expose?.ingress;
  if (!ingress || ingress.tls) return [];
  return [
    {
      path: 'spec.gateway.expose.ingress.tls',
      message:
        "not set: the Ingress serves plain HTTP, so tenants' passwords cross the network readable; set tls.secretName or tls.issuerRef, unless TLS ends in front of the ingress controller",
    },
  ];
}
