// The one Loki configuration every component runs with (-target picks the role), for any target platform.
// Valid for Loki 3.4-3.7: tsdb + schema v13, index and chunks on the object store, the query path wired
// through the query-scheduler, and no key that Loki 3 removed. How components find each other (addresses,
// rings, ports, paths) is the platform's part: each renderer passes its LokiWiring, and its cross-reference
// test holds every address to a Service or service registration that renderer produces.
import { Document, isScalar, visit } from 'yaml';
import { parseDurationMs, parseQuantity } from '../spec/quantity.js';
import { CHUNK_TARGET_SIZE_BYTES, type LokiStack } from '../spec/schema.js';
import { readsLocalRules } from './rule-files.js';
import { limitsConfig, retentionStream, RUNTIME_CONFIG_PERIOD } from './runtime-config.js';
import { isDeployed } from './components.js';
import { activeSchemaPeriod, stackSchemaPeriods } from './schema-periods.js';
import { STARTUP } from './startup.js';
import { lokiCacheConfig, type CacheAddresses } from './caches.js';

/** Loki's default `querier.max_concurrent` (3.x): queries one querier runs at once. */
export const LOKI_MAX_CONCURRENT = 4;
export { SCHEMA_FROM } from './schema-periods.js';

/** gRPC messages up to 100 MiB: the 4 MiB default fails large query results between components. */
const GRPC_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

/** What a client dials: a component's gRPC server, or the memberlist cluster of the ring members. */
export const TLS_PEERS = [
  'ingester',
  'queryFrontend',
  'queryScheduler',
  'indexGateway',
  'compactor',
  'ruler',
  'patternIngester',
  'memberlist',
] as const;
export type TlsPeer = (typeof TLS_PEERS)[number];

/** Certificate files every component presents and trusts for gRPC and memberlist between components. */
export interface GrpcTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
  /** The name a client expects in the certificate of each peer (clients dial ring addresses, often bare IPs). */
  serverNames: Record<TlsPeer, string>;
}

export interface LokiWiring {
  /** Listen ports: numbers, or `${VAR}` placeholders Loki expands at start-up. */
  listen: { http: number | string; grpc: number | string };
  /** Root of every local path (WAL, tsdb index, compactor and ruler work dirs). */
  dataDir: string;
  /** `common.ring`: where rings are kept. */
  ring: Record<string, unknown>;
  /** Address every ring member and query-frontend advertises; omitted, Loki reads it from the network interface. */
  instanceAddr?: string;
  /** The `memberlist` block, when rings gossip. */
  memberlist?: Record<string, unknown>;
  /** HTTP URL of the compactor (delete requests, retention). */
  compactorAddress: string;
  /** HTTP URL of a querier: query-frontends proxy tail requests to it. */
  tailProxyUrl: string;
  /** gRPC address of the query-schedulers; omitted, schedulers join a ring and are found through it. */
  schedulerAddress?: string;
  /** gRPC target of the index-gateways (`simple` mode); omitted, gateways join a ring and are found through it. */
  indexGatewayAddress?: string;
  /** `common.storage`. */
  storage: Record<string, unknown>;
  /** Loki's name for the object store, as used by `schema_config` and `compactor.delete_request_store`. */
  objectStore: 's3' | 'gcs' | 'azure';
  /** mTLS between components: the server verifies clients, and every gRPC client block presents a certificate. */
  grpcTls?: GrpcTlsFiles;
  /** Path of the runtime configuration file (per-tenant overrides) as Loki sees it. */
  runtimeConfigFile: string;
  /** Where the ruler finds the declared rule files, as `<rulesDir>/<tenant>/<file>`. */
  rulesDir: string;
  /** Addresses of the memcached caches the platform renders (spec.caches.type memcached). */
  cacheAddresses?: CacheAddresses;
}

/** The ruler's environment variable holding the value of the remote-write header at `index` (from a secret). */
export const remoteWriteHeaderEnv = (index: number) => `RULER_REMOTE_WRITE_HEADER_${index}`;

