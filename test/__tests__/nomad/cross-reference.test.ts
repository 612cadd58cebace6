// Everything the Nomad job's parts say about each other, checked by playing the job out: the config
// template is rendered against a service catalog made only of what the job registers (a lookup of a
// service nobody registers finds nothing and fails), then Loki's ${VAR} expansion runs with only the
// variables Nomad and the job's own env and templates define. What comes out must be a Loki config whose
// every address, port and file is one the job provides; and the scrape config and Traefik tags must
// name the services and routers that exist.
import { parse } from 'yaml';
import { closeHclParser } from '../../src/hcl.js';
import {
  NOMAD_SPECS,
  renderNomadJob,
  type NomadGroup,
  type NomadJobFile,
  type RenderedNomad,
} from '../../src/nomad-job.js';

afterAll(closeHclParser);

interface Instance {
  service: string;
  portLabel: string;
  address: string;
  port: number;
}

/** Every registration the job makes, one instance per allocation, each allocation with its own ports. */
function catalog(job: NomadJobFile): { instances: Instance[]; ports: Map<string, Record<string, number>> } {
  const instances: Instance[] = [];
  const ports = new Map<string, Record<string, number>>();
  let node = 0;
  for (const group of [...job.groups, ...job.cacheGroups]) {
    for (let index = 0; index < group.count; index++) {
      node++;
      const allocPorts = Object.fromEntries(group.ports.map((label, i) => [label, 20000 + node * 10 + i]));
      if (index === 0) ports.set(group.name, allocPorts);
      for (const service of group.services)
        instances.push({
          service: service.name,
          portLabel: service.port,
          address: `10.0.0.${node}`,
          port: allocPorts[service.port]!,
        });
    }
  }
  return { instances, ports };
}

const LOOKUP = /(?:service "([^"|]+)(?:\|any)?"|nomadService "([^"]+)")/;

/** The consul-template actions our templates use: first instance of a service, a range over one, a joined list. */
function renderTemplate(text: string, instances: Instance[], provider: string): string {
  const lookup = (match: RegExpExecArray) => {
    const name = match[1] ?? match[2]!;
    expect(match[1] !== undefined ? 'consul' : 'nomad').toBe(provider);
    const found = instances.filter((i) => i.service === name);
    expect(found.length).toBeGreaterThan(0);
    return found;
  };
  const hostPort = (format: string, i: Instance) =>
    format.replace('{{ .Address }}:{{ .Port }}', `${i.address}:${i.port}`);
  return text
    .replace(
      new RegExp(
        `\\{\\{ with ${LOOKUP.source} \\}\\}\\{\\{ with index \\. 0 \\}\\}(.*?)\\{\\{ end \\}\\}\\{\\{ end \\}\\}`,
        'g',
      ),
      (...args: string[]) => {
        const match = LOOKUP.exec(args[0]!)!;
        return hostPort(args[3]!, lookup(match)[0]!);
      },
    )
    .replace(
      new RegExp(
        `\\{\\{ range \\$index, \\$instance := ${LOOKUP.source} \\}\\}\\{\\{ if \\$index \\}\\},\\{\\{ end \\}\\}(.*?)\\{\\{ end \\}\\}`,
        'g',
      ),
      (...args: string[]) => {
        const match = LOOKUP.exec(args[0]!)!;
        return lookup(match)
          .map((i) => hostPort(args[3]!, i))
          .join(',');
      },
    )
    .replace(
      new RegExp(`\\{\\{- range ${LOOKUP.source} \\}\\}\\n(.*)\\n\\{\\{- end \\}\\}`, 'g'),
      (...args: string[]) => {
        const match = LOOKUP.exec(args[0]!)!;
        return lookup(match)
          .map((i) => `\n${hostPort(args[3]!, i)}`)
          .join('');
      },
    );
}

/** Loki's -config.expand-env: ${VAR} and ${VAR:-default}; an undefined variable without default is an error here. */
function expandEnv(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback: string | undefined) => {
      if (env[name] !== undefined) return env[name]!;
      if (fallback !== undefined) return fallback;
      throw new Error(`\${${name}} is not defined in the task's environment`);
    },
  );
}

/** The environment of a group's task as Nomad builds it (docker driver): ports, dirs, env block, env templates. */
function taskEnv(group: NomadGroup, ports: Record<string, number>): Record<string, string> {
  const task = group.tasks[0]!;
  const env: Record<string, string> = {
    NOMAD_ALLOC_ID: 'a1',
    NOMAD_ALLOC_DIR: '/alloc',
    NOMAD_TASK_DIR: '/local',
    NOMAD_SECRETS_DIR: '/secrets',
  };
  for (const [label, port] of Object.entries(ports)) {
    env[`NOMAD_PORT_${label}`] = String(port);
    env[`NOMAD_IP_${label}`] = '10.0.0.1';
  }
  for (const [name, value] of Object.entries(task.env))
    env[name] = value
      .replace('${attr.unique.network.ip-address}', '10.0.0.1')
      .replace('${NOMAD_SECRETS_DIR}', '/secrets');
  for (const template of task.templates.filter((t) => t.env)) {
    for (const line of template.data.split('\n').filter(Boolean))
      env[line.slice(0, line.indexOf('='))] = 'from-the-template';
  }
  return env;
}

