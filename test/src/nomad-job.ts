// Nomad specs and a look inside rendered jobs: the HCL parsed by a real HCL2 parser (@cdktf/hcl2json),
// with its block lists flattened to the shapes tests ask about.
import { parseHcl as parse } from './hcl.js';
import { SHOP_RULES } from './specs.js';
import {
  COMPONENTS,
  parseSpec,
  renderNomad,
  type LokiStack,
  type LokiStackInput,
  type RenderedNomadJob,
} from 'loki-microservices';

const BCRYPT_USER = 'promtail:$2y$05$sDd4RjXi0z9w8c3H5pK7KuY8xN1mWvA2Q3bC4dE5fG6hI7jK8lM9n';
export const TRAEFIK_USERS = [BCRYPT_USER];

const S3 = {
  type: 's3',
  s3: { bucket: 'loki-chunks', endpoint: 'http://minio.service.consul:9000', forcePathStyle: true },
} as const;

/** Specs that together cover both service providers, every credential source, TLS, Traefik and volumes. */
export const NOMAD_SPECS: Record<string, LokiStackInput> = {
  'demo/s3-instance-role': { spec: { storage: { type: 's3', s3: { bucket: 'loki-chunks', region: 'eu-west-1' } } } },
  'small/consul-vault-tls-traefik': {
    spec: {
      profile: 'small',
      storage: S3,
      nomad: {
        credentials: { source: 'vault', path: 'kv/data/loki/s3' },
        vaultRole: 'loki',
        tls: { enabled: true },
        traefik: { enabled: true, host: 'logs.example.com', basicAuthUsers: TRAEFIK_USERS },
      },
    },
  },
  'small/nomad-services-variables-csi': {
    metadata: { name: 'logs' },
    spec: {
      profile: 'small',
      caches: { type: 'memcached' },
      storage: S3,
      nomad: {
        namespace: 'observability',
        serviceProvider: 'nomad',
        volumes: 'csi',
        credentials: { source: 'nomadVariable', path: 'nomad/jobs/logs' },
        traefik: { enabled: true, basicAuthUsers: TRAEFIK_USERS },
      },
    },
  },
  'production/gcs-hard-anti-affinity': {
    spec: {
      profile: 'production',
      retention: '720h',
      auth: { enabled: true },
      scheduling: { antiAffinity: 'hard', zoneSpread: true },
      storage: { type: 'gcs', gcs: { bucket: 'acme-loki' } },
      nomad: {
        credentials: { source: 'vault', path: 'secret/data/loki/gcs' },
        region: 'europe',
        datacenters: ['eu-west-1a', 'eu-west-1b'],
      },
    },
  },
  'small/rules-remote-write': {
    spec: {
      profile: 'small',
      auth: { enabled: true, tenant: 'team-a' },
      storage: S3,
      nomad: { credentials: { source: 'vault', path: 'kv/data/loki/s3' }, vaultRole: 'loki' },
      rules: {
        loadedFiles: [
          {
            file: 'rules/shop.yaml',
            tenant: 'team-b',
            groups: [
              {
                ...SHOP_RULES,
                rules: [
                  {
                    ...SHOP_RULES.rules[1],
                    annotations: { summary: '{{ $labels.app }}: {{ $value }} errors/s; ${HOME} $NOMAD_TOKEN' },
                  },
                  {
                    record: 'shop:lines',
                    expr: 'sum by (app) (count_over_time({app="shop"} | line_format "{{.app}}" [1m]))',
                  },
                ],
              },
            ],
          },
        ],
        inline: { 'team-a': [{ name: 'a', rules: [{ alert: 'Quiet', expr: 'absent_over_time({job="a"}[15m])' }] }] },
        remoteWrite: { url: 'http://prometheus.service.consul:9090/api/v1/write' },
      },
    },
  },
  'production/azure-ruler-disabled': {
    spec: {
      profile: 'production',
      components: { ruler: { enabled: false } },
      storage: { type: 'azure', azure: { accountName: 'acmeloki', container: 'loki' } },
      nomad: {
        credentials: { source: 'nomadVariable', path: 'nomad/jobs/loki' },
        tls: {
          enabled: true,
          serverName: 'loki.internal.example',
          pkiIssuePath: 'pki_int/issue/loki-grpc',
          ttl: '72h',
        },
      },
    },
  },
};

export interface NomadService {
  name: string;
  provider: string;
  port: string;
  tags: string[];
  meta: Record<string, string>;
  checks: { type: string; path?: string; interval: string }[];
}

export interface NomadTemplate {
  destination: string;
  /** The text Nomad hands to consul-template: HCL escapes ($${, %%{) undone. */
  data: string;
  env: boolean;
  changeMode: string;
  perms?: string;
  /** consul-template's delimiters when the template sets its own. */
  delimiters?: [string, string];
}

export interface NomadTask {
  name: string;
  driver: string;
  config: { image: string; ports: string[]; args: string[] };
  env: Record<string, string>;
  templates: NomadTemplate[];
  resources: { cpu: number; memory: number; memory_max?: number };
  killTimeout: string;
  vault?: Record<string, unknown>;
  volumeMounts: { volume: string; destination: string }[];
}

