// The status of one stack, read through the core (three LIST calls), kept for a few seconds so that a page
// of cards does not hammer the API server; concurrent requests for one stack share one lookup. Every lookup
// ends within its deadline, well inside any HTTP timeout, and a failure says what failed, not where: the API
// server's URL and the backend's RBAC identity go to the backend's log only.
import type { LoggerService } from '@backstage/backend-plugin-api';
import { InputError, NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import {
  ClusterError,
  configuredClusters,
  connectToCluster,
  describeError,
  getStackStatus,
  StackNotFoundError,
  stackRefProblems,
  until,
  type ClusterEntry,
  type ConfigReader,
  type Connection,
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
}

/** A card waits for an answer: a blip is retried quickly, within the lookup's deadline. */
const STATUS_RETRY = { attempts: 3, baseDelayMs: 200, maxDelayMs: 1000 };

export class StackStatusService {
  private readonly clusters: ClusterEntry[];
  private readonly connections = new Map<string, Connection>();
  private readonly cache = new Map<string, { at: number; status: Promise<CheckedStatus> }>();
  private readonly cacheTtlMs: number;
  private readonly deadlineMs: number;
  private readonly logger: LoggerService;

  constructor(options: StackStatusServiceOptions) {
    this.clusters = configuredClusters(options.config);
    this.cacheTtlMs = options.cacheTtlMs ?? 5000;
    this.deadlineMs = options.deadlineMs ?? 10_000;
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
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClusterError(`no answer within ${this.deadlineMs} ms`)), this.deadlineMs);
    });
    try {
      const status = await Promise.race([
        getStackStatus(connection, ref, until(Date.now() + this.deadlineMs, STATUS_RETRY)),
        late,
      ]);
      return { ...status, checkedAt: new Date().toISOString() };
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
