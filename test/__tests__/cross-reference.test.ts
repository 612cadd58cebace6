// Everything that points somewhere points at something that is rendered: Loki config addresses at a
// Service and port whose pods listen on it, Service selectors at pods, volume and env references at
// ConfigMaps, Secrets and claims, and persistent volumes only where state lives.
import type {
  V1Container,
  V1Ingress,
  V1IngressServiceBackend,
  V1PodTemplateSpec,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { COMPONENTS, type ComponentName, type LokiStack } from 'loki-microservices';
import { lokiConfig } from 'loki-microservices/testing';
import { allContainers, render, selects, services, workloads, type Rendered } from '../src/objects.js';
import { specMatrix } from '../src/specs.js';

/** The part of a Gateway API HTTPRoute this test reads. */
interface HTTPRouteObject {
  spec: { rules: { backendRefs: { name: string; port: number }[] }[] };
}

interface Address {
  key: string;
  host: string;
  /** A port number, or the name of a Service port (a DNS SRV address names it). */
  port: number | string;
}

/** memcached addresses by DNS SRV: `dnssrvnoa+_<port name>._tcp.<host>`. */
const SRV_ADDRESS = /^dnssrv(?:noa)?\+_([a-z0-9-]+)\._tcp\.([a-z0-9.-]+)$/;

/** Every string in the Loki config that names an in-cluster host, with the key it sits under. */
function configAddresses(stack: LokiStack): Address[] {
  const suffix = `.svc.${stack.spec.clusterDomain}`;
  const found: Address[] = [];
  const visit = (value: unknown, key: string) => {
    // A name to verify in a certificate, not an address (tls.test.ts checks those).
    if (key.endsWith('tls_server_name')) return;
    if (typeof value === 'string' && value.includes(suffix) && SRV_ADDRESS.test(value)) {
      const [, portName, host] = SRV_ADDRESS.exec(value)!;
      found.push({ key, host: host!, port: portName! });
    } else if (typeof value === 'string' && value.includes(suffix)) {
      const match = /^(?:https?:\/\/|dns\+|dns:\/\/\/)?([a-z0-9.-]+):(\d+)\/?$/.exec(value);
      if (!match) throw new Error(`${key}: cannot read host:port from ${value}`);
      found.push({ key, host: match[1]!, port: Number(match[2]) });
    } else if (Array.isArray(value)) value.forEach((item) => visit(item, `${key}[]`));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) visit(v, key ? `${key}.${k}` : k);
  };
  visit(lokiConfig(stack), '');
  return found;
}

function podsOf(rendered: Rendered, service: V1Service): V1PodTemplateSpec[] {
  return workloads(rendered.objects)
    .map((workload) => workload.template)
    .filter((template) => selects(service.spec?.selector, template.metadata?.labels));
}

function listens(containers: V1Container[], portName: string | number | undefined, port: number): boolean {
  return containers.some((container) =>
    container.ports?.some((p) =>
      typeof portName === 'string' ? p.name === portName : p.containerPort === (portName ?? port),
    ),
  );
}

