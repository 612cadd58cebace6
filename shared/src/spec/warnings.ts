// What a valid spec may still get wrong without breaking the stack: reported, never refused. The CLI prints
// them on standard error as `warning: <field>: <message>` before doing what it was asked.
import type { SpecIssue } from '../errors.js';
import type { LokiStack } from './schema.js';

export function specWarnings(stack: LokiStack): SpecIssue[] {
  const { gateway, overrides } = stack.spec;
  if (!gateway.enabled || gateway.tenants.length === 0) return [];
  return Object.keys(overrides)
    .filter((tenant) => !gateway.tenants.includes(tenant))
    .map((tenant) => ({
      path: `spec.overrides.${tenant}`,
      message: `"${tenant}" is not in spec.gateway.tenants: no gateway user writes or reads as this tenant, so its overrides apply only to clients that bypass the gateway; add it to spec.gateway.tenants, or check the spelling`,
    }));
}
