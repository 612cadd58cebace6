// NetworkPolicies of a stack (spec.networkPolicy): every pod of the stack denies all traffic by default,
// then each policy opens one flow the stack needs: gRPC between Loki components, memberlist among ring
// members, HTTP from the query path to the compactor and queriers, the object store, DNS, and the entry
// points (push on the distributor, queries on the query-frontend; or the gateway, which alone reaches them)
// for the sources the user allows, and an exposed gateway's ingress controller.
// Kubelet probes are not subject to NetworkPolicy on the common CNIs.
import type {
  KubernetesObject,
  V1LabelSelector,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
} from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName } from '../../spec/components.js';
import type { LokiStack } from '../../spec/schema.js';
import { MANAGER } from '../../stack/names.js';
import { GATEWAY, MEMBERLIST_LABEL, metadata, OBJECT_STORE, PORTS } from './common.js';
import { GATEWAY_PORT, gatewayUpstreams } from './gateway-config.js';
import {
  CACHE_NAMES,
  CACHE_USERS,
  cacheComponent,
  MEMCACHED_EXPORTER_PORT,
  MEMCACHED_PORT,
  renderedCaches,
  type CacheName,
} from '../../stack/caches.js';
import { discoveryEnabled } from './rules-discovery.js';

const COMPONENT_LABEL = 'app.kubernetes.io/component';

// The Kubernetes JSON shape: client-node's V1NetworkPolicyIngressRule names `from` `_from` (apply.ts
// translates for it), and rendered YAML must say `from`.
interface IngressRule {
  from?: V1NetworkPolicyPeer[];
  ports?: V1NetworkPolicyPort[];
}

interface NetworkPolicySpec {
  podSelector: V1LabelSelector;
  policyTypes: ('Ingress' | 'Egress')[];
  ingress?: IngressRule[];
  egress?: V1NetworkPolicyEgressRule[];
}

export interface NetworkPolicy extends KubernetesObject {
  spec: NetworkPolicySpec;
}

const tcp = (...ports: number[]): V1NetworkPolicyPort[] => ports.map((port) => ({ protocol: 'TCP', port }));

/** Every pod of the stack, the bundled object store included. */
export const stackPods = (stack: LokiStack): V1LabelSelector => ({
  matchLabels: { 'app.kubernetes.io/instance': stack.metadata.name, 'app.kubernetes.io/managed-by': MANAGER },
});

const lokiPods = (stack: LokiStack): V1LabelSelector => ({
  matchLabels: { ...stackPods(stack).matchLabels, 'app.kubernetes.io/name': 'loki' },
});

const componentPods = (stack: LokiStack, components: string[]): V1LabelSelector => ({
  ...lokiPods(stack),
  matchExpressions: [{ key: COMPONENT_LABEL, operator: 'In', values: components }],
});

const targets = (names: ComponentName[]) => names.map((name) => COMPONENTS[name].target);
const STORAGE_COMPONENTS = (Object.keys(COMPONENTS) as ComponentName[]).filter((name) => COMPONENTS[name].objectStore);

function policy(stack: LokiStack, suffix: string, spec: NetworkPolicySpec): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(stack, `${stack.metadata.name}-${suffix}`),
    spec,
  };
}

