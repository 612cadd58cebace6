// The status of a stack on any platform: a condition (Ready | Pending | Degraded | Failed) with a
// machine-readable reason, and per component the desired and ready replicas, pods by state and the reasons
// of those that are not ready. The JSON shape is a contract (StackStatus, loki-microservices/v1alpha1): the
// status card and the Action read it. Browser-safe: no imports.

export const STATUS_API_VERSION = 'loki-microservices/v1alpha1';

export type ConditionType = 'Ready' | 'Pending' | 'Degraded' | 'Failed';

/** The memcached caches' components (spec.caches): Loki answers without them, slower, so losing one degrades the stack. */
export const CACHE_COMPONENTS = ['chunks-cache', 'results-cache'] as const;
export type CacheComponent = (typeof CACHE_COMPONENTS)[number];
const degradesOnly = new Set<string>(CACHE_COMPONENTS);
export type PodState = 'Ready' | 'Running' | 'Pending' | 'Failed' | 'Unknown';

/** A pod that is not ready, and why. */
export interface PodProblem {
  name: string;
  state: PodState;
  /** Kubernetes' own word: CrashLoopBackOff, ImagePullBackOff, OOMKilled, Unschedulable, ContainerCreating… */
  reason?: string;
  message?: string;
  /** The container the reason is about. */
  container?: string;
  restarts: number;
  /** Will not get better by waiting (a crash loop, an image that cannot be pulled, no node for it). */
  failing: boolean;
}

export interface ComponentStatus {
  /** The workload: a Kubernetes Deployment or StatefulSet, or a Nomad task group (its allocations are the pods). */
  kind: 'Deployment' | 'StatefulSet' | 'TaskGroup';
  desired: number;
  ready: number;
  /** Pods running the current template. */
  updated: number;
  /** The controller has seen the latest spec and every pod runs it. */
  current: boolean;
  pods: Record<PodState, number>;
  notReady: PodProblem[];
}

export interface StackStatus {
  apiVersion: typeof STATUS_API_VERSION;
  kind: 'StackStatus';
  name: string;
  namespace: string;
  condition: { type: ConditionType; reason: string; message: string };
  /** By component: distributor, ingester, querier, query-frontend, query-scheduler, index-gateway, compactor, ruler, pattern-ingester (those the stack runs), object-store, gateway, chunks-cache, results-cache. */
  components: Record<string, ComponentStatus>;
  /** In-cluster URLs: push is Loki's push API, query the query API root (a Grafana data source URL). */
  endpoints: StackEndpoints;
  /** The Loki version the workloads run (their app.kubernetes.io/version label). */
  version: string | null;
  /** When the oldest workload of the stack was created. */
  createdAt: string | null;
  /** The live config's schema period in effect, and the next one if one is appended; absent when unknown. */
  schema?: { active: SchemaPeriodStatus; next?: SchemaPeriodStatus };
  /**
   * A rollout to another Loki version under way (the workloads or their pods run different versions): the version
   * the first waves run already, the wave that is rolling (1-based, of `waves`), its component, and how many of its
   * pods run the new template. Absent when every Loki workload and pod runs one version.
   */
  upgrade?: StackUpgrade;
  /**
   * The rule groups the stack declares (spec.rules), as its ruler reports them: how many loaded, and each one
   * missing or failing; or `unknown` and why when the ruler could not be asked. Absent when the stack declares no
   * rules, and from the CLI's status unless it is asked for (`--rules`).
   */
  rules?: RulesReport | RulesUnknown;
}

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

/** The ruler could not be asked (no ready ruler, no answer in time): why, without addresses or identities. */
export interface RulesUnknown {
  unknown: string;
}

/** `rules/app.yaml, group "errors" (tenant team-a): failing: parse error …`. */
export const describeRuleProblem = (check: RuleGroupCheck) =>
  `${check.source}, group "${check.group}" (tenant ${check.tenant}): ${check.state === 'missing' ? 'not loaded by the ruler' : `failing: ${check.error}`}`;

/** "3 groups loaded", "2 groups loaded, 1 not", "unknown (no ruler pod is ready)". */
export const describeRuleCounts = (rules: RulesReport | RulesUnknown) =>
  'unknown' in rules
    ? `unknown (${rules.unknown})`
    : `${rules.loaded} group${rules.loaded === 1 ? '' : 's'} loaded${rules.problems.length > 0 ? `, ${rules.problems.length} not` : ''}`;

/** "rules: 3 groups loaded", the CLI's line. */
export const describeRules = (rules: RulesReport | RulesUnknown) => `rules: ${describeRuleCounts(rules)}`;

export interface StackUpgrade {
  to: string;
  wave: number;
  waves: number;
  component: string;
  updated: number;
  desired: number;
}

/** "upgrading to 3.7.8: wave 3/9, ingester 1/3". */
export const describeUpgrade = (upgrade: StackUpgrade) =>
  `upgrading to ${upgrade.to}: wave ${upgrade.wave}/${upgrade.waves}, ${upgrade.component} ${upgrade.updated}/${upgrade.desired}`;

/** A schema period: from its first day (YYYY-MM-DD, UTC), this index store and schema version. */
export interface SchemaPeriodStatus {
  from: string;
  store: string;
  version: string;
}

/** "Schema v13 (tsdb) since 2024-04-01; next: v13 from 2027-01-01", for a status's one line about its schema. */
export function describeSchema(schema: NonNullable<StackStatus['schema']>): string {
  const { active, next } = schema;
  return `Schema ${active.version} (${active.store}) since ${active.from}${next ? `; next: ${next.version}${next.store === active.store ? '' : ` (${next.store})`} from ${next.from}` : ''}`;
}

/** Where clients push and query: the gateway when the stack has one, else the distributor and query-frontend. */
export interface StackEndpoints {
  push: string;
  query: string;
  /** The gateway asks for HTTP basic auth (a tenant's user and password). */
  basicAuth: boolean;
  /** Outside the cluster, through the exposed gateway (spec.gateway.expose); absent when it is not exposed. */
  external?: { push: string; query: string };
}

export function conditionOf(components: Record<string, ComponentStatus>): StackStatus['condition'] {
  const entries = Object.entries(components);
  // Nothing seen yet (a wait that ended before its first lists came back) is not a ready stack.
  if (entries.length === 0) return { type: 'Pending', reason: 'NoComponents', message: 'no component found' };
  const summary = (list: [string, ComponentStatus][]) =>
    list
      .map(([name, c]) => {
        const reasons = [...new Set(c.notReady.map((p) => p.reason).filter(Boolean))];
        return `${name} ${c.ready}/${c.desired} ready${reasons.length ? ` (${reasons.join(', ')})` : ''}`;
      })
      .join('; ');
  const failing = entries.filter(([, c]) => c.notReady.some((p) => p.failing));
  const down = failing.filter(([name, c]) => c.ready === 0 && !degradesOnly.has(name));
  if (down.length > 0) return { type: 'Failed', reason: 'ComponentsFailing', message: summary(failing) };
  if (failing.length > 0) return { type: 'Degraded', reason: 'ComponentsDegraded', message: summary(failing) };
  const waiting = entries.filter(([, c]) => !c.current);
  if (waiting.length > 0) return { type: 'Pending', reason: 'ComponentsNotReady', message: summary(waiting) };
  return { type: 'Ready', reason: 'AllComponentsReady', message: `${entries.length} components ready` };
}
