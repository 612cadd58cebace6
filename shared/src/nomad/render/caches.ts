// spec.caches.type memcached on Nomad: a group per cache (`chunks-cache`, `results-cache`) running memcached on
// a dynamic port, registered as `<name>-chunks-cache` / `<name>-results-cache` with a TCP check. Loki's config
// lists every registered instance from the catalog (a template range), so consistent hashing sees them all.
import type { LokiStack } from '../../spec/schema.js';
import {
  cacheComponent,
  MEMCACHED_PORT,
  memcachedArgs,
  memcachedImage,
  memcachedSizing,
  renderedCaches,
  type CacheAddresses,
  type CacheName,
} from '../../stack/caches.js';
import { attributes, block, interpolated, mapBlock, type HclBlock } from './hcl.js';
import { catalogLookup, jobMeta, mebibytes } from './common.js';

/** The port label of a cache group: memcached listens on what Nomad gives it. */
const PORT_LABEL = MEMCACHED_PORT.name;

export const cacheServiceName = (stack: LokiStack, cache: CacheName) =>
  `${stack.metadata.name}-${cacheComponent(cache)}`;

/** consul-template text listing every registered instance of the cache as `host:port,host:port`. */
export function nomadCacheAddresses(stack: LokiStack): CacheAddresses | undefined {
  if (renderedCaches(stack).length === 0) return undefined;
  const every = (cache: CacheName) =>
    `{{ range $index, $instance := ${catalogLookup(stack, cacheServiceName(stack, cache))} }}` +
    '{{ if $index }},{{ end }}{{ .Address }}:{{ .Port }}{{ end }}';
  return { chunks: every('chunks'), results: every('results') };
}

export function cacheGroups(stack: LokiStack): HclBlock[] {
  return renderedCaches(stack).map((cache) => cacheGroup(stack, cache));
}

function cacheGroup(stack: LokiStack, cache: CacheName): HclBlock {
  const component = cacheComponent(cache);
  const sizing = memcachedSizing(stack, cache);
  return block(
    'group',
    [component],
    attributes({ count: sizing.replicas }),
    // Nomad replaces allocations whose merged meta changes: the group's own loki_version masks the job's, so a
    // Loki upgrade leaves memcached running, contents included.
    mapBlock('meta', { ...jobMeta(stack), loki_version: 'none' }),
    sizing.replicas > 1 &&
      block('spread', [], attributes({ attribute: interpolated('${node.unique.id}'), weight: 50 })),
    block('network', [], block('port', [PORT_LABEL])),
    block(
      'service',
      [],
      attributes({
        name: cacheServiceName(stack, cache),
        provider: stack.spec.nomad.serviceProvider,
        port: PORT_LABEL,
        tags: ['memcached', component],
      }),
      mapBlock('meta', { alloc_id: interpolated('${NOMAD_ALLOC_ID}'), component }),
      block('check', [], attributes({ name: 'alive', type: 'tcp', interval: '10s', timeout: '2s' })),
    ),
    block(
      'task',
      ['memcached'],
      attributes({ driver: 'docker' }),
      block(
        'config',
        [],
        attributes({
          image: memcachedImage(stack),
          ports: [PORT_LABEL],
          args: memcachedArgs(sizing, interpolated(`\${NOMAD_PORT_${PORT_LABEL}}`)),
        }),
      ),
      block('resources', [], attributes({ cpu: 100, memory: mebibytes(sizing.containerMemory) })),
    ),
  );
}
