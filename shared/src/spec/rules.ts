// Loki ruler rule groups (Prometheus's rule file format, LogQL expressions) as declared in spec.rules: checked
// here before anything is rendered, each problem naming where the group came from (a file, or
// spec.rules.inline.<tenant>) and the group, as Loki's own loader would name them after a restart.
import { isDuration } from './quantity.js';

/** Without `auth_enabled`, Loki puts every request, rule evaluation included, in this tenant. */
export const SINGLE_TENANT = 'fake';

/**
 * consul-template's delimiters for the rule files on Nomad: rule files carry Prometheus templates
 * (`{{ $labels.pod }}`), which Nomad must hand over verbatim, so its template stanza uses these instead.
 */
export const NOMAD_RULE_DELIMITERS = { left: '[[=', right: '=]]' } as const;

/** One rule group as written in a rule file (Prometheus's `groups[]`). */
export interface RuleGroup {
  name: string;
  interval?: string;
  limit?: number;
  rules: Record<string, unknown>[];
}

/** Rule groups of one tenant from one place: a file (its path relative to the spec) or `spec.rules.inline.<tenant>`. */
export interface RuleSource {
  /** A file's path, or `spec.rules.inline.<tenant>`. */
  source: string;
  tenant: string;
  groups: RuleGroup[];
}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:]*$/;
const GROUP_KEYS = new Set(['name', 'interval', 'limit', 'rules']);
const RULE_KEYS = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every problem of the groups of one source, each message naming the group (and the rule). */
export function ruleGroupProblems(groups: unknown): string[] {
  if (!Array.isArray(groups)) return ['must be a list of rule groups (`groups: [{name, rules: [...]}]`)'];
  const problems: string[] = [];
  const names = new Set<string>();
  groups.forEach((group, index) => {
    if (!isObject(group)) {
      problems.push(`group ${index + 1}: must be a mapping with name and rules`);
      return;
    }
    const name = typeof group.name === 'string' && group.name !== '' ? group.name : undefined;
    const where = name ? `group "${name}"` : `group ${index + 1}`;
    const add = (message: string) => problems.push(`${where}: ${message}`);
    if (!name) add('needs a name');
    else if (names.has(name)) add('is declared twice for this tenant: group names must be unique per tenant');
    if (name) names.add(name);
    for (const key of Object.keys(group)) if (!GROUP_KEYS.has(key)) add(`unknown field "${key}"`);
    if (group.interval !== undefined && !isRuleDuration(group.interval))
      add(`interval must be a duration such as "1m", not ${JSON.stringify(group.interval)}`);
    if (group.limit !== undefined && !(Number.isInteger(group.limit) && (group.limit as number) >= 0))
      add('limit must be a whole number ≥ 0');
    if (!Array.isArray(group.rules) || group.rules.length === 0) add('needs at least one rule under `rules`');
    else
      group.rules.forEach((rule, ruleIndex) => ruleProblems(rule).forEach((p) => add(`rule ${ruleIndex + 1}: ${p}`)));
    for (const text of strings(group))
      if (text.includes(NOMAD_RULE_DELIMITERS.left) || text.includes(NOMAD_RULE_DELIMITERS.right))
        add(
          `must not contain "${NOMAD_RULE_DELIMITERS.left}" or "${NOMAD_RULE_DELIMITERS.right}": Nomad delivers rule files through templates with these delimiters`,
        );
  });
  return problems;
}

function ruleProblems(rule: unknown): string[] {
  if (!isObject(rule)) return ['must be a mapping with alert or record, and expr'];
  const problems: string[] = [];
  for (const key of Object.keys(rule)) if (!RULE_KEYS.has(key)) problems.push(`unknown field "${key}"`);
  const alert = rule.alert !== undefined;
  const record = rule.record !== undefined;
  if (alert === record)
    problems.push('needs exactly one of `alert` (an alerting rule) and `record` (a recording rule)');
  if (alert && (typeof rule.alert !== 'string' || rule.alert === '')) problems.push('alert must be a non-empty name');
  if (record && (typeof rule.record !== 'string' || !METRIC_NAME.test(rule.record)))
    problems.push(`record must be a metric name such as "job:log_lines:rate5m", not ${JSON.stringify(rule.record)}`);
  if (typeof rule.expr !== 'string' || rule.expr.trim() === '') problems.push('expr must be a non-empty LogQL query');
  for (const key of ['for', 'keep_firing_for'] as const) {
    if (rule[key] === undefined) continue;
    if (record) problems.push(`${key} applies to alerting rules only`);
    else if (!isRuleDuration(rule[key]))
      problems.push(`${key} must be a duration such as "5m", not ${JSON.stringify(rule[key])}`);
  }
  if (record && rule.annotations !== undefined) problems.push('annotations apply to alerting rules only');
  for (const key of ['labels', 'annotations'] as const) {
    const map = rule[key];
    if (map === undefined) continue;
    if (!isObject(map)) {
      problems.push(`${key} must be a mapping of names to strings`);
      continue;
    }
    for (const [name, value] of Object.entries(map)) {
      if (!LABEL_NAME.test(name))
        problems.push(`${key}: "${name}" is not a label name (letters, digits and "_", not first a digit)`);
      if (typeof value !== 'string') problems.push(`${key}.${name} must be a string`);
    }
  }
  return problems;
}

const isRuleDuration = (value: unknown) => typeof value === 'string' && value !== '0' && isDuration(value);

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (isObject(value)) return [...Object.keys(value), ...Object.values(value).flatMap(strings)];
  return [];
}
