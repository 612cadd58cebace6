// The Loki configuration on Nomad. Ports are dynamic, so Loki listens on and advertises the ones Nomad
// gave the allocation (NOMAD_PORT_*, NOMAD_IP_*, expanded by -config.expand-env). Components find each
// other through rings rather than DNS names: the query-schedulers and index-gateways join rings too, so
// neither needs a static port or Consul DNS inside containers. Rings live in Consul KV when services are
// in Consul (memberlist would advertise container addresses under Nomad's port mapping), and gossip over
// memberlist with an explicit advertise address when only Nomad's service discovery is available. The two
// HTTP addresses Loki needs (compactor, tail proxy) come from the service catalog through the template.
import type { LokiStack } from '../../spec/schema.js';
import { commonStorageConfig, lokiObjectStore } from '../../stack/object-store.js';
import { lokiConfig, lokiConfigText, TLS_PEERS, type GrpcTlsFiles, type LokiWiring } from '../../stack/loki-config.js';
import { nomadCacheAddresses } from './caches.js';
import {
  catalogLookup,
  CSI_DATA_DIR,
  memberlistServiceName,
  PORT_LABELS,
  runtimePath,
  serviceName,
  TASK_PATHS,
  usesMemberlist,
} from './common.js';

/** Environment of every task that Loki's config refers to (set in the job's `env` block). */
export const CONSUL_ENV = { address: 'CONSUL_HTTP_ADDR', token: 'CONSUL_HTTP_TOKEN' } as const;

/** The certificate files rendered by the Vault PKI templates, at their run-time paths. */
export function tlsFiles(stack: LokiStack): GrpcTlsFiles | undefined {
  const { tls } = stack.spec.nomad;
  if (!tls.enabled) return undefined;
  return {
    certFile: runtimePath(`${TASK_PATHS.tlsDir}/cert.pem`),
    keyFile: runtimePath(`${TASK_PATHS.tlsDir}/key.pem`),
    caFile: runtimePath(`${TASK_PATHS.tlsDir}/ca.pem`),
    // Vault issues one certificate for every task, under one name.
    serverNames: Object.fromEntries(
      TLS_PEERS.map((peer) => [peer, tlsServerName(stack)]),
    ) as GrpcTlsFiles['serverNames'],
  };
}

export const tlsServerName = (stack: LokiStack) =>
  stack.spec.nomad.tls.serverName ?? `${stack.metadata.name}.service.consul`;

/** consul-template: `host:port` of the first registered instance of a service, healthy or not; empty when none. */
export function firstInstance(stack: LokiStack, service: string, format: (hostPort: string) => string): string {
  return `{{ with ${catalogLookup(stack, service)} }}{{ with index . 0 }}${format('{{ .Address }}:{{ .Port }}')}{{ end }}{{ end }}`;
}

// Stands in for memberlist.join_members until the template text replaces it with a range over the catalog.
const JOIN_MEMBERS = '__JOIN_MEMBERS__';

export function nomadWiring(stack: LokiStack): LokiWiring {
  const port = (label: string) => `\${NOMAD_PORT_${label}}`;
  const { name, namespace } = stack.metadata;
  const gossip = usesMemberlist(stack);
  const grpcTls = tlsFiles(stack);
  const cacheAddresses = nomadCacheAddresses(stack);
  return {
    listen: { http: port(PORT_LABELS.http), grpc: port(PORT_LABELS.grpc) },
    dataDir: stack.spec.nomad.volumes === 'csi' ? CSI_DATA_DIR : '${NOMAD_ALLOC_DIR}/data',
    instanceAddr: `\${NOMAD_IP_${PORT_LABELS.grpc}}`,
    ring: gossip
      ? { kvstore: { store: 'memberlist' } }
      : {
          kvstore: {
            store: 'consul',
            // One stack's rings must not see another's in a shared Consul.
            prefix: `loki/${stack.spec.nomad.namespace}/${name}/`,
            consul: { host: `\${${CONSUL_ENV.address}}`, acl_token: `\${${CONSUL_ENV.token}:-}` },
          },
        },
    ...(gossip
      ? {
          memberlist: {
            join_members: JOIN_MEMBERS,
            bind_port: port(PORT_LABELS.gossip),
            advertise_addr: `\${NOMAD_IP_${PORT_LABELS.gossip}}`,
            advertise_port: port(PORT_LABELS.gossip),
            cluster_label: `${namespace}.${name}`,
          },
        }
      : {}),
    compactorAddress: firstInstance(stack, serviceName(stack, 'compactor'), (hostPort) => `http://${hostPort}`),
    tailProxyUrl: firstInstance(stack, serviceName(stack, 'querier'), (hostPort) => `http://${hostPort}`),
    storage: commonStorageConfig(stack, stack.spec.nomad.credentials !== undefined),
    objectStore: lokiObjectStore(stack),
    ...(grpcTls ? { grpcTls } : {}),
    runtimeConfigFile: runtimePath(TASK_PATHS.runtimeConfigFile),
    rulesDir: runtimePath(TASK_PATHS.rulesDir),
    ...(cacheAddresses ? { cacheAddresses } : {}),
  };
}

export function nomadLokiConfig(stack: LokiStack): Record<string, unknown> {
  return lokiConfig(stack, nomadWiring(stack));
}

/** The Loki config as the `data` of a Nomad template: YAML with consul-template actions for the catalog. */
export function nomadLokiConfigTemplate(stack: LokiStack): string {
  const yaml = lokiConfigText(nomadLokiConfig(stack));
  const lookup = catalogLookup(stack, memberlistServiceName(stack));
  return yaml.replace(
    new RegExp(`^( *)join_members: ${JOIN_MEMBERS}$`, 'm'),
    (_line, indent: string) =>
      `${indent}join_members:\n{{- range ${lookup} }}\n${indent}  - {{ .Address }}:{{ .Port }}\n{{- end }}`,
  );
}
