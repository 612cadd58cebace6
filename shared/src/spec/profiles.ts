// Size presets. Each is a partial spec in the same shape users write; the user's input is merged over it,
// so any field given explicitly wins. `demo` must fit a single-node kind cluster: the requests of all its
// pods (object store included) add up to 0.7 CPU and 1.56 GiB, under the 1.5 CPU / 3 GiB budget.
import type { ComponentName } from './components.js';
import type { CacheType, ProfileName, Resources } from './schema.js';

interface ComponentPreset {
  replicas: number;
  resources: Resources;
  storage?: { size: string };
}

export interface ProfilePreset {
  replicationFactor: number;
  /** Storage type when the user names none; production makes the user choose. */
  storageType?: 'bundled';
  scheduling: { antiAffinity: 'soft'; zoneSpread: boolean };
  components: Record<ComponentName, ComponentPreset & { enabled?: boolean }>;
  /** The gateway's size, used when spec.gateway.enabled. */
  gateway: ComponentPreset;
  /** The cache type, and the memcached sizes used when the caches are memcached (the profile's or the user's choice). */
  caches: { type: CacheType; memcached: MemcachedPreset };
}

interface MemcachedPreset {
  chunks: { replicas: number; memory: string; maxItemSize: string };
  results: { replicas: number; memory: string };
}

const res = (cpu: string, memory: string, memoryLimit: string): Resources => ({
  requests: { cpu, memory },
  limits: { memory: memoryLimit },
});

export const PROFILE_PRESETS: Record<ProfileName, ProfilePreset> = {
  demo: {
    replicationFactor: 1,
    storageType: 'bundled',
    scheduling: { antiAffinity: 'soft', zoneSpread: false },
    components: {
      distributor: { replicas: 1, resources: res('100m', '128Mi', '512Mi') },
      ingester: { replicas: 1, resources: res('150m', '384Mi', '1Gi'), storage: { size: '2Gi' } },
      querier: { replicas: 1, resources: res('100m', '256Mi', '1Gi') },
      queryFrontend: { replicas: 1, resources: res('50m', '128Mi', '512Mi') },
      queryScheduler: { replicas: 1, resources: res('50m', '64Mi', '256Mi') },
      indexGateway: { replicas: 1, resources: res('50m', '128Mi', '512Mi'), storage: { size: '1Gi' } },
      compactor: { replicas: 1, resources: res('50m', '128Mi', '512Mi'), storage: { size: '1Gi' } },
      ruler: { replicas: 1, enabled: true, resources: res('50m', '128Mi', '512Mi'), storage: { size: '1Gi' } },
      patternIngester: {
        replicas: 1,
        enabled: false,
        resources: res('50m', '128Mi', '512Mi'),
        storage: { size: '1Gi' },
      },
    },
    gateway: { replicas: 1, resources: res('25m', '32Mi', '128Mi') },
    caches: {
      type: 'embedded',
      memcached: {
        chunks: { replicas: 1, memory: '128Mi', maxItemSize: '4Mi' },
        results: { replicas: 1, memory: '64Mi' },
      },
    },
  },
  small: {
    replicationFactor: 3,
    storageType: 'bundled',
    scheduling: { antiAffinity: 'soft', zoneSpread: false },
    components: {
      distributor: { replicas: 2, resources: res('100m', '256Mi', '1Gi') },
      ingester: { replicas: 3, resources: res('250m', '512Mi', '2Gi'), storage: { size: '10Gi' } },
      querier: { replicas: 2, resources: res('200m', '512Mi', '2Gi') },
      queryFrontend: { replicas: 2, resources: res('100m', '128Mi', '512Mi') },
      queryScheduler: { replicas: 2, resources: res('50m', '128Mi', '256Mi') },
      indexGateway: { replicas: 2, resources: res('100m', '256Mi', '1Gi'), storage: { size: '5Gi' } },
      compactor: { replicas: 1, resources: res('100m', '256Mi', '1Gi'), storage: { size: '5Gi' } },
      ruler: { replicas: 1, enabled: true, resources: res('100m', '256Mi', '1Gi'), storage: { size: '5Gi' } },
      patternIngester: { replicas: 1, enabled: true, resources: res('100m', '256Mi', '1Gi'), storage: { size: '1Gi' } },
    },
    gateway: { replicas: 2, resources: res('50m', '64Mi', '256Mi') },
    caches: {
      type: 'embedded',
      memcached: {
        chunks: { replicas: 2, memory: '512Mi', maxItemSize: '4Mi' },
        results: { replicas: 2, memory: '256Mi' },
      },
    },
  },
  production: {
    replicationFactor: 3,
    scheduling: { antiAffinity: 'soft', zoneSpread: true },
    components: {
      distributor: { replicas: 3, resources: res('500m', '1Gi', '2Gi') },
      ingester: { replicas: 3, resources: res('1', '4Gi', '8Gi'), storage: { size: '50Gi' } },
      querier: { replicas: 3, resources: res('1', '2Gi', '4Gi') },
      queryFrontend: { replicas: 2, resources: res('250m', '512Mi', '1Gi') },
      queryScheduler: { replicas: 2, resources: res('100m', '256Mi', '512Mi') },
      indexGateway: { replicas: 2, resources: res('500m', '1Gi', '2Gi'), storage: { size: '50Gi' } },
      compactor: { replicas: 1, resources: res('500m', '2Gi', '4Gi'), storage: { size: '20Gi' } },
      ruler: { replicas: 2, enabled: true, resources: res('250m', '512Mi', '2Gi'), storage: { size: '10Gi' } },
      patternIngester: { replicas: 2, enabled: true, resources: res('250m', '512Mi', '2Gi'), storage: { size: '5Gi' } },
    },
    gateway: { replicas: 2, resources: res('100m', '128Mi', '512Mi') },
    // 3 queriers and 2 query-frontends share these instead of a private embedded cache each.
    caches: {
      type: 'memcached',
      memcached: {
        chunks: { replicas: 3, memory: '2Gi', maxItemSize: '4Mi' },
        results: { replicas: 2, memory: '512Mi' },
      },
    },
  },
};

/** The preset as a partial spec document, ready to have the user's input merged over it. */
export function presetDocument(profile: ProfileName): Record<string, unknown> {
  const preset = PROFILE_PRESETS[profile];
  return {
    spec: {
      replicationFactor: preset.replicationFactor,
      scheduling: preset.scheduling,
      components: preset.components,
      gateway: preset.gateway,
      caches: { type: preset.caches.type },
      ...(preset.storageType ? { storage: { type: preset.storageType } } : {}),
    },
  };
}

/** The profile's memcached sizes, for a document whose caches are memcached: the user's fields merge over them. */
export function memcachedPreset(profile: ProfileName): MemcachedPreset {
  return PROFILE_PRESETS[profile].caches.memcached;
}
