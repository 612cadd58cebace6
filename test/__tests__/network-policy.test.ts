// spec.networkPolicy: the rendered NetworkPolicies evaluated as Kubernetes evaluates them (a connection
// passes when the source's egress and the destination's ingress both allow it; a pod no policy selects
// for a direction is open in that direction). Every flow the Loki config needs must pass, and the flows
// the stack does not need must not.
import type { KubernetesObject, V1LabelSelector } from '@kubernetes/client-node';
import { COMPONENTS, parseSpec, type ComponentName, type LokiStackInput } from 'loki-microservices';
import { gatewayUpstreams } from 'loki-microservices/testing';
import { render, workloads } from '../src/objects.js';
import { specMatrix } from '../src/specs.js';

interface Peer {
  podSelector?: V1LabelSelector;
  namespaceSelector?: V1LabelSelector;
  ipBlock?: { cidr: string };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { protocol?: string; port?: number }[];
}
interface Policy extends KubernetesObject {
  spec: { podSelector: V1LabelSelector; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] };
}

/** A pod (labels, namespace) or an address outside the cluster. */
type Endpoint = { labels: Record<string, string>; namespace: string } | { ip: string };

function selects(selector: V1LabelSelector, labels: Record<string, string>): boolean {
  const matchLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const matchExpressions = (selector.matchExpressions ?? []).every((e) =>
    e.operator === 'In' ? e.values!.includes(labels[e.key]!) : false,
  );
  return matchLabels && matchExpressions;
}

function inCidr(ip: string, cidr: string): boolean {
  if (cidr === '0.0.0.0/0') return !ip.includes(':');
  if (cidr === '::/0') return ip.includes(':');
  const [base, bits] = cidr.split('/');
  const toNumber = (address: string) => address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const mask = Number(bits) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(bits));
  return (toNumber(ip) & mask) >>> 0 === (toNumber(base!) & mask) >>> 0;
}

function peerMatches(peer: Peer, endpoint: Endpoint, policyNamespace: string): boolean {
  if ('ip' in endpoint) return peer.ipBlock !== undefined && inCidr(endpoint.ip, peer.ipBlock.cidr);
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': endpoint.namespace })
    : endpoint.namespace === policyNamespace;
  return namespaceOk && (!peer.podSelector || selects(peer.podSelector, endpoint.labels));
}

const portMatches = (rule: Rule, port: number, protocol: string) =>
  !rule.ports ||
  rule.ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));

