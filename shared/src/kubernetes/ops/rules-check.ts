// After the wait: did the ruler load every declared rule group? Reads the ruler's Prometheus-style rules API
// (`/prometheus/api/v1/rules`) per tenant from a ready ruler pod over a port-forward (neither a NetworkPolicy
// nor the gateway stands in the way; with sharding, any ruler answers for all of them), and retries until the
// deadline while a group is missing (the kubelet and the ruler's poll_interval take their time) or failing.
import { ClusterError } from '../../errors.js';
import { ruleSources, type LokiStack } from '../../spec/schema.js';
import { ruleFileSource } from '../../stack/rule-files.js';
import { PORTS } from '../render/common.js';
import type { Connection } from './connection.js';
import { readyPodOf } from './forward.js';
import { until, type RetryPolicy } from './retry.js';
import { sendToPod } from './smoke.js';

/** One declared rule group as the ruler reports it. */
export interface RuleGroupCheck {
  tenant: string;
  /** The rule file of the spec, or `spec.rules.inline.<tenant>`. */
  source: string;
  group: string;
  /** `loaded`; `missing` (not in the ruler's answer); `failing` (a rule's lastError, in `error`). */
  state: 'loaded' | 'missing' | 'failing';
  error?: string;
}

/** The rule groups of a stack: how many loaded, and every one that did not. */
export interface RulesReport {
  loaded: number;
  problems: RuleGroupCheck[];
}

/** A declared rule group is missing from the ruler or failing when the deadline comes (exit 3 in the CLI). */
export class RulesNotLoadedError extends ClusterError {
  constructor(readonly report: RulesReport) {
    super(
      `the ruler did not load every declared rule group:\n${report.problems.map((problem) => `  - ${describeRuleProblem(problem)}`).join('\n')}`,
      undefined,
      'RulesNotLoaded',
    );
    this.name = 'RulesNotLoadedError';
  }
}

export const describeRuleProblem = (check: RuleGroupCheck) =>
  `${check.source}, group "${check.group}" (tenant ${check.tenant}): ${check.state === 'missing' ? 'not loaded by the ruler' : `failing: ${check.error}`}`;

/** "rules: 3 groups loaded". */
export const describeRules = (report: RulesReport) =>
  `rules: ${report.loaded} group${report.loaded === 1 ? '' : 's'} loaded${report.problems.length > 0 ? `, ${report.problems.length} not` : ''}`;

interface RulesAnswer {
  data?: { groups?: { name?: string; file?: string; rules?: { lastError?: string; health?: string }[] }[] };
}

/** The declared groups' states, read once. */
export async function readRuleGroups(connection: Connection, stack: LokiStack, pod: string): Promise<RuleGroupCheck[]> {
  const tenants = [...new Set(ruleSources(stack.spec).map((source) => source.tenant))];
  const checks: RuleGroupCheck[] = [];
  for (const tenant of tenants) {
    const answer = await sendToPod(
      connection,
      { namespace: stack.metadata.namespace, pod, port: PORTS.http.port },
      'GET',
      '/prometheus/api/v1/rules',
      { headers: stack.spec.auth.enabled ? { 'X-Scope-OrgID': tenant } : {} },
    );
    if (answer.status !== 200)
      throw new ClusterError(
        `the ruler's rules API answered HTTP ${answer.status}: ${answer.body.trim().slice(0, 200)}`,
      );
    let groups: NonNullable<NonNullable<RulesAnswer['data']>['groups']>;
    try {
      groups = (JSON.parse(answer.body) as RulesAnswer).data?.groups ?? [];
    } catch {
      throw new ClusterError(`the ruler's rules API answered no JSON: ${answer.body.trim().slice(0, 200)}`);
    }
    for (const source of ruleSources(stack.spec).filter((candidate) => candidate.tenant === tenant)) {
      for (const declared of source.groups) {
        const found = groups.find(
          (group) => group.name === declared.name && ruleFileSource(stack, tenant, group.file ?? '') === source.source,
        );
        const error = found?.rules?.find((rule) => rule.lastError)?.lastError;
        checks.push({
          tenant,
          source: source.source,
          group: declared.name,
          state: !found ? 'missing' : error ? 'failing' : 'loaded',
          ...(error ? { error } : {}),
        });
      }
    }
  }
  return checks;
}

/** The declared groups as a ready ruler reports them now (retrying requests per `retry`, not a missing group). */
export async function rulesReport(connection: Connection, stack: LokiStack, retry: RetryPolicy): Promise<RulesReport> {
  if (ruleSources(stack.spec).length === 0) return { loaded: 0, problems: [] };
  const pod = await readyPodOf(connection, stack.metadata, 'ruler', retry);
  const checks = await readRuleGroups(connection, stack, pod);
  return {
    loaded: checks.filter((check) => check.state === 'loaded').length,
    problems: checks.filter((check) => check.state !== 'loaded'),
  };
}

/**
 * Waits until the ruler reports every declared group loaded and none failing; a RulesNotLoadedError naming the
 * file and group of each that is not when the deadline comes, or at once for an expression Loki cannot parse.
 */
export async function checkRules(
  connection: Connection,
  stack: LokiStack,
  options: { deadline: number; intervalMs?: number },
): Promise<RulesReport> {
  const intervalMs = options.intervalMs ?? 2000;
  for (;;) {
    let report: RulesReport;
    try {
      report = await rulesReport(connection, stack, until(options.deadline));
    } catch (error) {
      if (Date.now() + intervalMs > options.deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      continue;
    }
    if (report.problems.length === 0) return report;
    // A query that does not parse fails on every evaluation: waiting will not change it.
    const unparsable = report.problems.some((problem) => /parse error/.test(problem.error ?? ''));
    if (unparsable || Date.now() + intervalMs > options.deadline) throw new RulesNotLoadedError(report);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
