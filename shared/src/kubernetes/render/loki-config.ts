// The Loki configuration on Kubernetes: the shared config (../loki-config.ts) wired to the Services this
// renderer produces, and the ConfigMap that carries it. The cross-reference test holds every address to a
// rendered Service and port.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { LokiStack } from '../../spec/schema.js';
import { lokiConfig as buildLokiConfig, lokiConfigText, type LokiWiring } from '../../stack/loki-config.js';
import { RUNTIME_CONFIG_FILE, runtimeConfigText } from '../../stack/runtime-config.js';
import {
  checksum,
  configMapName,
  headlessName,
  memberlistName,
  metadata,
  objectName,
  PATHS,
  PORTS,
  runtimeConfigMapName,
  serviceHost,
} from './common.js';
import { commonStorageConfig, lokiObjectStore } from '../../stack/object-store.js';
import { bundledEndpoint, credentialsSecretName } from './storage.js';
import { tlsFiles } from './tls.js';
import { kubernetesCacheAddresses } from './components/caches.js';

/** How components find each other on Kubernetes: Services by cluster DNS name, rings over memberlist. */
export function kubernetesWiring(stack: LokiStack): LokiWiring {
  const grpcAddress = (service: string) => `${serviceHost(stack, service)}:${PORTS.grpc.port}`;
  const httpUrl = (service: string) => `http://${serviceHost(stack, service)}:${PORTS.http.port}`;
  const grpcTls = tlsFiles(stack);
  const cacheAddresses = kubernetesCacheAddresses(stack);
  return {
    listen: { http: PORTS.http.port, grpc: PORTS.grpc.port },
    dataDir: PATHS.data,
    ring: { kvstore: { store: 'memberlist' } },
    memberlist: {
      join_members: [`dns+${serviceHost(stack, memberlistName(stack))}:${PORTS.gossip.port}`],
      bind_port: PORTS.gossip.port,
      // Gossip from another stack (a neighbour namespace, a stale pod IP) is rejected instead of merged.
      cluster_label: `${stack.metadata.namespace}.${stack.metadata.name}`,
    },
    compactorAddress: httpUrl(objectName(stack, 'compactor')),
    tailProxyUrl: httpUrl(objectName(stack, 'querier')),
    // Frontends and querier workers resolve every scheduler pod through the headless Service.
    schedulerAddress: grpcAddress(headlessName(stack, 'queryScheduler')),
    // dns:/// makes the gRPC client balance over every gateway pod.
    indexGatewayAddress: `dns:///${grpcAddress(headlessName(stack, 'indexGateway'))}`,
    storage: commonStorageConfig(stack, credentialsSecretName(stack) !== undefined, bundledEndpoint(stack)),
    objectStore: lokiObjectStore(stack),
    ...(grpcTls ? { grpcTls } : {}),
    runtimeConfigFile: `${PATHS.runtimeConfigDir}/${RUNTIME_CONFIG_FILE}`,
    rulesDir: PATHS.rulesDir,
    ...(cacheAddresses ? { cacheAddresses } : {}),
  };
}

export function lokiConfig(stack: LokiStack): Record<string, unknown> {
  return buildLokiConfig(stack, kubernetesWiring(stack));
}

export function lokiConfigYaml(stack: LokiStack): string {
  return lokiConfigText(lokiConfig(stack));
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
 * Per-tenant overrides, always rendered (`overrides: {}` without any) so that every pod can mount it. Mounted
 * as a directory (not subPath), the kubelet updates the file in place and Loki re-reads it; it is not part of
 * the config hash, so a change restarts no pod.
 */
export function runtimeConfigMap(stack: LokiStack): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(stack, runtimeConfigMapName(stack)),
    data: { [RUNTIME_CONFIG_FILE]: runtimeConfigText(stack) },
  };
}