/** Paths of files in the Loki config; under /secrets or /local they must be a template destination. */
function configFiles(value: unknown, key = ''): string[] {
  if (typeof value === 'string') return /(^file|_path|_file)$/.test(key) && value.startsWith('/') ? [value] : [];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => configFiles(v, k));
}

type LokiConfig = Record<string, Record<string, unknown> & { ring?: { kvstore: Record<string, unknown> } }>;

const specs = Object.entries(NOMAD_SPECS).map(([name, input]) => ({ name, input }));

describe.each(specs)('$name', ({ input }) => {
  let rendered: RenderedNomad;
  const configs = new Map<string, LokiConfig>();
  beforeAll(async () => {
    rendered = await renderNomadJob(input);
    const { instances, ports } = catalog(rendered.job);
    for (const group of rendered.job.groups) {
      const template = group.tasks[0]!.templates.find((t) => t.destination === 'local/config.yaml')!;
      const text = expandEnv(
        renderTemplate(template.data, instances, rendered.stack.spec.nomad.serviceProvider),
        taskEnv(group, ports.get(group.name)!),
      );
      configs.set(group.name, parse(text) as LokiConfig);
    }
  });

  const instancesOf = (service: string) => catalog(rendered.job).instances.filter((i) => i.service === service);

  test('every group listens on and advertises the ports Nomad gave it', () => {
    const { ports } = catalog(rendered.job);
    for (const group of rendered.job.groups) {
      const config = configs.get(group.name)!;
      const own = ports.get(group.name)!;
      expect(config.server).toMatchObject({ http_listen_port: own.http, grpc_listen_port: own.grpc });
      expect(config.common!.instance_addr).toBe('10.0.0.1');
      expect(group.services.find((s) => s.checks.length > 0)!.port).toBe('http');
    }
  });

  test('the compactor and tail-proxy addresses are the HTTP ports of registered compactor and querier instances', () => {
    const { name } = rendered.stack.metadata;
    for (const config of configs.values()) {
      const compactor = instancesOf(`${name}-compactor`)[0]!;
      const querier = instancesOf(`${name}-querier`)[0]!;
      expect(compactor.portLabel).toBe('http');
      expect(config.common!.compactor_address).toBe(`http://${compactor.address}:${compactor.port}`);
      expect(config.frontend!.tail_proxy_url).toBe(`http://${querier.address}:${querier.port}`);
    }
  });

  test('memcached caches: Loki lists every registered instance of each cache, with the item limit memcached runs with', () => {
    const { stack, job } = rendered;
    const blocks = (config: LokiConfig) => ({
      chunks: config.chunk_store_config!.chunk_cache_config as Record<string, Record<string, unknown>>,
      results: (config.query_range!.results_cache as Record<string, unknown>).cache as Record<
        string,
        Record<string, unknown>
      >,
    });
    if (stack.spec.caches.type !== 'memcached') {
      expect(job.cacheGroups).toEqual([]);
      for (const config of configs.values())
        for (const block of Object.values(blocks(config))) expect(Object.keys(block)).toEqual(['embedded_cache']);
      return;
    }
    expect(job.cacheGroups.map((g) => g.name)).toEqual(['chunks-cache', 'results-cache']);
    for (const config of configs.values()) {
      for (const [cache, block] of Object.entries(blocks(config))) {
        const group = job.cacheGroups.find((g) => g.name === `${cache}-cache`)!;
        const instances = instancesOf(`${stack.metadata.name}-${cache}-cache`);
        expect(instances).toHaveLength(group.count);
        expect(block.embedded_cache).toBeUndefined();
        expect(block.memcached_client!.addresses).toBe(instances.map((i) => `${i.address}:${i.port}`).join(','));
        expect(block.memcached_client!.consistent_hash).toBe(true);
        // memcached listens on the port it registers, and stores items as large as Loki sends.
        const args = group.tasks[0]!.config.args;
        expect(args[args.indexOf('-p') + 1]).toBe(`\${NOMAD_PORT_${instances[0]!.portLabel}}`);
        expect(`${Number(block.memcached_client!.max_item_size) / 1024}k`).toBe(args[args.indexOf('-I') + 1]);
      }
    }
  });

  test('schedulers and index-gateways are found through their rings, not by address', () => {
    for (const config of configs.values()) {
      expect(config.query_scheduler!.use_scheduler_ring).toBe(true);
      expect(config.frontend!.scheduler_address).toBeUndefined();
      expect(config.frontend_worker!.scheduler_address).toBeUndefined();
      expect(config.index_gateway!.mode).toBe('ring');
    }
  });

  test("rings live in Consul KV through the node's agent, or gossip between every registered member", () => {
    const { stack, job } = rendered;
    for (const [groupName, config] of configs) {
      const kvstore = config.common!.ring!.kvstore;
      if (stack.spec.nomad.serviceProvider === 'consul') {
        expect(kvstore).toMatchObject({
          store: 'consul',
          prefix: `loki/${stack.spec.nomad.namespace}/${stack.metadata.name}/`,
          consul: { host: '10.0.0.1:8500' },
        });
        expect(config.memberlist).toBeUndefined();
      } else {
        expect(kvstore).toEqual({ store: 'memberlist' });
        const members = instancesOf(`${stack.metadata.name}-memberlist`);
        // Every group reads rings (schedulers, gateways, ingesters), so every allocation gossips.
        expect(members).toHaveLength(job.groups.reduce((sum, g) => sum + g.count, 0));
        expect(members.every((m) => m.portLabel === 'gossip')).toBe(true);
        expect(config.memberlist!.join_members).toEqual(members.map((m) => `${m.address}:${m.port}`));
        const ownGossip = catalog(job).ports.get(groupName)!.gossip;
        expect(config.memberlist).toMatchObject({
          bind_port: ownGossip,
          advertise_port: ownGossip,
          advertise_addr: '10.0.0.1',
        });
      }
    }
  });

  test('every file the Loki config reads is a template destination of the same task', () => {
    for (const group of rendered.job.groups) {
      const destinations = group.tasks[0]!.templates.map((t) => `/${t.destination}`);
      const files = configFiles(configs.get(group.name)).filter(
        (file) => file.startsWith('/secrets/') || file.startsWith('/local/'),
      );
      for (const file of files) expect(destinations).toContain(file);
      // The runtime configuration (per-tenant overrides), re-read by Loki every period.
      expect(files).toContain('/local/runtime.yaml');
      // cert, key and CA for the server and each of the 7 client blocks, and the ruler's and the pattern
      // ingester's when they run.
      const certificates = files.filter((file) => file.startsWith('/secrets/tls/'));
      const { ruler, patternIngester } = rendered.stack.spec.components;
      if (rendered.stack.spec.nomad.tls.enabled)
        expect(certificates).toHaveLength(3 * (8 + Number(ruler.enabled) + Number(patternIngester.enabled)));
      else expect(certificates).toEqual([]);
    }
  });

  test('with TLS, the server verifies clients and every gRPC client block presents a certificate for the same name', () => {
    const { tls } = rendered.stack.spec.nomad;
    for (const config of configs.values()) {
      if (!tls.enabled) {
        expect(JSON.stringify(config)).not.toContain('tls_enabled');
        continue;
      }
      expect(config.server!.grpc_tls_config).toMatchObject({
        client_auth_type: 'RequireAndVerifyClientCert',
        cert_file: '/secrets/tls/cert.pem',
        client_ca_file: '/secrets/tls/ca.pem',
      });
      const clients = [
        (config.ingester_client as Record<string, unknown>).grpc_client_config,
        (config.frontend as Record<string, unknown>).grpc_client_config,
        (config.frontend_worker as Record<string, unknown>).query_frontend_grpc_client,
        (config.frontend_worker as Record<string, unknown>).query_scheduler_grpc_client,
        (config.query_scheduler as Record<string, unknown>).grpc_client_config,
        (config.storage_config as { tsdb_shipper: { index_gateway_client: Record<string, unknown> } }).tsdb_shipper
          .index_gateway_client.grpc_client_config,
        config.compactor_grpc_client,
        ...(rendered.stack.spec.components.ruler.enabled
          ? [(config.ruler as Record<string, unknown>).ruler_client]
          : []),
        ...(rendered.stack.spec.components.patternIngester.enabled
          ? [(config.pattern_ingester as { client_config: Record<string, unknown> }).client_config.grpc_client_config]
          : []),
      ];
      for (const client of clients) {
        expect(client).toEqual({
          tls_enabled: true,
          tls_cert_path: '/secrets/tls/cert.pem',
          tls_key_path: '/secrets/tls/key.pem',
          tls_ca_path: '/secrets/tls/ca.pem',
          tls_server_name: tls.serverName ?? `${rendered.stack.metadata.name}.service.consul`,
        });
      }
    }
  });

  test('the certificates come from one Vault PKI issue call per task, for the name the clients verify', () => {
    const { tls } = rendered.stack.spec.nomad;
    for (const group of rendered.job.groups) {
      const pki = group.tasks[0]!.templates.filter((t) => t.destination.startsWith('secrets/tls/'));
      if (!tls.enabled) {
        expect(pki).toEqual([]);
        continue;
      }
      const calls = new Set(pki.map((t) => /secret "[^}]*"/.exec(t.data)![0]));
      expect(calls).toEqual(
        new Set([
          `secret "${tls.pkiIssuePath}" "common_name=${tls.serverName ?? `${rendered.stack.metadata.name}.service.consul`}" "ttl=${tls.ttl}"`,
        ]),
      );
      expect(pki.find((t) => t.destination.endsWith('key.pem'))!.perms).toBe('0600');
      expect(group.tasks[0]!.vault).toBeDefined();
    }
  });

  test('the storage components read credentials from the environment their templates define, the others have none', () => {
    const { stack } = rendered;
    for (const [groupName, config] of configs) {
      const storage = JSON.stringify((config.common as { storage: unknown }).storage);
      const env = taskEnv(
        rendered.job.groups.find((g) => g.name === groupName)!,
        {},
      );
      const fromTemplate = Object.entries(env)
        .filter(([, value]) => value === 'from-the-template')
        .map(([name]) => name);
      if (fromTemplate.length > 0) expect(storage).toContain('from-the-template');
      else expect(storage).not.toContain('from-the-template');
      if (!stack.spec.nomad.credentials || stack.spec.storage.type === 'gcs') expect(fromTemplate).toEqual([]);
    }
  });

  test('the scrape config discovers exactly the services the job registers, from the same catalog', () => {
    const { stack, job } = rendered;
    const scrape = parse(rendered.scrapeConfig) as { scrape_configs: Record<string, unknown>[] };
    const [config] = scrape.scrape_configs;
    const httpServices = job.groups.map((g) => g.services.find((s) => s.port === 'http')!.name).sort();
    if (stack.spec.nomad.serviceProvider === 'consul') {
      const [sd] = config!.consul_sd_configs as { services: string[] }[];
      expect([...sd!.services].sort()).toEqual(httpServices);
      const relabel = config!.relabel_configs as { source_labels: string[]; target_label: string }[];
      expect(relabel.map((r) => [r.source_labels[0], r.target_label])).toEqual([
        ['__meta_consul_service_metadata_component', 'component'],
        ['__meta_consul_service_metadata_alloc_id', 'instance'],
      ]);
      // The meta keys the relabelling reads are the ones every service carries.
      for (const group of job.groups)
        expect(Object.keys(group.services[0]!.meta).sort()).toEqual(['alloc_id', 'component']);
    } else {
      const [keep, component] = config!.relabel_configs as { regex: string; action?: string }[];
      const keepRegex = new RegExp(`^${keep!.regex}$`);
      const everyService = job.groups.flatMap((g) => g.services.map((s) => s.name));
      expect(everyService.filter((name) => keepRegex.test(name)).sort()).toEqual(httpServices);
      for (const group of job.groups)
        expect(new RegExp(`^${component!.regex}$`).exec(`${stack.metadata.name}-${group.name}`)?.[1]).toBe(group.name);
    }
  });

  test('Traefik: every router has the basic-auth middleware, defined on the same service, with the given users', () => {
    const { stack, job } = rendered;
    const tagsOf = (group: string) => job.groups.find((g) => g.name === group)!.services[0]!.tags;
    const traefikTags = job.groups.flatMap((g) =>
      g.services.flatMap((s) => s.tags.filter((t) => t.startsWith('traefik.'))),
    );
    if (!stack.spec.nomad.traefik.enabled) return expect(traefikTags).toEqual([]);
    const routers = new Map<string, { group: string; rule?: string; middlewares?: string }>();
    for (const group of ['distributor', 'query-frontend']) {
      const tags = tagsOf(group);
      for (const tag of tags) {
        const match = /^traefik\.http\.routers\.([^.]+)\.(rule|middlewares)=(.*)$/.exec(tag);
        if (match) routers.set(match[1]!, { ...routers.get(match[1]!), group, [match[2]!]: match[3] });
      }
      for (const [, router] of routers) {
        if (router.group !== group) continue;
        for (const middleware of router.middlewares!.split(',')) {
          expect(tags).toContain(
            `traefik.http.middlewares.${middleware}.basicauth.users=${stack.spec.nomad.traefik.basicAuthUsers.join(',')}`,
          );
        }
      }
    }
    expect([...routers.values()].map((r) => [r.group, /PathPrefix\(`([^`]*)`\)/.exec(r.rule!)![1]])).toEqual([
      ['distributor', '/loki/api/v1/push'],
      ['query-frontend', '/loki/api/v1'],
    ]);
    // No other group carries Traefik tags: the routes are exactly push and query.
    expect(
      traefikTags.every((tag) => tagsOf('distributor').includes(tag) || tagsOf('query-frontend').includes(tag)),
    ).toBe(true);
  });
});
