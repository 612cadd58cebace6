// The status of one stack, read through the core (a handful of LIST calls), kept for a few seconds so that a
// page of cards does not hammer the API server; concurrent requests for one stack share one lookup.
import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import { ClusterError, configuredClusters, connectToCluster, getStackStatus, StackNotFoundError, type ClusterEntry, type ConfigReader, type Connection, type StackStatus } from 'loki-microservices';

export interface StackKey {
  cluster: string;
  namespace: string;
  name: string;
}

export type CheckedStatus = StackStatus & { checkedAt: string };

export interface StackStatusServiceOptions {
  config: ConfigReader;
  /** How long a status is served from memory. @default 5000 */
  cacheTtlMs?: number;
}

/** A card waits for an answer: a blip is retried, an unreachable cluster is said within about a second. */
const STATUS_RETRY = { attempts: 3, baseDelayMs: 200, maxDelayMs: 1000 };

export class StackStatusService {
  private readonly clusters: ClusterEntry[];
  private readonly connections = new Map<string, Connection>();
  private readonly cache = new Map<string, { at: number; status: Promise<CheckedStatus> }>();
  private readonly cacheTtlMs: number;

  constructor(options: StackStatusServiceOptions) {
    this.clusters = configuredClusters(options.config);
    this.cacheTtlMs = options.cacheTtlMs ?? 5000;
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
    const connection = this.connection(key.cluster);
    try {
      const status = await getStackStatus(connection, { name: key.name, namespace: key.namespace }, STATUS_RETRY);
      return { ...status, checkedAt: new Date().toISOString() };
    } catch (error) {
      if (error instanceof StackNotFoundError) throw new NotFoundError(error.message);
      if (error instanceof ClusterError) {
        const why = error.code === 401 || error.code === 403 ? `refuses access (HTTP ${error.code})` : error.code ? `answered HTTP ${error.code}` : 'cannot be reached';
        throw new ServiceUnavailableError(`cluster "${key.cluster}" ${why}: ${error.message}`);
      }
      throw error;
    }
  }

  private connection(cluster: string): Connection {
    let connection = this.connections.get(cluster);
    if (!connection) {
      if (!this.clusters.some((entry) => entry.name === cluster)) {
        throw new NotFoundError(`cluster "${cluster}" is not configured; configured clusters: ${this.clusters.map((entry) => `"${entry.name}"`).join(', ') || 'none'}`);
      }
      try {
        connection = connectToCluster(this.clusters, cluster);
      } catch (error) {
        if (error instanceof ClusterError) throw new ServiceUnavailableError(error.message);
        throw error;
      }
      this.connections.set(cluster, connection);
    }
    return connection;
  }
}