export interface NomadGroup {
  name: string;
  count: number;
  ports: string[];
  services: NomadService[];
  tasks: NomadTask[];
  ephemeralDisk?: { sticky: boolean; migrate: boolean; size: number };
  volumes: Record<string, Record<string, unknown>>;
  constraints: Record<string, unknown>[];
  spreads: { attribute: string; weight: number }[];
}

export interface NomadJobFile {
  id: string;
  attributes: Record<string, unknown>;
  meta: Record<string, string>;
  update: Record<string, unknown>;
  /** The groups named after a Loki target, in the job's order. */
  groups: NomadGroup[];
  /** The other groups: the memcached caches. */
  cacheGroups: NomadGroup[];
}

type Block = Record<string, unknown>;
const blocks = (value: unknown): Block[] => (Array.isArray(value) ? (value as Block[]) : []);
const labelled = (value: unknown): [string, Block][] =>
  Object.entries((value ?? {}) as Record<string, Block[]>).map(([label, list]) => [label, list[0]!]);
const one = (value: unknown): Block | undefined => blocks(value)[0];
/** hcl2json returns template strings as written; undo the escapes as Nomad's HCL2 evaluation does. */
export const unescapeHcl = (text: string) => text.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');

export async function parseNomadJob(hcl: string): Promise<NomadJobFile> {
  const parsed = (await parse('job.nomad.hcl', hcl)) as { job?: Record<string, Block[]> };
  const jobs = labelled(parsed.job);
  if (jobs.length !== 1) throw new Error(`expected one job, found ${jobs.length}`);
  const [id, job] = jobs[0]!;
  const { group, meta, update, ...attributes } = job;
  const groups = labelled(group).map(([name, g]) => parseGroup(name, g));
  const lokiTargets = new Set(Object.values(COMPONENTS).map((traits) => traits.target));
  return {
    id,
    attributes,
    meta: (one(meta) ?? {}) as Record<string, string>,
    update: one(update) ?? {},
    groups: groups.filter((g) => lokiTargets.has(g.name)),
    cacheGroups: groups.filter((g) => !lokiTargets.has(g.name)),
  };
}

function parseGroup(name: string, g: Block): NomadGroup {
  const network = one(g.network);
  return {
    name,
    count: (g.count as number) ?? 1,
    ports: Object.keys((network?.port ?? {}) as Record<string, unknown>),
    services: blocks(g.service).map(parseService),
    tasks: labelled(g.task).map(([taskName, t]) => parseTask(taskName, t)),
    ...(g.ephemeral_disk ? { ephemeralDisk: one(g.ephemeral_disk) as NomadGroup['ephemeralDisk'] } : {}),
    volumes: Object.fromEntries(labelled(g.volume)),
    constraints: blocks(g.constraint),
    spreads: blocks(g.spread).map((s) => ({ attribute: unescapeHcl(String(s.attribute)), weight: s.weight as number })),
  };
}

function parseService(s: Block): NomadService {
  return {
    name: s.name as string,
    provider: s.provider as string,
    port: s.port as string,
    tags: ((s.tags as string[]) ?? []).map(unescapeHcl),
    meta: Object.fromEntries(Object.entries(one(s.meta) ?? {}).map(([k, v]) => [k, unescapeHcl(String(v))])),
    checks: blocks(s.check) as NomadService['checks'],
  };
}

function parseTask(name: string, t: Block): NomadTask {
  const config = one(t.config) as { image: string; ports: string[]; args: string[] };
  return {
    name,
    driver: t.driver as string,
    config: { ...config, args: config.args.map(unescapeHcl) },
    env: Object.fromEntries(Object.entries(one(t.env) ?? {}).map(([k, v]) => [k, unescapeHcl(String(v))])),
    templates: blocks(t.template).map((tpl) => ({
      destination: tpl.destination as string,
      data: unescapeHcl(tpl.data as string),
      env: tpl.env === true,
      changeMode: tpl.change_mode as string,
      ...(tpl.perms ? { perms: tpl.perms as string } : {}),
      ...(tpl.left_delimiter ? { delimiters: [tpl.left_delimiter, tpl.right_delimiter] as [string, string] } : {}),
    })),
    resources: one(t.resources) as NomadTask['resources'],
    killTimeout: t.kill_timeout as string,
    ...(t.vault ? { vault: one(t.vault)! } : {}),
    volumeMounts: blocks(t.volume_mount) as NomadTask['volumeMounts'],
  };
}

export interface RenderedNomad extends RenderedNomadJob {
  stack: LokiStack;
  job: NomadJobFile;
}

export async function renderNomadJob(input: LokiStackInput): Promise<RenderedNomad> {
  const stack = parseSpec(input);
  const rendered = renderNomad(stack);
  return { stack, ...rendered, job: await parseNomadJob(rendered.hcl) };
}
