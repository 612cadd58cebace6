// After the wait: did the ruler load every declared rule group? Reads the ruler's Prometheus-style rules API
// (`/prometheus/api/v1/rules`) per tenant from a ready ruler pod over a port-forward (neither a NetworkPolicy
// nor the gateway stands in the way; with sharding, any ruler answers for all of them), and retries until the
// deadline while a group is missing (the kubelet and the ruler's poll_interval take their time) or failing.
import { ClusterError } from '../../errors.js';
import type { LokiStack } from '../../spec/schema.js';
import { declaredRules, type DeclaredRuleFile } from '../../stack/rule-files.js';
import { describeRuleProblem, type RuleGroupCheck, type RulesReport } from '../../stack/status-model.js';
import { PORTS } from '../render/common.js';
import type { Connection } from './connection.js';
import { readyPodOf } from './forward.js';
import { until, type RetryPolicy } from './retry.js';
import { sendToPod } from './smoke.js';
import type { StackRef } from './status.js';

export type { RuleGroupCheck, RulesReport } from '../../stack/status-model.js';
export { describeRuleProblem, describeRules } from '../../stack/status-model.js';

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

interface RulesAnswer {
  data?: { groups?: { name?: string; file?: string; rules?: { lastError?: string; health?: string }[] }[] };
}

/**
 * The declared groups' states, read once from the ruler `pod`. X-Scope-OrgID names each tenant; without auth Loki
 * ignores it (every rule is the one tenant's).
 */
export async function readRuleGroups(
  connection: Connection,
  target: { namespace: string; pod: string },
  declared: DeclaredRuleFile[],
): Promise<RuleGroupCheck[]> {
  const checks: RuleGroupCheck[] = [];
  for (const tenant of [...new Set(declared.map((file) => file.tenant))]) {
    const answer = await sendToPod(
      connection,
      { ...target, port: PORTS.http.port },
      'GET',
      '/prometheus/api/v1/rules',
      { headers: { 'X-Scope-OrgID': tenant } },
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
    for (const file of declared.filter((candidate) => candidate.tenant === tenant)) {
      for (const name of file.groups) {
        const found = groups.find((group) => group.name === name && group.file === file.file);
        const error = found?.rules?.find((rule) => rule.lastError)?.lastError;
        checks.push({
          tenant,
          source: file.source,
          group: name,
          state: !found ? 'missing' : error ? 'failing' : 'loaded',
          ...(error ? { error } : {}),
        });
      }
    }
  }
  return checks;
}

/**
 * The `declared` groups (the ruler's annotation, or the spec's) as a ready ruler of the stack reports them now
 * (retrying requests per `retry`, not a missing group).
 */
export async function rulesReport(
  connection: Connection,
  ref: StackRef,
  declared: DeclaredRuleFile[],
  retry: RetryPolicy,
): Promise<RulesReport> {
  if (declared.length === 0) return { loaded: 0, problems: [] };
  const pod = await readyPodOf(connection, ref, 'ruler', retry);
  const checks = await readRuleGroups(connection, { namespace: ref.namespace, pod }, declared);
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
  const declared = declaredRules(stack);
  for (;;) {
    let report: RulesReport;
    try {
      report = await rulesReport(connection, stack.metadata, declared, until(options.deadline));
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
