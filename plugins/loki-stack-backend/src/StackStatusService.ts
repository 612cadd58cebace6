// The status of one stack, read through the core (three LIST calls), kept for a few seconds so that a page
// of cards does not hammer the API server; concurrent requests for one stack share one lookup. Every lookup
// ends within its deadline, well inside any HTTP timeout, and a failure says what failed, not where: the API
// server's URL and the backend's RBAC identity go to the backend's log only.
// A stack that declares rules (its ruler's annotation lists them) also gets what its ruler reports about them:
// that takes a port-forward per tenant, so it has its own shorter deadline, after which the rules are "unknown"
// and the rest of the status is served, and its own longer cache, kept while the declared rules stay the same.
import type { LoggerService } from '@backstage/backend-plugin-api';
import { InputError, NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import {
  ClusterError,
  configuredClusters,
  connectToCluster,
  describeError,
  getStackState,
  rulesReport,
  StackNotFoundError,
  stackRefProblems,
  until,
  type ClusterEntry,
  type ConfigReader,
  type Connection,
  type DeclaredRuleFile,
  type StackStatus,
} from 'loki-microservices';

export interface StackKey {
  cluster: string;
  namespace: string;
  name: string;
}

export type CheckedStatus = StackStatus & { checkedAt: string };

export interface StackStatusServiceOptions {
  config: ConfigReader;
  logger: LoggerService;
  /** How long a status is served from memory. @default 5000 */
  cacheTtlMs?: number;
  /** How long a lookup may take, retries included; then the answer is 503. @default 10000 */
  deadlineMs?: number;
  /** How long the ruler's report of the declared rule groups is served from memory. @default 30000 */
  rulesCacheTtlMs?: number;
  /** How long reading the ruler's rules API may take; then the status says the rules are unknown. @default 3000 */
  rulesDeadlineMs?: number;
}

type RulesStatus = NonNullable<StackStatus['rules']>;

/** A card waits for an answer: a blip is retried quickly, within the lookup's deadline. */
const STATUS_RETRY = { attempts: 3, baseDelayMs: 200, maxDelayMs: 1000 };

export class StackStatusService {
  private readonly clusters: ClusterEntry[];
  private readonly connections = new Map<string, Connection>();
  private readonly cache = new Map<string, { at: number; status: Promise<CheckedStatus> }>();
  private readonly rulesCache = new Map<
    string,
    { at: number; ttlMs: number; declared: string; rules: Promise<RulesStatus> }
  >();
  private readonly cacheTtlMs: number;
  private readonly deadlineMs: number;
  private readonly rulesCacheTtlMs: number;
  private readonly rulesDeadlineMs: number;
  private readonly logger: LoggerService;

  constructor(options: StackStatusServiceOptions) {
    this.clusters = configuredClusters(options.config);
    this.cacheTtlMs = options.cacheTtlMs ?? 5000;
    this.deadlineMs = options.deadlineMs ?? 10_000;
    this.rulesCacheTtlMs = options.rulesCacheTtlMs ?? 30_000;
    this.rulesDeadlineMs = options.rulesDeadlineMs ?? 3000;
    this.logger = options.logger;
  }

  /** The stack's status; NotFoundError for an unknown cluster or stack, ServiceUnavailableError when the cluster cannot tell. */
  get(key: StackKey): Promise<CheckedStatus> {
    const id = `${key.cluster}/${key.namespace}/${key.name}`;
    const cached = this.cache.get(id);
    if (cached && Date.now() - cached.at < this.cacheTtlMs) return cached.status;
    const status = this.lookUp(key);
    this.cache.set(id, { at: Date.now(), status });
    // Failures are not kept: the next request asks again.
    status.catch(() => this.cache.get(id)?.status === status && this.cache.delete(id));
    return status;
  }

  private async lookUp(key: StackKey): Promise<CheckedStatus> {
    const ref = { name: key.name, namespace: key.namespace };
    const problems = stackRefProblems(ref);
    if (problems.length > 0) throw new InputError(problems.map((problem) => problem.message).join('; '));
    const connection = this.connection(key.cluster);
    const deadline = Date.now() + this.deadlineMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClusterError(`no answer within ${this.deadlineMs} ms`)), this.deadlineMs);
    });
    try {
      const { status, declaredRules } = await Promise.race([
        getStackState(connection, ref, until(Date.now() + this.deadlineMs, STATUS_RETRY)),
        late,
      ]);
      clearTimeout(timer);
      const rules = !Array.isArray(declaredRules)
        ? { rules: { unknown: declaredRules.invalid } }
        : declaredRules.length > 0
          ? { rules: await this.rules(key, connection, declaredRules, deadline) }
          : {};
      return { ...status, ...rules, checkedAt: new Date().toISOString() };
    } catch (error) {
      if (error instanceof StackNotFoundError)
        throw new NotFoundError(
          `no Loki stack "${key.name}" in namespace "${key.namespace}" of cluster "${key.cluster}"`,
        );
      this.logger.warn(`status of stack ${key.cluster}/${key.namespace}/${key.name}: ${describeError(error)}`);
      if (error instanceof ClusterError)
        throw new ServiceUnavailableError(
          `cluster "${key.cluster}" ${unavailable(error)}; the backend's log says more`,
        );
      throw new ServiceUnavailableError(`the status of the stack could not be read; the backend's log says more`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The ruler's report of the declared groups, from memory while fresh and the declared groups are the same; read
   * within the rules deadline, and never past the status's `deadline`.
   */
  private rules(
    key: StackKey,
    connection: Connection,
    declared: DeclaredRuleFile[],
    deadline: number,
  ): Promise<RulesStatus> {
    const id = `${key.cluster}/${key.namespace}/${key.name}`;
    const declaredText = JSON.stringify(declared);
    const cached = this.rulesCache.get(id);
    if (cached && cached.declared === declaredText && Date.now() - cached.at < cached.ttlMs) return cached.rules;
    const rules = this.readRules(
      key,
      connection,
      declared,
      Math.max(0, Math.min(this.rulesDeadlineMs, deadline - Date.now())),
    );
    const entry = { at: Date.now(), ttlMs: this.rulesCacheTtlMs, declared: declaredText, rules };
    // An unknown answer is asked again as soon as the status is.
    void rules.then((answer) => 'unknown' in answer && (entry.ttlMs = this.cacheTtlMs));
    this.rulesCache.set(id, entry);
    return entry.rules;
  }

  /** What the ruler reports, or "unknown" and why (redacted) when it cannot tell within `deadlineMs`. */
  private async readRules(
    key: StackKey,
    connection: Connection,
    declared: DeclaredRuleFile[],
    deadlineMs: number,
  ): Promise<RulesStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RulesTimeout()), deadlineMs);
    });
    try {
      return await Promise.race([
        rulesReport(connection, key, declared, until(Date.now() + deadlineMs, STATUS_RETRY)),
        late,
      ]);
    } catch (error) {
      this.logger.warn(`rules of stack ${key.cluster}/${key.namespace}/${key.name}: ${describeError(error)}`);
      return { unknown: rulesUnknown(error, deadlineMs) };
    } finally {
      clearTimeout(timer);
    }
  }

  private connection(cluster: string): Connection {
    let connection = this.connections.get(cluster);
    if (!connection) {
      if (!this.clusters.some((entry) => entry.name === cluster)) {
        throw new NotFoundError(
          `cluster "${cluster}" is not configured; configured clusters: ${this.clusters.map((entry) => `"${entry.name}"`).join(', ') || 'none'}`,
        );
      }
      try {
        connection = connectToCluster(this.clusters, cluster, { requestTimeoutMs: this.deadlineMs });
      } catch (error) {
        this.logger.warn(`cluster "${cluster}": ${describeError(error)}`);
        throw new ServiceUnavailableError(
          `cluster "${cluster}" is not usable as configured; the backend's log says why`,
        );
      }
      this.connections.set(cluster, connection);
    }
    return connection;
  }
}