export function lokiConfig(stack: LokiStack, wiring: LokiWiring): Record<string, unknown> {
  const { spec } = stack;
  const { dataDir, objectStore } = wiring;
  const retention = parseDurationMs(spec.retention) > 0;
  const cacheMb = embeddedCacheMb(stack);
  const tls = wiring.grpcTls;
  const clientOf = (peer: TlsPeer) => (tls ? { grpc_client_config: grpcClientTls(tls, peer) } : {});
  const schedulerAddress = wiring.schedulerAddress ? { scheduler_address: wiring.schedulerAddress } : {};
  const periods = stackSchemaPeriods(stack);
  const indexGatewayClient = {
    ...(wiring.indexGatewayAddress ? { server_address: wiring.indexGatewayAddress } : {}),
    ...clientOf('indexGateway'),
  };
  const storageConfig = {
    // Loki after 3.7 switches to the Thanos clients by default; keep reading `common.storage` either way.
    use_thanos_objstore: false,
    tsdb_shipper: {
      active_index_directory: `${dataDir}/tsdb-index`,
      cache_location: `${dataDir}/tsdb-cache`,
      index_gateway_client: indexGatewayClient,
    },
    // Loki 3 still reads (and compacts) the index of older boltdb-shipper periods, through the same gateways.
    ...(periods.some((period) => period.store === 'boltdb-shipper')
      ? {
          boltdb_shipper: {
            active_index_directory: `${dataDir}/boltdb-index`,
            cache_location: `${dataDir}/boltdb-cache`,
            index_gateway_client: indexGatewayClient,
          },
        }
      : {}),
  };
  // Structured metadata needs the period in effect to be tsdb v13 (Loki refuses to start otherwise): a stack
  // adopting an older bucket gets it when its tsdb v13 period has started, at the first apply after that.
  const { active } = activeSchemaPeriod(periods);
  const structuredMetadata = !active || (active.store === 'tsdb' && active.version === 'v13');

  return {
    auth_enabled: spec.auth.enabled,
    server: {
      http_listen_port: wiring.listen.http,
      grpc_listen_port: wiring.listen.grpc,
      log_level: 'info',
      grpc_server_max_recv_msg_size: GRPC_MAX_MESSAGE_BYTES,
      grpc_server_max_send_msg_size: GRPC_MAX_MESSAGE_BYTES,
      ...(tls ? { grpc_tls_config: grpcServerTls(tls) } : {}),
    },
    common: {
      path_prefix: dataDir,
      replication_factor: spec.replicationFactor,
      compactor_address: wiring.compactorAddress,
      ...(wiring.instanceAddr ? { instance_addr: wiring.instanceAddr } : {}),
      // Loki copies common.ring's zone settings into every ring, over the ring's own: they are set here, and each
      // zone's ingesters name their zone with the common ring's flag (-common.storage.ring.instance-availability-zone).
      ring: spec.zoneAwareness.enabled ? { ...wiring.ring, zone_awareness_enabled: true } : wiring.ring,
      storage: wiring.storage,
    },
    // Gossip goes over memberlist's TCP transport (Loki's only one), with the same TLS keys as a gRPC client.
    ...(wiring.memberlist
      ? { memberlist: { ...wiring.memberlist, ...(tls ? grpcClientTls(tls, 'memberlist') : {}) } }
      : {}),
    schema_config: {
      configs: periods.map((period) => ({
        from: period.from,
        store: period.store,
        object_store: objectStore,
        schema: period.version,
        index: { prefix: period.indexPrefix, period: '24h' },
      })),
    },
    storage_config: storageConfig,
    index_gateway: { mode: wiring.indexGatewayAddress ? 'simple' : 'ring' },
    ...(tls ? { ingester_client: clientOf('ingester'), compactor_grpc_client: grpcClientTls(tls, 'compactor') } : {}),
    ingester: {
      lifecycler: { min_ready_duration: STARTUP[stack.spec.profile].ingesterMinReadyDuration },
      wal: {
        enabled: true,
        dir: `${dataDir}/wal`,
        flush_on_shutdown: true,
        replay_memory_ceiling: replayMemoryCeiling(stack),
      },
      chunk_idle_period: '30m',
      max_chunk_age: '2h',
      chunk_target_size: CHUNK_TARGET_SIZE_BYTES,
    },
    frontend: {
      ...schedulerAddress,
      tail_proxy_url: wiring.tailProxyUrl,
      compress_responses: true,
      log_queries_longer_than: '5s',
      // The query-frontend dials the query-schedulers.
      ...clientOf('queryScheduler'),
    },
    frontend_worker: {
      ...schedulerAddress,
      ...(tls
        ? {
            query_frontend_grpc_client: grpcClientTls(tls, 'queryFrontend'),
            query_scheduler_grpc_client: grpcClientTls(tls, 'queryScheduler'),
          }
        : {}),
    },
    // Written only when it differs from Loki's default (4), so that existing stacks' pods do not roll for it.
    ...(stack.spec.components.querier.maxConcurrent === LOKI_MAX_CONCURRENT
      ? {}
      : { querier: { max_concurrent: stack.spec.components.querier.maxConcurrent } }),
    query_scheduler: {
      // The default of 100 rejects sharded queries with "too many outstanding requests".
      max_outstanding_requests_per_tenant: 32_768,
      ...(wiring.schedulerAddress ? {} : { use_scheduler_ring: true }),
      // The query-scheduler reports errors back to the query-frontends.
      ...clientOf('queryFrontend'),
    },
    query_range: {
      align_queries_with_step: true,
      cache_results: true,
      results_cache: { cache: lokiCacheConfig(stack, 'results', wiring.cacheAddresses, cacheMb) },
    },
    chunk_store_config: {
      chunk_cache_config: lokiCacheConfig(stack, 'chunks', wiring.cacheAddresses, cacheMb),
    },
    compactor: {
      working_directory: `${dataDir}/compactor`,
      compaction_interval: '10m',
      // Also what enables the log deletion API; with no retention_period nothing expires.
      retention_enabled: true,
      retention_delete_delay: '2h',
      delete_request_store: objectStore,
    },
    limits_config: {
      ...limitsConfig(spec.limits),
      reject_old_samples: true,
      allow_structured_metadata: structuredMetadata,
      volume_enabled: true,
      ...(retention ? { retention_period: spec.retention } : {}),
      ...(spec.retentionStreams.length > 0 ? { retention_stream: retentionStream(spec.retentionStreams) } : {}),
    },
    // Per-tenant overrides (spec.overrides), re-read every period: a change restarts no component.
    runtime_config: { file: wiring.runtimeConfigFile, period: RUNTIME_CONFIG_PERIOD },
    ...(spec.components.ruler.enabled
      ? {
          ruler: {
            enable_api: true,
            enable_sharding: true,
            rule_path: `${dataDir}/rules-temp`,
            wal: { dir: `${dataDir}/ruler-wal` },
            // Declared rules are files the ruler re-reads every poll_interval; without them, rules set through
            // the API are kept on the object store.
            ...(readsLocalRules(stack) ? { storage: { type: 'local', local: { directory: wiring.rulesDir } } } : {}),
            ...(spec.rules.remoteWrite ? { remote_write: remoteWrite(spec.rules.remoteWrite) } : {}),
            ...(spec.components.ruler.alertmanagerUrl
              ? { alertmanager_url: spec.components.ruler.alertmanagerUrl }
              : {}),
            ...(tls ? { ruler_client: grpcClientTls(tls, 'ruler') } : {}),
          },
        }
      : {}),
    // Enabling it is all distributors (their tee) and queriers need: both find pattern ingesters in its own ring.
    ...(isDeployed(stack, 'patternIngester')
      ? {
          pattern_ingester: {
            enabled: true,
            lifecycler: { min_ready_duration: STARTUP[stack.spec.profile].ingesterMinReadyDuration },
            ...(tls ? { client_config: clientOf('patternIngester') } : {}),
          },
        }
      : {}),
    analytics: { reporting_enabled: false },
  };
}

