// The declared rules as the ruler reads them, for any platform: Loki's local rule storage expects
// `<directory>/<tenant>/<file>`, each file a Prometheus rule file. One file per source (a spec file's rule
// file or spec.rules.inline.<tenant>), named so that a problem Loki reports leads back to the source.
import { stringify } from 'yaml';
import { SpecError } from '../errors.js';
import { ruleSources, type LokiStack } from '../spec/schema.js';
import type { RuleSource } from '../spec/rules.js';

/** The rule files of one tenant, by file name, with the source each came from. */
export interface TenantRules {
  tenant: string;
  files: { name: string; source: RuleSource; text: string }[];
}

/** Whether the stack declares rules: then the ruler reads them from its local directory, not the object store. */
export const declaresRules = (stack: LokiStack) => ruleSources(stack.spec).length > 0;

/** Whether the ruler reads its rules from its local directory: declared, or collected there by discovery. */
export const readsLocalRules = (stack: LokiStack) => declaresRules(stack) || stack.spec.rules.discovery.enabled;

/**
 * The rule files by tenant (tenants sorted). A file is named after its source: `inline.yaml`, or the path of
 * the spec's rule file with `/` as `__` (a ConfigMap key and a Nomad file name both take these characters).
 */
export function tenantRules(stack: LokiStack): TenantRules[] {
  const byTenant = new Map<string, TenantRules>();
  for (const source of ruleSources(stack.spec)) {
    let entry = byTenant.get(source.tenant);
    if (!entry) byTenant.set(source.tenant, (entry = { tenant: source.tenant, files: [] }));
    const name = ruleFileName(source);
    const clash = entry.files.find((file) => file.name === name);
    if (clash)
      throw new SpecError([
        {
          path: 'spec.rules.files',
          message: `${source.source} and ${clash.source.source} would both be the rule file "${name}" of tenant "${source.tenant}": rename one`,
        },
      ]);
    entry.files.push({ name, source, text: stringify({ groups: source.groups }, { lineWidth: 0 }) });
  }
  return [...byTenant.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
}

function ruleFileName(source: RuleSource): string {
  if (source.source.startsWith('spec.rules.inline.')) return 'inline.yaml';
  return source.source.replaceAll('/', '__').replace(/[^-._a-zA-Z0-9]/g, '_');
}

/** The source of a tenant's rule file, by the name the ruler's API gives it (`file`: the rule namespace, its name). */
export function ruleFileSource(stack: LokiStack, tenant: string, name: string): string | undefined {
  return tenantRules(stack)
    .find((entry) => entry.tenant === tenant)
    ?.files.find((candidate) => candidate.name === name)?.source.source;
}