function direction(
  policies: Policy[],
  pod: Endpoint,
  type: 'Ingress' | 'Egress',
  other: Endpoint,
  port: number,
  protocol: string,
): boolean {
  if ('ip' in pod) return true;
  const selecting = policies.filter(
    (p) =>
      p.metadata!.namespace === pod.namespace &&
      p.spec.policyTypes.includes(type) &&
      selects(p.spec.podSelector, pod.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (type === 'Ingress' ? p.spec.ingress : p.spec.egress)?.some((rule) => {
      const peers = type === 'Ingress' ? rule.from : rule.to;
      return (
        portMatches(rule, port, protocol) &&
        (!peers || peers.some((peer) => peerMatches(peer, other, p.metadata!.namespace!)))
      );
    }),
  );
}

const allowed = (policies: Policy[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP') =>
  direction(policies, from, 'Egress', to, port, protocol) && direction(policies, to, 'Ingress', from, port, protocol);

function setUp(input: LokiStackInput) {
  const { objects, stack } = render(input);
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as Policy[];
  const pods = new Map<string, Endpoint>(
    workloads(objects).map(({ template }) => [
      template.metadata!.labels!['app.kubernetes.io/component']!,
      { labels: template.metadata!.labels!, namespace: stack.metadata.namespace },
    ]),
  );
  const pod = (component: string) => pods.get(component)!;
  return { stack, policies, pods, pod };
}

const target = (name: ComponentName) => COMPONENTS[name].target;
const DNS: Endpoint = { labels: { 'k8s-app': 'kube-dns' }, namespace: 'kube-system' };
const stranger = (namespace: string, labels: Record<string, string> = { app: 'curl' }): Endpoint => ({
  labels,
  namespace,
});

const withPolicies = specMatrix().filter(({ name }) => name.startsWith('network-policy'));

test('the matrix has stacks with NetworkPolicies both with and without a pattern ingester', () => {
  const running = withPolicies.map(({ input }) => parseSpec(input).spec.components.patternIngester.enabled);
  expect(running).toEqual(expect.arrayContaining([true, false]));
});

describe.each(withPolicies)('$name', ({ input }) => {
  const { stack, policies, pod } = setUp(input);
  const deployed = (Object.keys(COMPONENTS) as ComponentName[]).filter((c) => {
    const component = stack.spec.components[c];
    return !('enabled' in component) || component.enabled;
  });
  const lokiPods = deployed.map(target);

  test('every pod of the stack is selected by a deny-by-default policy for both directions', () => {
    const deny = policies.find((p) => p.metadata!.name === `${stack.metadata.name}-default-deny`)!;
    expect(deny.spec).toEqual({ podSelector: expect.any(Object), policyTypes: ['Ingress', 'Egress'] });
    for (const component of [
      ...lokiPods,
      ...(stack.spec.storage.type === 'bundled' ? ['object-store'] : []),
      ...(stack.spec.gateway.enabled ? ['gateway'] : []),
      ...(stack.spec.caches.type === 'memcached' ? ['chunks-cache', 'results-cache'] : []),
    ]) {
      expect(selects(deny.spec.podSelector, (pod(component) as { labels: Record<string, string> }).labels)).toBe(true);
    }
  });

  test('the flows the Loki config needs are allowed', () => {
    const need = (from: string, to: string, port: number) =>
      expect([from, to, port, allowed(policies, pod(from), pod(to), port)]).toEqual([from, to, port, true]);
    for (const component of lokiPods) expect(allowed(policies, pod(component), DNS, 53, 'UDP')).toBe(true);
    // Rings hand out pod addresses: writes and reads reach the ingesters over gRPC.
    for (const from of ['distributor', 'querier', 'ruler'].filter((c) => lokiPods.includes(c)))
      need(from, 'ingester', 9095);
    // pattern_ingester.enabled: distributors tee pushes to the pattern ingesters and queriers ask them, at
    // the addresses of its ring.
    if (stack.spec.components.patternIngester.enabled)
      for (const from of ['distributor', 'querier']) need(from, 'pattern-ingester', 9095);
    // frontend.scheduler_address and frontend_worker.scheduler_address; queriers answer the frontend.
    need('query-frontend', 'query-scheduler', 9095);
    need('querier', 'query-scheduler', 9095);
    need('querier', 'query-frontend', 9095);
    // storage_config.tsdb_shipper.index_gateway_client.server_address
    need('querier', 'index-gateway', 9095);
    // common.compactor_address and frontend.tail_proxy_url (HTTP)
    for (const from of ['querier', 'query-frontend', 'index-gateway']) need(from, 'compactor', 3100);
    need('query-frontend', 'querier', 3100);
    // memberlist.join_members: every ring member gossips with every other.
    const members = deployed.filter((c) => COMPONENTS[c].ringMember).map(target);
    for (const from of members) for (const to of members) need(from, to, 7946);
  });

  test('the object store is reached only by the components that use it', () => {
    const storage = deployed.filter((c) => COMPONENTS[c].objectStore).map(target);
    const others = lokiPods.filter((c) => !storage.includes(c));
    if (stack.spec.storage.type === 'bundled') {
      for (const component of storage) expect(allowed(policies, pod(component), pod('object-store'), 9000)).toBe(true);
      for (const component of others) expect(allowed(policies, pod(component), pod('object-store'), 9000)).toBe(false);
      expect(allowed(policies, stranger(stack.metadata.namespace), pod('object-store'), 9000)).toBe(false);
    } else {
      const s3 = { ip: '203.0.113.10' };
      for (const component of storage) expect(allowed(policies, pod(component), s3, 9000)).toBe(true);
      for (const component of others) expect(allowed(policies, pod(component), s3, 9000)).toBe(false);
    }
  });

  test('each cache is reached only by the components that use it, its exporter only by allowMetricsFrom', () => {
    // Stated from Loki, not the renderer's tables: ingesters write flushed chunks to the chunks cache, queriers
    // and rulers read it; only query-frontends use the results cache.
    const users = { chunks: ['ingester', 'querier', 'ruler'], results: ['query-frontend'] };
    const { type, external } = stack.spec.caches;
    for (const [cache, using] of Object.entries(users)) {
      const server: Endpoint = type === 'memcached' ? pod(`${cache}-cache`) : { ip: '203.0.113.20' };
      const port = type === 'external' ? Number(/:(\d+)$/.exec(external![cache as 'chunks'])?.[1] ?? 11211) : 11211;
      if (type === 'embedded') continue;
      for (const component of lokiPods)
        expect([component, cache, allowed(policies, pod(component), server, port)]).toEqual([
          component,
          cache,
          using.includes(component),
        ]);
      if (type === 'external') continue;
      expect(allowed(policies, stranger(stack.metadata.namespace), server, 11211)).toBe(false);
      const prometheus = stranger('monitoring', { app: 'prometheus' });
      const scraped = stack.spec.monitoring.enabled && stack.spec.networkPolicy.allowMetricsFrom.length > 0;
      expect(allowed(policies, prometheus, server, 9150)).toBe(scraped);
      expect(allowed(policies, pod('querier'), server, 9150)).toBe(false);
      expect(allowed(policies, server, { ip: '198.51.100.7' }, 443)).toBe(false);
      expect(allowed(policies, server, pod('querier'), 9095)).toBe(false);
    }
  });

  test('entry points: push and query from the allowed sources only; nothing else from outside the stack', () => {
    const { allowFrom, allowMetricsFrom } = stack.spec.networkPolicy;
    const promtail = stranger('promtail', { app: 'promtail' });
    const elsewhere = stranger('default');
    // With the gateway, clients reach it alone, and it alone reaches Loki's APIs.
    const gateway = stack.spec.gateway.enabled;
    const [entries, port] = gateway ? [['gateway'], 8080] : [['distributor', 'query-frontend'], 3100];
    for (const entry of entries) {
      expect(allowed(policies, promtail, pod(entry), port)).toBe(true);
      expect(allowed(policies, elsewhere, pod(entry), port)).toBe(allowFrom === undefined);
      expect(allowed(policies, promtail, pod(entry), 9095)).toBe(false);
    }
    if (gateway) {
      const upstreams = gatewayUpstreams(stack).map(target);
      expect(upstreams).toEqual(expect.arrayContaining(['distributor', 'query-frontend', 'querier', 'compactor']));
      for (const upstream of upstreams) {
        expect(allowed(policies, pod('gateway'), pod(upstream), 3100)).toBe(true);
        expect(allowed(policies, promtail, pod(upstream), 3100)).toBe(false);
      }
      expect(allowed(policies, pod('gateway'), pod('ingester'), 9095)).toBe(false);
      expect(allowed(policies, pod('gateway'), pod('ingester'), 3100)).toBe(false);
      expect(allowed(policies, pod('gateway'), stranger('default'), 8080)).toBe(false);
      expect(allowed(policies, pod('gateway'), DNS, 53, 'UDP')).toBe(true);
    }
    for (const component of ['ingester', 'querier', 'compactor', 'index-gateway']) {
      expect(allowed(policies, elsewhere, pod(component), 9095)).toBe(false);
      expect(allowed(policies, elsewhere, pod(component), 7946)).toBe(false);
      expect(allowed(policies, stranger('monitoring', { app: 'prometheus' }), pod(component), 3100)).toBe(
        allowMetricsFrom.length > 0,
      );
    }
  });

  test('nothing leaves for elsewhere: no egress beyond the stack, DNS, the store, Alertmanager and remote write', () => {
    const internet = { ip: '198.51.100.7' };
    for (const component of lokiPods) {
      expect(allowed(policies, pod(component), internet, 22)).toBe(false);
      expect(allowed(policies, pod(component), stranger('default'), 8080)).toBe(false);
    }
    const alertmanager = stack.spec.components.ruler.alertmanagerUrl;
    if (alertmanager) {
      const port = Number(new URL(alertmanager).port);
      expect(allowed(policies, pod('ruler'), stranger('monitoring', { app: 'alertmanager' }), port)).toBe(true);
      expect(allowed(policies, pod('querier'), stranger('monitoring', { app: 'alertmanager' }), port)).toBe(false);
    }
    // Recording rules write to the remote-write endpoint, wherever it is (an outside URL has no pod to select).
    const remoteWrite = stack.spec.rules.remoteWrite?.url;
    if (remoteWrite) {
      const port = Number(new URL(remoteWrite).port);
      expect(allowed(policies, pod('ruler'), internet, port)).toBe(true);
      expect(allowed(policies, pod('ingester'), internet, port)).toBe(false);
      expect(allowed(policies, pod('ruler'), internet, port + 1)).toBe(false);
    }
  });

  test('the API server: reached by the ruler pods on 443 and 6443 only with rules discovery', () => {
    // The kubernetes Service's ClusterIP, or a control-plane address: a render knows neither.
    const apiServer = { ip: '10.96.0.1' };
    const discovery = stack.spec.rules.discovery.enabled;
    if (lokiPods.includes('ruler')) expect(allowed(policies, pod('ruler'), apiServer, 6443)).toBe(discovery);
    if (discovery) expect(allowed(policies, pod('ruler'), apiServer, 443)).toBe(true);
    for (const component of lokiPods.filter((c) => c !== 'ruler'))
      expect(allowed(policies, pod(component), apiServer, 6443)).toBe(false);
  });
});

const withGateway = withPolicies.filter(({ input }) => parseSpec(input).spec.gateway.enabled);

test('the matrix has stacks with NetworkPolicies and a gateway, exposed and not', () => {
  const exposed = withGateway.map(({ input }) => parseSpec(input).spec.gateway.expose !== undefined);
  expect(exposed).toEqual(expect.arrayContaining([true, false]));
});

describe.each(withGateway)('$name: the ingress controller', ({ input }) => {
  const { stack, policies, pod } = setUp(input);
  const exposedTo = stack.spec.gateway.expose?.controllerNamespace;
  const controllerIn = (namespace: string) => stranger(namespace, { 'app.kubernetes.io/name': 'ingress-nginx' });

  test("reaches the gateway's port from the controller namespace only when the gateway is exposed", () => {
    expect(allowed(policies, controllerIn('ingress-nginx'), pod('gateway'), 8080)).toBe(exposedTo === 'ingress-nginx');
    expect(allowed(policies, controllerIn('ingress-nginx'), pod('gateway'), 8081)).toBe(false);
    expect(allowed(policies, controllerIn('kube-system'), pod('gateway'), 8080)).toBe(false);
  });

  test('never reaches Loki behind the gateway', () => {
    for (const upstream of gatewayUpstreams(stack).map(target)) {
      expect(allowed(policies, controllerIn('ingress-nginx'), pod(upstream), 3100)).toBe(false);
      expect(allowed(policies, controllerIn('ingress-nginx'), pod(upstream), 9095)).toBe(false);
    }
  });
});

test('the matrix has a stack with NetworkPolicies and rules discovery', () => {
  expect(withPolicies.some(({ input }) => parseSpec(input).spec.rules.discovery.enabled)).toBe(true);
});

test('no NetworkPolicy unless asked', () => {
  expect(render({}).objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
});