/** What went wrong, without the API server's URL or the identity it refused. */
function unavailable(error: ClusterError): string {
  if (error.code === 401) return 'refuses the configured credentials (HTTP 401)';
  if (error.code === 403)
    return "refuses access to the stack's workloads or pods (HTTP 403): the service account needs get, list and watch on them";
  if (error.code) return `answered HTTP ${error.code}`;
  return error.reason === 'Timeout' || /no answer/.test(error.message) ? 'did not answer in time' : 'cannot be reached';
}

class RulesTimeout extends Error {}

/** Why the rules are unknown, without the API server's URL, the pod's address or what Loki answered. */
function rulesUnknown(error: unknown, deadlineMs: number): string {
  if (error instanceof RulesTimeout) return `the ruler did not answer within ${deadlineMs} ms`;
  const message = error instanceof Error ? error.message : '';
  if (/^no ready ruler pod/.test(message)) return 'no ruler pod is ready';
  const refused = /refused the port-forward to pod \S+ with HTTP (\d+)/.exec(message)?.[1];
  if (refused === '403')
    return 'the cluster refuses a port-forward to a ruler pod (HTTP 403): the service account needs create on pods/portforward';
  if (refused) return `the cluster refuses a port-forward to a ruler pod (HTTP ${refused})`;
  const answered = /^the ruler's rules API answered (HTTP \d+|no JSON)/.exec(message);
  if (answered) return `the ruler's rules API answered ${answered[1]}`;
  return "the ruler's rules API could not be read; the backend's log says more";
}