describe.each(specMatrix())('$name', ({ input }) => {
  const rendered = render(input);
  const { stack, objects } = rendered;

  test('every address in the Loki config is a rendered Service whose pods listen on that port', () => {
    // The wiring the microservices mode cannot run without; the test must not pass on an empty config.
    expect(configAddresses(stack).map((a) => a.key)).toEqual(
      expect.arrayContaining([
        'common.compactor_address',
        'memberlist.join_members[]',
        'frontend.scheduler_address',
        'frontend_worker.scheduler_address',
        'frontend.tail_proxy_url',
        'storage_config.tsdb_shipper.index_gateway_client.server_address',
      ]),
    );
    expect(addressProblems(rendered)).toEqual([]);
  });

  test('memcached caches: Loki reaches every cache pod by DNS SRV, with the item limit memcached runs with', () => {
    const config = lokiConfig(stack) as {
      chunk_store_config: { chunk_cache_config: Record<string, Record<string, unknown>> };
      query_range: { results_cache: { cache: Record<string, Record<string, unknown>> } };
    };
    const blocks = {
      chunks: config.chunk_store_config.chunk_cache_config,
      results: config.query_range.results_cache.cache,
    };
    for (const [cache, block] of Object.entries(blocks)) {
      if (stack.spec.caches.type === 'embedded') {
        expect(Object.keys(block)).toEqual(['embedded_cache']);
        continue;
      }
      expect(block.embedded_cache).toBeUndefined();
      expect(block.memcached_client).toMatchObject({ consistent_hash: true });
      if (stack.spec.caches.type === 'external') continue;
      const address = String(block.memcached_client!.addresses);
      expect(address).toMatch(SRV_ADDRESS);
      const service = services(objects).find((s) => address.includes(`._tcp.${s.metadata!.name}.`))!;
      expect(service.metadata!.name).toBe(`${stack.metadata.name}-${cache}-cache`);
      expect(service.spec!.clusterIP).toBe('None');
      const memcached = podsOf(rendered, service)[0]!.spec!.containers.find((c) => c.name === 'memcached')!;
      const itemLimit = memcached.args![memcached.args!.indexOf('-I') + 1]!;
      expect(`${Number(block.memcached_client!.max_item_size) / 1024}k`).toBe(itemLimit);
    }
  });

  test('scheduler and index-gateway addresses reach every pod, not one behind a virtual IP', () => {
    const config = lokiConfig(stack) as {
      frontend: { scheduler_address: string };
      storage_config: { tsdb_shipper: { index_gateway_client: { server_address: string } } };
    };
    const headless = (address: string) =>
      services(objects).find((s) => address.includes(`${s.metadata!.name}.`))?.spec?.clusterIP;
    expect(headless(config.frontend.scheduler_address)).toBe('None');
    expect(config.storage_config.tsdb_shipper.index_gateway_client.server_address).toMatch(/^dns:\/\/\//);
    expect(headless(config.storage_config.tsdb_shipper.index_gateway_client.server_address)).toBe('None');
  });

  test('every Service selects pods, names ports, and targets a port the pods declare', () => {
    for (const service of services(objects)) {
      const pods = podsOf(rendered, service);
      expect(pods.length).toBeGreaterThan(0);
      for (const port of service.spec!.ports!) {
        expect(port.name).toMatch(/^[a-z0-9-]+$/);
        expect(port.protocol).toBe('TCP');
        for (const pod of pods) expect(listens(pod.spec!.containers, port.targetPort, port.port)).toBe(true);
      }
    }
  });

  test('every Loki component has a load-balanced Service; discovery components also a headless one', () => {
    for (const [name, traits] of Object.entries(COMPONENTS)) {
      const spec = stack.spec.components[name as ComponentName];
      if ('enabled' in spec && !spec.enabled) continue;
      const own = services(objects).filter((s) => s.metadata!.labels!['app.kubernetes.io/component'] === traits.target);
      expect(own.filter((s) => s.spec!.clusterIP !== 'None').map((s) => s.metadata!.name)).toEqual([
        `${stack.metadata.name}-${traits.target}`,
      ]);
      // A zone-aware ingester has one per zone, each governing its zone's StatefulSet.
      const zones = name === 'ingester' && stack.spec.zoneAwareness.enabled ? stack.spec.zoneAwareness.zones : [];
      const headless = zones.length > 0 ? zones.map((zone) => `-zone-${zone}-headless`) : ['-headless'];
      expect(own.filter((s) => s.spec!.clusterIP === 'None').map((s) => s.metadata!.name)).toEqual(
        traits.headless ? headless.map((suffix) => `${stack.metadata.name}-${traits.target}${suffix}`) : [],
      );
    }
  });

  test('the memberlist Service selects exactly the ring members, which expose the gossip port', () => {
    const memberlist = services(objects).find((s) => s.metadata!.name === `${stack.metadata.name}-memberlist`)!;
    expect(memberlist.spec!.clusterIP).toBe('None');
    expect(memberlist.spec!.publishNotReadyAddresses).toBe(true);
    const members = podsOf(rendered, memberlist).map((pod) => pod.metadata!.labels!['app.kubernetes.io/component']);
    // Every component that reads or writes a ring (Loki's jsonnet gossip members, plus the queriers that
    // read the ingester ring); stated here, not derived from the renderer's own tables.
    const ringUsers = [
      'distributor',
      'ingester',
      'querier',
      'index-gateway',
      'compactor',
      ...(stack.spec.components.ruler.enabled ? ['ruler'] : []),
      // Its own ring, which distributors (the tee) and queriers read.
      ...(stack.spec.components.patternIngester.enabled ? ['pattern-ingester'] : []),
    ];
    // (Each zone of a zone-aware ingester is a workload of its own.)
    expect([...new Set(members)].sort()).toEqual(ringUsers.sort());
    for (const pod of podsOf(rendered, memberlist)) {
      expect(listens(pod.spec!.containers, 'tcp-gossip-ring', 7946)).toBe(true);
    }
  });

  test('Loki listens where the Services and probes expect it', () => {
    const config = lokiConfig(stack) as {
      server: { http_listen_port: number; grpc_listen_port: number };
      memberlist: { bind_port: number };
    };
    for (const { template } of workloads(objects)) {
      const loki = template.spec!.containers.find((c) => c.name === 'loki');
      if (!loki) continue;
      const port = (name: string) => loki.ports!.find((p) => p.name === name)?.containerPort;
      expect(port('http-metrics')).toBe(config.server.http_listen_port);
      expect(port('grpc')).toBe(config.server.grpc_listen_port);
      if (port('tcp-gossip-ring') !== undefined) expect(port('tcp-gossip-ring')).toBe(config.memberlist.bind_port);
      expect(loki.readinessProbe!.httpGet!.port).toBe('http-metrics');
      expect(loki.livenessProbe!.httpGet!.port).toBe('http-metrics');
    }
  });

  test('workload selectors match their own pod templates and no other workload', () => {
    for (const { object, template } of workloads(objects)) {
      const selector = (object as V1StatefulSet).spec!.selector.matchLabels;
      expect(selects(selector, template.metadata!.labels)).toBe(true);
      const others = workloads(objects).filter(
        (w) => w.object !== object && selects(selector, w.template.metadata!.labels),
      );
      expect(others).toEqual([]);
    }
  });

  test('an Ingress or HTTPRoute reaches the gateway Service only, by a port it has, whose pods are the gateway', () => {
    const exposed = stack.spec.gateway.expose;
    const backends: V1IngressServiceBackend[] = [
      ...(objects.filter((o) => o.kind === 'Ingress') as V1Ingress[]).flatMap((ingress) =>
        ingress.spec!.rules!.flatMap((rule) => rule.http!.paths.map((path) => path.backend.service!)),
      ),
      ...(objects.filter((o) => o.kind === 'HTTPRoute') as unknown as HTTPRouteObject[]).flatMap((route) =>
        route.spec.rules.flatMap((rule) =>
          rule.backendRefs.map((ref) => ({ name: ref.name, port: { number: ref.port } })),
        ),
      ),
    ];
    expect(backends).toHaveLength((exposed?.ingress ? 1 : 0) + (exposed?.httpRoute ? 1 : 0));
    for (const backend of backends) {
      const service = services(objects).find((s) => s.metadata!.name === backend.name)!;
      expect(service).toBeDefined();
      const wanted = backend.port!;
      const port = service.spec!.ports!.find((p) => (wanted.name ? p.name === wanted.name : p.port === wanted.number));
      expect(port).toBeDefined();
      const pods = podsOf(rendered, service);
      expect(pods.map((pod) => pod.metadata!.labels!['app.kubernetes.io/component'])).toEqual(['gateway']);
      expect(listens(pods.flatMap(allContainers), port!.targetPort as string | number, port!.port)).toBe(true);
    }
  });

  test('every StatefulSet is governed by a rendered headless Service that selects its pods and no other workload', () => {
    for (const statefulSet of objects.filter((o) => o.kind === 'StatefulSet') as V1StatefulSet[]) {
      const governing = services(objects).find((s) => s.metadata!.name === statefulSet.spec!.serviceName);
      expect(governing?.spec?.clusterIP).toBe('None');
      const selected = workloads(objects).filter((w) =>
        selects(governing!.spec!.selector, w.template.metadata?.labels),
      );
      expect(selected.map((w) => w.object.metadata!.name)).toEqual([statefulSet.metadata!.name]);
    }
  });

  test('every ConfigMap, Secret and claim a pod refers to is rendered, generated by apply, or named by the user', () => {
    const rendered_ = (kind: string) => new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata!.name));
    const storage = stack.spec.storage;
    const userSecrets = new Set(
      [
        storage.bundled?.secretName,
        storage.s3?.secretName,
        storage.gcs?.secretName,
        storage.azure?.secretName,
        stack.spec.gateway.passwordsSecret,
        ...stack.spec.imagePullSecrets,
        ...Object.values(stack.spec.rules.remoteWrite?.headers ?? {}).map((header) => header.secretName),
      ].filter(Boolean),
    );
    const secrets = new Set([
      ...rendered_('Secret'),
      ...rendered.generatedSecrets.map((s) => s.name),
      ...rendered.derivedSecrets.map((s) => s.name),
      ...userSecrets,
    ]);
    const configMaps = rendered_('ConfigMap');
    const claims = rendered_('PersistentVolumeClaim');
    for (const { object, template } of workloads(objects)) {
      const claimTemplates = new Set(
        (object as V1StatefulSet).spec!.volumeClaimTemplates?.map((c) => c.metadata!.name) ?? [],
      );
      const volumes = new Set(template.spec!.volumes?.map((v) => v.name));
      for (const volume of template.spec!.volumes ?? []) {
        if (volume.configMap) expect(configMaps).toContain(volume.configMap.name);
        if (volume.secret) expect(secrets).toContain(volume.secret.secretName);
        if (volume.persistentVolumeClaim) expect(claims).toContain(volume.persistentVolumeClaim.claimName);
      }
      for (const container of allContainers(template)) {
        for (const mount of container.volumeMounts ?? [])
          expect(volumes.has(mount.name) || claimTemplates.has(mount.name)).toBe(true);
        for (const env of container.env ?? []) {
          if (env.valueFrom?.secretKeyRef) expect(secrets).toContain(env.valueFrom.secretKeyRef.name);
          if (env.valueFrom?.configMapKeyRef) expect(configMaps).toContain(env.valueFrom.configMapKeyRef.name);
        }
      }
      for (const pullSecret of template.spec!.imagePullSecrets ?? []) expect(secrets).toContain(pullSecret.name);
      expect(
        template.spec!.serviceAccountName === undefined ||
          rendered_('ServiceAccount').has(template.spec!.serviceAccountName),
      ).toBe(true);
    }
  });

  test("every declared rule group is in a file of a ConfigMap mounted at the ruler's <local directory>/<tenant>", () => {
    const ruler = workloads(objects).find((w) => w.object.metadata!.labels!['app.kubernetes.io/component'] === 'ruler');
    const config = lokiConfig(stack) as {
      ruler?: { storage?: { type: string; local: { directory: string } }; remote_write?: Record<string, any> };
    };
    // The tenants and groups the spec declares, as the docs say: a file's `tenant`, else spec.auth.tenant (auth on) or fake.
    const fileTenant = stack.spec.auth.enabled ? stack.spec.auth.tenant : 'fake';
    const declared = new Map<string, string[]>();
    const declare = (tenant: string, groups: { name: string }[]) =>
      declared.set(tenant, [...(declared.get(tenant) ?? []), ...groups.map((g) => g.name)]);
    for (const file of stack.spec.rules.loadedFiles ?? []) declare(file.tenant ?? fileTenant, file.groups);
    for (const [tenant, groups] of Object.entries(stack.spec.rules.inline)) declare(tenant, groups);
    if (declared.size === 0 || !ruler) {
      expect(config.ruler?.storage).toBeUndefined();
      return;
    }
    expect(config.ruler!.storage!.type).toBe('local');
    const directory = config.ruler!.storage!.local.directory;
    const loki = ruler.template.spec!.containers.find((c) => c.name === 'loki')!;
    const mounted = new Map<string, string[]>();
    for (const mount of loki.volumeMounts!.filter((m) => m.mountPath.startsWith(`${directory}/`))) {
      expect(mount.subPath).toBeUndefined(); // updated in place only as a whole directory
      const volume = ruler.template.spec!.volumes!.find((v) => v.name === mount.name)!;
      const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata!.name === volume.configMap?.name) as
        { data: Record<string, string> } | undefined;
      const groups = Object.values(configMap!.data).flatMap((text) =>
        (parse(text) as { groups: { name: string }[] }).groups.map((g) => g.name),
      );
      mounted.set(mount.mountPath.slice(directory.length + 1), groups);
    }
    expect(Object.fromEntries(mounted)).toEqual(Object.fromEntries(declared));
  });

  test("the ruler's environment sets every remote-write header the Loki config reads, from a Secret", () => {
    const headers = Object.values(
      ((lokiConfig(stack) as any).ruler?.remote_write?.clients ?? {}) as Record<string, { headers?: object }>,
    ).flatMap((client) => Object.values(client.headers ?? {}) as string[]);
    expect(headers.length).toBe(Object.keys(stack.spec.rules.remoteWrite?.headers ?? {}).length);
    const ruler = workloads(objects).find((w) => w.object.metadata!.labels!['app.kubernetes.io/component'] === 'ruler');
    const env = ruler?.template.spec!.containers.find((c) => c.name === 'loki')!.env ?? [];
    for (const header of headers) {
      const variable = /^\$\{([A-Z0-9_]+):-\}$/.exec(header)![1];
      expect(env.find((e) => e.name === variable)?.valueFrom?.secretKeyRef).toBeDefined();
    }
  });

  test('persistent volumes only where state lives', () => {
    const stateful = new Set(['ingester', 'index-gateway', 'compactor', 'ruler', 'pattern-ingester']);
    // memcached keeps its items in memory: StatefulSets for stable pod names, no volume.
    const memoryOnly = new Set(['chunks-cache', 'results-cache']);
    for (const { object, template } of workloads(objects)) {
      const component = object.metadata!.labels!['app.kubernetes.io/component']!;
      const claimTemplates = (object as V1StatefulSet).spec!.volumeClaimTemplates ?? [];
      if (object.kind === 'StatefulSet' && memoryOnly.has(component)) expect(claimTemplates).toEqual([]);
      else if (object.kind === 'StatefulSet') {
        expect(stateful.has(component)).toBe(true);
        expect(claimTemplates.map((c) => c.metadata!.name)).toEqual(['data']);
      }
      const claimVolumes = (template.spec!.volumes ?? []).filter((v) => v.persistentVolumeClaim);
      expect(claimVolumes.length).toBe(component === 'object-store' ? 1 : 0);
    }
    const standaloneClaims = objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata!.name);
    expect(standaloneClaims).toEqual(storage(stack) === 'bundled' ? [`${stack.metadata.name}-object-store`] : []);
  });
});

