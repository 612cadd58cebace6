// The one Loki configuration every component runs with (-target picks the role). Valid for Loki 3.4-3.7:
// tsdb + schema v13, index and chunks on the object store, memberlist rings, the query path wired through
// the query-scheduler, and no key that Loki 3 removed. Every address points at a Service this renderer
// also produces; the cross-reference test holds us to that.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { parseDurationMs, parseQuantity } from '../../spec/quantity.js';
import type { LokiStack } from '../../spec/schema.js';
import { checksum, configMapName, headlessName, memberlistName, metadata, objectName, PATHS, PORTS, serviceHost } from './common.js';
import { commonStorageConfig, lokiObjectStore } from './storage.js';

/** First day of the (only) schema period. Never change it in place: a new period needs a future date. */
export const SCHEMA_FROM = '2024-04-01';

/** gRPC messages up to 100 MiB: the 4 MiB default fails large query results between components. */
const GRPC_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

export function lokiConfig(stack: LokiStack): Record<string, unknown> {
  const { spec } = stack;
  const grpcAddress = (service: string) => `${serviceHost(stack, service)}:${PORTS.grpc.port}`;
  const httpUrl = (service: string) => `http://${serviceHost(stack, service)}:${PORTS.http.port}`;
  const objectStore = lokiObjectStore(stack);
  // Frontends and querier workers resolve every scheduler pod through the headless Service.
  const schedulerAddress = grpcAddress(headlessName(stack, 'queryScheduler'));
  const retention = parseDurationMs(spec.retention) > 0;
  const cacheMb = embeddedCacheMb(stack);

  return {
    auth_enabled: spec.auth.enabled,
    server: {
      http_listen_port: PORTS.http.port,
      grpc_listen_port: PORTS.grpc.port,
      log_level: 'info',
      grpc_server_max_recv_msg_size: GRPC_MAX_MESSAGE_BYTES,
      grpc_server_max_send_msg_size: GRPC_MAX_MESSAGE_BYTES,
    },
    common: {
      path_prefix: PATHS.data,
      replication_factor: spec.replicationFactor,
      compactor_address: httpUrl(objectName(stack, 'compactor')),
      ring: { kvstore: { store: 'memberlist' } },
      storage: commonStorageConfig(stack),
    },
    memberlist: {
      join_members: [`dns+${serviceHost(stack, memberlistName(stack))}:${PORTS.gossip.port}`],
      bind_port: PORTS.gossip.port,
      // Gossip from another stack (a neighbour namespace, a stale pod IP) is rejected instead of merged.
      cluster_label: `${stack.metadata.namespace}.${stack.metadata.name}`,
    },
    schema_config: {
      configs: [
        {
          from: SCHEMA_FROM,
          store: 'tsdb',
          object_store: objectStore,
          schema: 'v13',
          index: { prefix: 'index_', period: '24h' },
        },
      ],
    },
    storage_config: {
      // Loki after 3.7 switches to the Thanos clients by default; keep reading `common.storage` either way.
      use_thanos_objstore: false,
      tsdb_shipper: {
        active_index_directory: `${PATHS.data}/tsdb-index`,
        cache_location: `${PATHS.data}/tsdb-cache`,
        index_gateway_client: {
          // dns:/// makes the gRPC client balance over every gateway pod.
          server_address: `dns:///${grpcAddress(headlessName(stack, 'indexGateway'))}`,
        },
      },
    },
    index_gateway: { mode: 'simple' },
    ingester: {
      wal: {
        enabled: true,
        dir: `${PATHS.data}/wal`,
        flush_on_shutdown: true,
        replay_memory_ceiling: replayMemoryCeiling(stack),
      },
      chunk_idle_period: '30m',
      max_chunk_age: '2h',
      chunk_target_size: 1_572_864,
    },
    frontend: {
      scheduler_address: schedulerAddress,
      tail_proxy_url: httpUrl(objectName(stack, 'querier')),
      compress_responses: true,
      log_queries_longer_than: '5s',
    },
    frontend_worker: { scheduler_address: schedulerAddress },
    // The default of 100 rejects sharded queries with "too many outstanding requests".
    query_scheduler: { max_outstanding_requests_per_tenant: 32_768 },
    query_range: {
      align_queries_with_step: true,
      cache_results: true,
      results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: cacheMb } } },
    },
    chunk_store_config: {
      chunk_cache_config: { embedded_cache: { enabled: true, max_size_mb: cacheMb } },
    },
    compactor: {
      working_directory: `${PATHS.data}/compactor`,
      compaction_interval: '10m',
      // Also what enables the log deletion API; with no retention_period nothing expires.
      retention_enabled: true,
      retention_delete_delay: '2h',
      delete_request_store: objectStore,
    },
    limits_config: {
      ingestion_rate_mb: spec.limits.ingestionRateMB,
      ingestion_burst_size_mb: spec.limits.ingestionBurstSizeMB,
      max_global_streams_per_user: spec.limits.maxGlobalStreamsPerUser,
      max_query_series: spec.limits.maxQuerySeries,
      max_query_parallelism: spec.limits.maxQueryParallelism,
      max_entries_limit_per_query: spec.limits.maxEntriesLimitPerQuery,
      query_timeout: spec.limits.queryTimeout,
      reject_old_samples: true,
      reject_old_samples_max_age: spec.limits.rejectOldSamplesMaxAge,
      allow_structured_metadata: true,
      volume_enabled: true,
      ...(retention ? { retention_period: spec.retention } : {}),
    },
    ...(spec.components.ruler.enabled
      ? {
          ruler: {
            enable_api: true,
            enable_sharding: true,
            rule_path: `${PATHS.data}/rules-temp`,
            wal: { dir: `${PATHS.data}/ruler-wal` },
            ...(spec.components.ruler.alertmanagerUrl ? { alertmanager_url: spec.components.ruler.alertmanagerUrl } : {}),
          },
        }
      : {}),
    analytics: { reporting_enabled: false },
  };
}

export function lokiConfigYaml(stack: LokiStack): string {
  return stringify(lokiConfig(stack), { lineWidth: 0, sortMapEntries: true, aliasDuplicateObjects: false });
}

const configHashes = new WeakMap<LokiStack, string>();

/** Hash of the config text, for pod annotations; computed once per stack (stacks are never mutated). */
export function lokiConfigHash(stack: LokiStack): string {
  let hash = configHashes.get(stack);
  if (hash === undefined) {
    hash = checksum(lokiConfigYaml(stack));
    configHashes.set(stack, hash);
  }
  return hash;
}

export function lokiConfigMap(stack: LokiStack): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(stack, configMapName(stack)),
    data: { 'config.yaml': lokiConfigYaml(stack) },
  };
}

/**
 * WAL replay may use half of the ingester's memory limit (Loki's 4GB default would OOM-kill a small
 * ingester on restart). Without a limit, Loki's default applies.
 */
function replayMemoryCeiling(stack: LokiStack): string | undefined {
  const limit = stack.spec.components.ingester.resources.limits?.memory;
  return limit ? `${Math.floor(parseQuantity(limit) / 2 / 1e6)}MB` : undefined;
}

/** Embedded caches live in each process's memory: size them by the smallest querier-side memory limit. */
function embeddedCacheMb(stack: LokiStack): number {
  const { querier, queryFrontend } = stack.spec.components;
  const limits = [querier, queryFrontend].map((c) => c.resources.limits?.memory).filter((m): m is string => !!m);
  if (limits.length === 0) return 512;
  return Math.max(16, Math.floor(Math.min(...limits.map(parseQuantity)) / 8 / 2 ** 20));
}
