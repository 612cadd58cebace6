// spec.caches.type memcached: `<name>-chunks-cache` and `<name>-results-cache`, each a StatefulSet of memcached
// pods (stable names for consistent hashing), a headless Service whose named port Loki finds by DNS SRV, and a
// PodDisruptionBudget. Memcached keeps items in memory only: no volume, a read-only root filesystem.
import type {
  KubernetesObject,
  V1Container,
  V1PodDisruptionBudget,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { LokiStack } from '../../../spec/schema.js';
import {
  cacheComponent,
  MEMCACHED_EXPORTER_IMAGE,
  MEMCACHED_EXPORTER_PORT,
  MEMCACHED_PORT,
  memcachedArgs,
  memcachedImage,
  memcachedSizing,
  renderedCaches,
  type CacheAddresses,
  type CacheName,
} from '../../../stack/caches.js';
import {
  hardenedContainer,
  imagePullSecrets,
  metadata,
  objectLabels,
  placement,
  podSecurityContext,
  selectorLabels,
  serviceHost,
} from '../common.js';

/** The official memcached image's `memcache` user. */
const MEMCACHE_ID = 11211;

export const cacheName = (stack: LokiStack, cache: CacheName) => `${stack.metadata.name}-${cacheComponent(cache)}`;

/** Every pod of the cache's headless Service, by the SRV record of its named port; memcached lists ready pods only. */
export function kubernetesCacheAddresses(stack: LokiStack): CacheAddresses | undefined {
  if (renderedCaches(stack).length === 0) return undefined;
  const address = (cache: CacheName) =>
    `dnssrvnoa+_${MEMCACHED_PORT.name}._tcp.${serviceHost(stack, cacheName(stack, cache))}`;
  return { chunks: address('chunks'), results: address('results') };
}

export function caches(stack: LokiStack): KubernetesObject[] {
  return renderedCaches(stack).flatMap((cache) => [
    service(stack, cache),
    statefulSet(stack, cache),
    ...(memcachedSizing(stack, cache).replicas > 1 ? [podDisruptionBudget(stack, cache)] : []),
  ]);
}

function service(stack: LokiStack, cache: CacheName): V1Service {
  const component = cacheComponent(cache);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(stack, cacheName(stack, cache), component),
    spec: {
      clusterIP: 'None',
      selector: selectorLabels(stack, component),
      ports: [
        { name: MEMCACHED_PORT.name, port: MEMCACHED_PORT.port, targetPort: MEMCACHED_PORT.name, protocol: 'TCP' },
      ],
    },
  };
}

function statefulSet(stack: LokiStack, cache: CacheName): V1StatefulSet {
  const component = cacheComponent(cache);
  const sizing = memcachedSizing(stack, cache);
  const probe = { tcpSocket: { port: MEMCACHED_PORT.name }, periodSeconds: 10, timeoutSeconds: 2 };
  const memcached: V1Container = hardenedContainer(stack, {
    name: 'memcached',
    image: memcachedImage(stack),
    args: memcachedArgs(sizing, `${MEMCACHED_PORT.port}`),
    ports: [{ name: MEMCACHED_PORT.name, containerPort: MEMCACHED_PORT.port, protocol: 'TCP' }],
    // Request = limit: memcached grows to -m and stays there, so the scheduler reserves what it will use.
    resources: {
      requests: { cpu: '100m', memory: sizing.containerMemory },
      limits: { memory: sizing.containerMemory },
    },
    readinessProbe: { ...probe, initialDelaySeconds: 2, failureThreshold: 3 },
    livenessProbe: { ...probe, initialDelaySeconds: 10, failureThreshold: 6 },
  });
  const exporter: V1Container = hardenedContainer(stack, {
    name: 'exporter',
    image: MEMCACHED_EXPORTER_IMAGE,
    args: [
      `--memcached.address=localhost:${MEMCACHED_PORT.port}`,
      `--web.listen-address=:${MEMCACHED_EXPORTER_PORT.port}`,
    ],
    ports: [{ name: MEMCACHED_EXPORTER_PORT.name, containerPort: MEMCACHED_EXPORTER_PORT.port, protocol: 'TCP' }],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(stack, cacheName(stack, cache), component),
    spec: {
      replicas: sizing.replicas,
      revisionHistoryLimit: 5,
      serviceName: cacheName(stack, cache),
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      selector: { matchLabels: selectorLabels(stack, component) },
      template: {
        metadata: { labels: objectLabels(stack, component) },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(MEMCACHE_ID),
          ...imagePullSecrets(stack),
          ...placement(stack, component),
          containers: [memcached, ...(stack.spec.monitoring.enabled ? [exporter] : [])],
        },
      },
    },
  };
}

function podDisruptionBudget(stack: LokiStack, cache: CacheName): V1PodDisruptionBudget {
  const component = cacheComponent(cache);
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(stack, cacheName(stack, cache), component),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(stack, component) } },
  };
}
