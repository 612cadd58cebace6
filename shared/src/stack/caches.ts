// spec.caches on any platform: the two memcached caches (chunks, query results), who uses each, how big
// memcached runs, and the Loki cache blocks pointing at them. Each renderer supplies the addresses (Kubernetes:
// DNS SRV of a headless Service; Nomad: the service catalog) and renders the servers.
import type { ComponentName } from '../spec/components.js';
import { parseQuantity } from '../spec/quantity.js';
import { DEFAULT_MEMCACHED_IMAGE, type LokiStack } from '../spec/schema.js';
import type { CacheComponent } from './status-model.js';

export const CACHE_NAMES = ['chunks', 'results'] as const;
export type CacheName = (typeof CACHE_NAMES)[number];

/** The memcached client port, named as IANA names 11211; the exporter's metrics port. */
export const MEMCACHED_PORT = { name: 'memcache', port: 11211 } as const;
export const MEMCACHED_EXPORTER_PORT = { name: 'http-metrics', port: 9150 } as const;
/** prom/memcached-exporter runs as `nobody` and serves /metrics on 9150. */
export const MEMCACHED_EXPORTER_IMAGE = 'docker.io/prom/memcached-exporter:v0.15.4';

/**
 * The Loki targets that talk to each cache: ingesters write flushed chunks into the chunks cache (the chunk
 * store's PutOne writes back), queriers and rulers (which evaluate queries themselves) read it; only the
 * query-frontends read and write query results.
 */
export const CACHE_USERS: Record<CacheName, ComponentName[]> = {
  chunks: ['ingester', 'querier', 'ruler'],
  results: ['queryFrontend'],
};

/** The results cache's item limit: Loki's caching guide gives memcached `--max-item-size=5m` for it. */
const RESULTS_MAX_ITEM_BYTES = 5 * 2 ** 20;
/** Loki's memcached client keeps up to 16 idle connections per server (`max_idle_conns`). */
const CLIENT_IDLE_CONNECTIONS = 16;
const MiB = 2 ** 20;

/** The component label (and object-name suffix) of a cache's servers. */
export const cacheComponent = (cache: CacheName): CacheComponent => `${cache}-cache`;

/** The caches the stack runs itself: both with memcached, none otherwise. */
export function renderedCaches(stack: LokiStack): CacheName[] {
  return stack.spec.caches.type === 'memcached' ? [...CACHE_NAMES] : [];
}

/** How one memcached cache runs: pods, `-m` (MiB), `-I` (bytes), `-c`, and the container memory with headroom. */
export interface MemcachedSizing {
  replicas: number;
  memoryMb: number;
  maxItemBytes: number;
  connectionLimit: number;
  /** Request and limit of the memcached container: items plus a fifth for connections and slab overhead, at least 32Mi more. */
  containerMemory: string;
}

export function memcachedSizing(stack: LokiStack, cache: CacheName): MemcachedSizing {
  const { caches } = stack.spec;
  const spec = caches[cache]!;
  const memoryMb = Math.floor(parseQuantity(spec.memory) / MiB);
  const maxItemBytes =
    cache === 'chunks' ? Math.floor(parseQuantity(caches.chunks!.maxItemSize) / 1024) * 1024 : RESULTS_MAX_ITEM_BYTES;
  const clientPods = CACHE_USERS[cache]
    .filter((name) => name !== 'ruler' || stack.spec.components.ruler.enabled)
    .reduce((sum, name) => sum + stack.spec.components[name].replicas, 0);
  return {
    replicas: spec.replicas,
    memoryMb,
    maxItemBytes,
    // Loki's guide: at least clients × max_idle_conns; doubled for the connections of a rollout's new pods.
    connectionLimit: Math.max(1024, 2 * clientPods * CLIENT_IDLE_CONNECTIONS),
    containerMemory: `${memoryMb + Math.max(32, Math.ceil(memoryMb / 5))}Mi`,
  };
}

/** memcached's command line for a cache, listening on `port` (a number, or a variable the platform expands). */
export function memcachedArgs<Port>(sizing: MemcachedSizing, port: Port): (string | Port)[] {
  return [
    ...['-m', `${sizing.memoryMb}`],
    ...['-I', `${sizing.maxItemBytes / 1024}k`],
    ...['-c', `${sizing.connectionLimit}`],
    ...['-p', port],
  ];
}

export const memcachedImage = (stack: LokiStack) => stack.spec.caches.image ?? DEFAULT_MEMCACHED_IMAGE;

/** Where Loki finds each rendered cache: the platform's addresses (DNS SRV on Kubernetes, the catalog on Nomad). */
export type CacheAddresses = Record<CacheName, string>;

/**
 * The Loki `cache_config` of one cache: embedded (each process's own memory, `embeddedMb`) or a memcached
 * client with consistent hashing over the servers, and for rendered ones the item limit memcached runs with.
 */
export function lokiCacheConfig(
  stack: LokiStack,
  cache: CacheName,
  rendered: CacheAddresses | undefined,
  embeddedMb: number,
): Record<string, unknown> {
  const { caches } = stack.spec;
  if (caches.type === 'embedded') return { embedded_cache: { enabled: true, max_size_mb: embeddedMb } };
  const addresses = caches.type === 'external' ? caches.external! : rendered;
  if (!addresses) throw new Error('the platform renders memcached caches but gave Loki no address for them');
  return {
    memcached: { batch_size: 256, parallelism: 10 },
    memcached_client: {
      addresses: addresses[cache],
      consistent_hash: true,
      // Chunks are up to a few MiB: the 100ms default times out on them.
      timeout: cache === 'chunks' ? '2s' : '500ms',
      ...(caches.type === 'memcached' ? { max_item_size: memcachedSizing(stack, cache).maxItemBytes } : {}),
    },
  };
}