export function networkPolicies(stack: LokiStack): NetworkPolicy[] {
  const { networkPolicy } = stack.spec;
  if (!networkPolicy.enabled) return [];
  const loki: V1NetworkPolicyPeer = { podSelector: lokiPods(stack) };
  const ringMembers: V1NetworkPolicyPeer = {
    podSelector: { matchLabels: { ...stackPods(stack).matchLabels, [MEMBERLIST_LABEL]: 'true' } },
  };
  const httpServers: V1NetworkPolicyPeer = { podSelector: componentPods(stack, targets(['compactor', 'querier'])) };
  return [
    policy(stack, 'default-deny', { podSelector: stackPods(stack), policyTypes: ['Ingress', 'Egress'] }),
    policy(stack, 'dns', {
      podSelector: stackPods(stack),
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ protocol: 'UDP', port: 53 }, ...tcp(53)],
        },
      ],
    }),
    // Any Loki component may call any other over gRPC (rings hand out pod addresses), and the query
    // path calls the compactor (deletes) and the queriers (tail) over HTTP.
    policy(stack, 'grpc', {
      podSelector: lokiPods(stack),
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [loki], ports: tcp(PORTS.grpc.port) }],
      egress: [
        { to: [loki], ports: tcp(PORTS.grpc.port) },
        { to: [httpServers], ports: tcp(PORTS.http.port) },
      ],
    }),
    policy(stack, 'http-internal', {
      podSelector: httpServers.podSelector!,
      policyTypes: ['Ingress'],
      ingress: [{ from: [loki], ports: tcp(PORTS.http.port) }],
    }),
    policy(stack, 'memberlist', {
      podSelector: ringMembers.podSelector!,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [ringMembers], ports: tcp(PORTS.gossip.port) }],
      egress: [{ to: [ringMembers], ports: tcp(PORTS.gossip.port) }],
    }),
    ...(stack.spec.gateway.enabled
      ? gatewayPolicies(stack)
      : [
          policy(stack, 'entrypoints', {
            podSelector: componentPods(stack, targets(['distributor', 'queryFrontend'])),
            policyTypes: ['Ingress'],
            ingress: [
              { ...(networkPolicy.allowFrom ? { from: networkPolicy.allowFrom } : {}), ports: tcp(PORTS.http.port) },
            ],
          }),
        ]),
    ...(networkPolicy.allowMetricsFrom.length > 0
      ? [
          policy(stack, 'metrics', {
            podSelector: lokiPods(stack),
            policyTypes: ['Ingress'],
            ingress: [{ from: networkPolicy.allowMetricsFrom, ports: tcp(PORTS.http.port) }],
          }),
        ]
      : []),
    ...objectStorePolicies(stack),
    ...rulerEgressPolicies(stack),
    ...renderedCaches(stack).flatMap((cache) => cachePolicies(stack, cache)),
    ...externalCachePolicies(stack),
  ];
}

/** Only the Loki components that use a cache reach it (CACHE_USERS); its exporter only from allowMetricsFrom. */
function cachePolicies(stack: LokiStack, cache: CacheName): NetworkPolicy[] {
  const { allowMetricsFrom } = stack.spec.networkPolicy;
  const servers: V1LabelSelector = {
    matchLabels: { ...stackPods(stack).matchLabels, [COMPONENT_LABEL]: cacheComponent(cache) },
  };
  const clients = componentPods(stack, targets(CACHE_USERS[cache]));
  const scraped = stack.spec.monitoring.enabled && allowMetricsFrom.length > 0;
  return [
    policy(stack, cacheComponent(cache), {
      podSelector: servers,
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: clients }], ports: tcp(MEMCACHED_PORT.port) },
        ...(scraped ? [{ from: allowMetricsFrom, ports: tcp(MEMCACHED_EXPORTER_PORT.port) }] : []),
      ],
    }),
    policy(stack, `${cacheComponent(cache)}-egress`, {
      podSelector: clients,
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: servers }], ports: tcp(MEMCACHED_PORT.port) }],
    }),
  ];
}

/** External caches: each cache's users may reach any address on its ports (11211 for a DNS SRV address). */
function externalCachePolicies(stack: LokiStack): NetworkPolicy[] {
  const { caches } = stack.spec;
  if (caches.type !== 'external') return [];
  const portsOf = (addresses: string) =>
    addresses.split(',').map((address) => Number(/:(\d+)$/.exec(address)?.[1] ?? MEMCACHED_PORT.port));
  return CACHE_NAMES.map((cache) =>
    policy(stack, `${cacheComponent(cache)}-egress`, {
      podSelector: componentPods(stack, targets(CACHE_USERS[cache])),
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }],
          ports: tcp(...new Set(portsOf(caches.external![cache]))),
        },
      ],
    }),
  );
}

/** With the gateway, clients (`allowFrom`) reach the gateway only, and only the gateway reaches Loki's APIs. */
function gatewayPolicies(stack: LokiStack): NetworkPolicy[] {
  const { allowFrom } = stack.spec.networkPolicy;
  const gatewayPods: V1LabelSelector = { matchLabels: { ...stackPods(stack).matchLabels, [COMPONENT_LABEL]: GATEWAY } };
  const upstreams: V1LabelSelector = componentPods(stack, targets(gatewayUpstreams(stack)));
  return [
    policy(stack, 'gateway', {
      podSelector: gatewayPods,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ...(allowFrom ? { from: allowFrom } : {}), ports: tcp(GATEWAY_PORT.port) }, ...exposedFrom(stack)],
      egress: [{ to: [{ podSelector: upstreams }], ports: tcp(PORTS.http.port) }],
    }),
    policy(stack, 'gateway-upstreams', {
      podSelector: upstreams,
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: gatewayPods }], ports: tcp(PORTS.http.port) }],
    }),
  ];
}

