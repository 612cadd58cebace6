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

/** A rule file as the ruler names it (`file`), with its tenant, its source and the names of its groups. */
export interface DeclaredRuleFile {
  tenant: string;
  file: string;
  source: string;
  groups: string[];
}

/** The rule groups the ruler should report: what the ruler's annotation lists, or the spec before it is applied. */
export const declaredRules = (stack: LokiStack): DeclaredRuleFile[] =>
  tenantRules(stack).flatMap(({ tenant, files }) =>
    files.map(({ name, source }) => ({
      tenant,
      file: name,
      source: source.source,
      groups: source.groups.map((group) => group.name),
    })),
  );

/** The declared rules as the ruler's annotation holds them: compact JSON. */
export const rulesAnnotationOf = (declared: DeclaredRuleFile[]) => JSON.stringify(declared);

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/**
 * The declared rules an annotation lists; none when there is no annotation. An annotation that is not this
 * list (edited by hand, written by another version) is `invalid`, naming it, not "no rules declared".
 */
export function declaredRulesOfAnnotation(
  text: string | undefined,
  annotation: string,
): DeclaredRuleFile[] | { invalid: string } {
  if (text === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const valid =
    Array.isArray(value) &&
    value.every(
      (entry: Partial<Record<keyof DeclaredRuleFile, unknown>>) =>
        typeof entry?.tenant === 'string' &&
        typeof entry.file === 'string' &&
        typeof entry.source === 'string' &&
        isStringArray(entry.groups),
    );
  if (!valid) return { invalid: `the ruler's ${annotation} annotation is not a list of rule files and their groups` };
  return value as DeclaredRuleFile[];
}