function storage(stack: LokiStack): string {
  return stack.spec.storage.type;
}

/** Config addresses that do not lead to a listening pod, described. */
function addressProblems(rendered: Rendered): string[] {
  const { stack, objects } = rendered;
  return configAddresses(stack).flatMap((address) => {
    const [serviceName, namespace] = address.host.split('.');
    if (namespace !== stack.metadata.namespace)
      return [`${address.key}: ${address.host} is outside namespace ${stack.metadata.namespace}`];
    const service = services(objects).find((s) => s.metadata?.name === serviceName);
    if (!service) return [`${address.key}: ${address.host} is not a rendered Service`];
    const servicePort = service.spec?.ports?.find((p) =>
      typeof address.port === 'string' ? p.name === address.port : p.port === address.port,
    );
    if (!servicePort) return [`${address.key}: Service ${serviceName} has no port ${address.port}`];
    const pods = podsOf(rendered, service);
    if (pods.length === 0) return [`${address.key}: Service ${serviceName} selects no pods`];
    return pods.some((pod) => !listens(pod.spec!.containers, servicePort.targetPort, servicePort.port))
      ? [`${address.key}: pods behind ${serviceName} do not listen on ${servicePort.targetPort}`]
      : [];
  });
}

test('the address check reports a config address whose Service is missing or has the wrong port', () => {
  const rendered = render({});
  const withoutCompactorService = rendered.objects.filter(
    (o) => !(o.kind === 'Service' && o.metadata!.name === 'loki-compactor'),
  );
  expect(addressProblems({ ...rendered, objects: withoutCompactorService })).toEqual([
    'common.compactor_address: loki-compactor.loki.svc.cluster.local is not a rendered Service',
  ]);
  const wrongPort = structuredClone(rendered.objects).map((o) => {
    if (o.kind === 'Service' && o.metadata!.name === 'loki-querier') (o as V1Service).spec!.ports![0]!.port = 8080;
    return o;
  });
  expect(addressProblems({ ...rendered, objects: wrongPort })).toEqual([
    'frontend.tail_proxy_url: Service loki-querier has no port 3100',
  ]);
});

test('the address check reads DNS SRV cache addresses: a missing cache Service or a renamed port is reported', () => {
  const rendered = render({ spec: { caches: { type: 'memcached' } } });
  const withoutResultsCache = rendered.objects.filter(
    (o) => !(o.kind === 'Service' && o.metadata!.name === 'loki-results-cache'),
  );
  expect(addressProblems({ ...rendered, objects: withoutResultsCache })).toEqual([
    'query_range.results_cache.cache.memcached_client.addresses: loki-results-cache.loki.svc.cluster.local is not a rendered Service',
  ]);
  const renamedPort = structuredClone(rendered.objects).map((o) => {
    if (o.kind === 'Service' && o.metadata!.name === 'loki-chunks-cache')
      (o as V1Service).spec!.ports![0]!.name = 'tcp';
    return o;
  });
  expect(addressProblems({ ...rendered, objects: renamedPort })).toEqual([
    'chunk_store_config.chunk_cache_config.memcached_client.addresses: Service loki-chunks-cache has no port memcache',
  ]);
});