/** Recording rules' samples go to one Prometheus remote-write client; header values come from the environment. */
function remoteWrite(config: NonNullable<LokiStack['spec']['rules']['remoteWrite']>): Record<string, unknown> {
  const headers = Object.keys(config.headers).map((name, index) => [name, `\${${remoteWriteHeaderEnv(index)}:-}`]);
  return {
    enabled: true,
    clients: {
      default: { url: config.url, ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}) },
    },
  };
}

function grpcServerTls(tls: GrpcTlsFiles): Record<string, unknown> {
  return {
    cert_file: tls.certFile,
    key_file: tls.keyFile,
    client_ca_file: tls.caFile,
    client_auth_type: 'RequireAndVerifyClientCert',
  };
}

/** A gRPC client block presenting the component's certificate and verifying the peer's against the CA. */
export function grpcClientTls(tls: GrpcTlsFiles, peer: TlsPeer): Record<string, unknown> {
  return {
    tls_enabled: true,
    tls_cert_path: tls.certFile,
    tls_key_path: tls.keyFile,
    tls_ca_path: tls.caFile,
    tls_server_name: tls.serverNames[peer],
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

/** A string value Loki takes from the environment at start-up (-config.expand-env), empty when unset. */
const STRING_FROM_ENV = /^\$\{[A-Z][A-Z0-9_]*:-\}$/;

/**
 * The config as YAML text. Loki expands `${VAR}` in the text before parsing it, so a value with YAML's own
 * characters (`#`, `: `, `*`, `%`, a leading quote…) would change the document: each string placeholder is
 * single-quoted, which carries any value but one with a single quote or a line break (refused where we see
 * the value).
 */
export function lokiConfigText(config: Record<string, unknown>): string {
  const document = new Document(config, { aliasDuplicateObjects: false, sortMapEntries: true });
  visit(document, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'string' && STRING_FROM_ENV.test(node.value))
        node.type = 'QUOTE_SINGLE';
    },
  });
  return document.toString({ lineWidth: 0 });
}