/** An exposed gateway: the pods of the ingress controller (or Gateway) in `controllerNamespace`, to the gateway only. */
function exposedFrom(stack: LokiStack): IngressRule[] {
  const namespace = stack.spec.gateway.expose?.controllerNamespace;
  if (!namespace) return [];
  const controller = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } };
  return [{ from: [controller], ports: tcp(GATEWAY_PORT.port) }];
}

/** Only the components that read or write the object store reach it (the bucket-creating init container included). */
function objectStorePolicies(stack: LokiStack): NetworkPolicy[] {
  const storageComponents = componentPods(stack, targets(STORAGE_COMPONENTS));
  const { storage } = stack.spec;
  if (storage.type === 'bundled') {
    const store: V1LabelSelector = {
      matchLabels: { ...stackPods(stack).matchLabels, [COMPONENT_LABEL]: OBJECT_STORE },
    };
    return [
      policy(stack, 'object-store', {
        podSelector: store,
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: storageComponents }], ports: tcp(PORTS.s3.port) }],
      }),
      policy(stack, 'object-store-egress', {
        podSelector: storageComponents,
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: store }], ports: tcp(PORTS.s3.port) }],
      }),
    ];
  }
  const anywhere: V1NetworkPolicyPeer[] = [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }];
  const egress = [{ to: anywhere, ports: tcp(...objectStorePorts(stack)) }];
  // GKE Workload Identity answers on the node's metadata server.
  if (storage.type === 'gcs' && !storage.gcs!.secretName)
    egress.push({ to: [{ ipBlock: { cidr: '169.254.169.254/32' } }], ports: tcp(80, 988) });
  return [policy(stack, 'object-store-egress', { podSelector: storageComponents, policyTypes: ['Egress'], egress })];
}

/** The port of the S3 endpoint (or 443 for the cloud APIs and identity endpoints). */
export function objectStorePorts(stack: LokiStack): number[] {
  const endpoint = stack.spec.storage.s3?.endpoint;
  if (stack.spec.storage.type !== 's3' || !endpoint) return [443];
  const match = /^(?:(https?):\/\/)?[^:/]+(?::(\d+))?/.exec(endpoint)!;
  const port = match[2] ? Number(match[2]) : match[1] === 'http' ? 80 : 443;
  // Credentials from the AWS chain (IRSA) are fetched from STS over HTTPS.
  return [...new Set([port, 443])];
}

/** The ruler's outside peers: Alertmanager, and the remote-write endpoint of recording rules. */
function rulerEgressPolicies(stack: LokiStack): NetworkPolicy[] {
  const { ruler } = stack.spec.components;
  if (!ruler.enabled) return [];
  const peers: [string, string | undefined][] = [
    ['alertmanager-egress', ruler.alertmanagerUrl],
    ['remote-write-egress', stack.spec.rules.remoteWrite?.url],
  ];
  const rulerPods = componentPods(stack, [COMPONENTS.ruler.target]);
  const peerPolicies = peers.flatMap(([suffix, address]) => {
    if (!address) return [];
    const url = new URL(address);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return [policy(stack, suffix, { podSelector: rulerPods, policyTypes: ['Egress'], egress: [{ ports: tcp(port) }] })];
  });
  // The discovery sidecar watches ConfigMaps through the API server, whose address a render cannot know (the
  // kubernetes Service's ClusterIP is rewritten to the servers' own addresses before policies apply on most
  // CNIs): its ports only, 443 for a managed control plane and 6443 for kubeadm's.
  const apiServer = discoveryEnabled(stack)
    ? [
        policy(stack, 'api-server-egress', {
          podSelector: rulerPods,
          policyTypes: ['Egress'],
          egress: [{ ports: tcp(443, 6443) }],
        }),
      ]
    : [];
  return [...peerPolicies, ...apiServer];
}
