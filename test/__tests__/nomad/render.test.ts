// The Nomad job as a Nomad user would get it: parsed by a real HCL2 parser, with a group per component,
// counts, services with /ready checks, the config delivered by a template, credentials only from Vault or
// Nomad Variables, resources, disks and placement; and the Loki config passing the Loki 3 key test.
import { COMPONENTS, parseSpec, renderNomad, SpecError, type ComponentName } from 'loki-microservices';
import { nomadLokiConfig, runtimeConfigText } from 'loki-microservices/testing';
import { parse } from 'yaml';
import { closeHclParser } from '../../src/hcl.js';
import { keyPaths, keysMissingInSupportedMinors, unknownKeys } from '../../src/loki-keys.js';
import { NOMAD_SPECS, renderNomadJob, TRAEFIK_USERS, type RenderedNomad } from '../../src/nomad-job.js';

afterAll(closeHclParser);

const specs = Object.entries(NOMAD_SPECS).map(([name, input]) => ({ name, input }));

describe.each(specs)('$name', ({ input }) => {
  let rendered: RenderedNomad;
  beforeAll(async () => {
    rendered = await renderNomadJob(input);
  });

  const deployed = () =>
    (Object.keys(COMPONENTS) as ComponentName[]).filter((c) => {
      const component = rendered.stack.spec.components[c];
      return !('enabled' in component) || component.enabled;
    });

  test('one service job named after the stack, in its Nomad namespace, rolled out by health checks', () => {
    const { job, stack } = rendered;
    expect(job.id).toBe(stack.metadata.name);
    expect(job.attributes).toMatchObject({
      namespace: stack.spec.nomad.namespace,
      type: 'service',
      datacenters: stack.spec.nomad.datacenters,
    });
    expect(job.meta).toMatchObject({ managed_by: 'loki-microservices', loki_version: stack.spec.version });
    expect(job.update).toMatchObject({ health_check: 'checks', auto_revert: true });
  });

  test('a group per deployed component, count from its replicas', () => {
    const { job, stack } = rendered;
    // hcl2json gives labelled blocks back sorted by label.
    expect(job.groups.map((g) => g.name).sort()).toEqual(
      deployed()
        .map((c) => COMPONENTS[c].target)
        .sort(),
    );
    for (const component of deployed()) {
      expect(job.groups.find((g) => g.name === COMPONENTS[component].target)!.count).toBe(
        stack.spec.components[component].replicas,
      );
    }
  });

  test('memcached caches: a group each, sized by the spec, checked over TCP, the container memory above -m', () => {
    const { job, stack } = rendered;
    const { caches } = stack.spec;
    if (caches.type !== 'memcached') return expect(job.cacheGroups).toEqual([]);
    for (const cache of ['chunks', 'results'] as const) {
      const group = job.cacheGroups.find((g) => g.name === `${cache}-cache`)!;
      expect(group.count).toBe(caches[cache]!.replicas);
      const [service] = group.services;
      expect(service).toMatchObject({ name: `${stack.metadata.name}-${cache}-cache`, port: group.ports[0] });
      expect(service!.checks.map((c) => c.type)).toEqual(['tcp']);
      const [task] = group.tasks;
      expect(task!.config.image).toMatch(/^docker\.io\/library\/memcached:\d+\.\d+\.\d+-alpine$/);
      const args = task!.config.args;
      const megabytes = Number(args[args.indexOf('-m') + 1]);
      expect(megabytes).toBe(parseInt(caches[cache]!.memory, 10) * (caches[cache]!.memory.endsWith('Gi') ? 1024 : 1));
      expect(task!.resources.memory).toBeGreaterThanOrEqual(megabytes + 32);
    }
  });

  test('each task runs the pinned Loki image with its -target, the templated config and env expansion', () => {
    const { job, stack } = rendered;
    for (const group of job.groups) {
      const [task] = group.tasks;
      expect(group.tasks).toHaveLength(1);
      expect(task!.driver).toBe('docker');
      expect(task!.config.image).toBe(`${stack.spec.image}:${stack.spec.version}`);
      expect(task!.config.args).toEqual([
        `-target=${group.name}`,
        '-config.file=${NOMAD_TASK_DIR}/config.yaml',
        '-config.expand-env=true',
      ]);
      expect([...task!.config.ports].sort()).toEqual([...group.ports].sort());
      const config = task!.templates.find((t) => t.destination === 'local/config.yaml');
      expect(config).toMatchObject({ changeMode: 'restart', env: false });
      expect(config!.data).toContain('schema: v13');
    }
  });

  test('each task renders the runtime configuration with change_mode noop, and the config re-reads it', () => {
    const { job, stack } = rendered;
    expect(nomadLokiConfig(stack).runtime_config).toEqual({ file: '${NOMAD_TASK_DIR}/runtime.yaml', period: '10s' });
    for (const group of job.groups) {
      const runtime = group.tasks[0]!.templates.find((t) => t.destination === 'local/runtime.yaml');
      expect(runtime).toMatchObject({ changeMode: 'noop', env: false });
      // Read from the job's Nomad Variable, which every task's workload identity may read; an empty
      // overrides file while the variable or its item is missing.
      const path = `nomad/jobs/${stack.metadata.name}`;
      expect(runtime!.data).toBe(
        `{{ $runtime := "" }}{{ if nomadVarExists "${path}" }}{{ with nomadVar "${path}" }}` +
          '{{ $runtime = (index . "runtime.yaml").Value }}{{ end }}{{ end }}{{ or $runtime "overrides: {}" }}\n',
      );
    }
  });

  test('a service per group with meta alloc_id and component, checked on /ready', () => {
    const { job, stack } = rendered;
    for (const group of job.groups) {
      const service = group.services.find((s) => s.port === 'http')!;
      expect(service).toMatchObject({
        name: `${stack.metadata.name}-${group.name}`,
        provider: stack.spec.nomad.serviceProvider,
      });
      expect(service.meta).toEqual({ alloc_id: '${NOMAD_ALLOC_ID}', component: group.name });
      expect(service.checks).toEqual([expect.objectContaining({ type: 'http', path: '/ready' })]);
    }
  });

  test('resources from the profile: CPU in MHz, memory in MiB, the limit as memory_max', () => {
    const { job, stack } = rendered;
    const ingester = job.groups.find((g) => g.name === 'ingester')!.tasks[0]!;
    const { requests, limits } = stack.spec.components.ingester.resources;
    const mib = (q: string) => Number(q.replace('Gi', '')) * 1024 || Number(q.replace('Mi', ''));
    expect(ingester.resources.memory).toBe(mib(requests!.memory!));
    expect(ingester.resources.memory_max).toBe(mib(limits!.memory!));
    expect(ingester.resources.cpu).toBeGreaterThanOrEqual(100);
  });

  test('ingesters get minutes to flush; the stateful components keep their data', () => {
    const { job, stack } = rendered;
    expect(job.groups.find((g) => g.name === 'ingester')!.tasks[0]!.killTimeout).toBe('5m');
    expect(job.groups.find((g) => g.name === 'distributor')!.tasks[0]!.killTimeout).toBe('30s');
    for (const group of job.groups) {
      const stateful = Object.values(COMPONENTS).find((c) => c.target === group.name)!.kind === 'StatefulSet';
      if (!stateful) {
        expect(group.ephemeralDisk).toBeUndefined();
        expect(group.volumes).toEqual({});
      } else if (stack.spec.nomad.volumes === 'csi') {
        expect(group.volumes.data).toMatchObject({
          type: 'csi',
          source: `${stack.metadata.name}-${group.name}`,
          per_alloc: true,
        });
        expect(group.tasks[0]!.volumeMounts).toEqual([{ volume: 'data', destination: '/loki' }]);
      } else {
        expect(group.ephemeralDisk).toMatchObject({ sticky: true, migrate: true });
        expect(group.ephemeralDisk!.size).toBeGreaterThanOrEqual(1024);
      }
    }
  });

  test('replicas spread over nodes, or kept apart when anti-affinity is hard', () => {
    const { job, stack } = rendered;
    const ingester = job.groups.find((g) => g.name === 'ingester')!;
    if (ingester.count < 2) return expect(ingester.spreads).toEqual([]);
    if (stack.spec.scheduling.antiAffinity === 'hard')
      expect(ingester.constraints).toContainEqual({ operator: 'distinct_hosts', value: 'true' });
    else expect(ingester.spreads).toContainEqual({ attribute: '${node.unique.id}', weight: 50 });
    if (stack.spec.scheduling.zoneSpread)
      expect(ingester.spreads).toContainEqual({ attribute: '${node.datacenter}', weight: 50 });
  });

  test('the Loki config passes the Loki 3 key test', () => {
    const config = nomadLokiConfig(rendered.stack);
    expect(keyPaths(config).length).toBeGreaterThan(60);
    expect(unknownKeys(config)).toEqual([]);
    expect(keysMissingInSupportedMinors(config)).toEqual([]);
  });

  test('no credential in the job: only template reads of Vault or a Nomad Variable', () => {
    const { hcl, job, stack } = rendered;
    const { credentials } = stack.spec.nomad;
    const templates = job.groups.flatMap((g) => g.tasks[0]!.templates);
    const credentialTemplates = templates.filter(
      (t) => t.destination.startsWith('secrets/') && !t.destination.startsWith('secrets/tls/'),
    );
    if (!credentials) return expect(credentialTemplates).toEqual([]);
    const reader = credentials.source === 'vault' ? `secret "${credentials.path}"` : `nomadVar "${credentials.path}"`;
    for (const template of credentialTemplates) {
      expect(template.data).toContain(reader);
      expect(template.perms).toBe('0600');
    }
    // Only the components that touch the object store get them.
    for (const group of job.groups) {
      const touchesStore = Object.values(COMPONENTS).find((c) => c.target === group.name)!.objectStore;
      expect(group.tasks[0]!.templates.some((t) => credentialTemplates.includes(t))).toBe(touchesStore);
    }
    expect(hcl).not.toMatch(/(access_key_id|secret_access_key|account_key):\s*'?[^$\s']/);
  });
});

test('the Traefik users are the given htpasswd hashes, and plain-text passwords are refused', () => {
  const spec = (users: string[]) => ({
    spec: {
      storage: { type: 's3' as const, s3: { bucket: 'b-loki', region: 'eu-west-1' } },
      nomad: { traefik: { enabled: true, basicAuthUsers: users } },
    },
  });
  expect(() => parseSpec(spec(TRAEFIK_USERS))).not.toThrow();
  expect(() => parseSpec(spec(['promtail:secret']))).toThrow(
    /spec\.nomad\.traefik\.basicAuthUsers\[0\]: must be an htpasswd entry/,
  );
  expect(() => parseSpec(spec([]))).toThrow(/spec\.nomad\.traefik\.basicAuthUsers: required when traefik is enabled/);
});

test('declared rules reach the ruler as files of <local directory>/<tenant>, verbatim for consul-template', async () => {
  const { job, stack } = await renderNomadJob(NOMAD_SPECS['small/rules-remote-write']!);
  const ruler = nomadLokiConfig(stack).ruler as Record<string, any>;
  expect(ruler.storage).toEqual({ type: 'local', local: { directory: '${NOMAD_TASK_DIR}/rules' } });
  expect(ruler.remote_write).toEqual({
    enabled: true,
    clients: { default: { url: 'http://prometheus.service.consul:9090/api/v1/write' } },
  });
  const templates = (group: string) =>
    job.groups
      .find((g) => g.name === group)!
      .tasks[0]!.templates.filter((t) => t.destination.startsWith('local/rules/'));
  expect(templates('querier')).toEqual([]);
  const files = templates('ruler');
  // The task directory is ${NOMAD_TASK_DIR}: local/rules/<tenant>/<file> is what Loki lists under its directory.
  expect(files.map((t) => t.destination)).toEqual([
    'local/rules/team-a/inline.yaml',
    'local/rules/team-b/rules__shop.yaml',
  ]);
  for (const file of files) {
    expect(file.changeMode).toBe('noop');
    // Other delimiters: consul-template finds no action in the text and writes it as it is.
    expect(file.delimiters).toEqual(['[[=', '=]]']);
    expect(file.data).not.toContain('[[=');
  }
  const shop = parse(files[1]!.data) as { groups: { name: string; rules: Record<string, any>[] }[] };
  expect(shop.groups[0]!.rules[0]!.annotations.summary).toBe(
    '{{ $labels.app }}: {{ $value }} errors/s; ${HOME} $NOMAD_TOKEN',
  );
  expect(shop.groups[0]!.rules[1]!.expr).toContain('line_format "{{.app}}"');
});

describe('what Nomad cannot do is invalid input, naming the field', () => {
  const issuesOf = (input: Parameters<typeof parseSpec>[0]) => {
    try {
      renderNomad(parseSpec(input));
    } catch (error) {
      if (error instanceof SpecError) return error.issues;
      throw error;
    }
    return [];
  };

  test('the bundled store (a Kubernetes pod), the default of the demo profile', () => {
    expect(issuesOf({})).toEqual([{ path: 'spec.storage.type', message: expect.stringContaining('use s3') }]);
  });

  test('a Kubernetes Secret for credentials', () => {
    expect(
      issuesOf({
        spec: { storage: { type: 's3', s3: { bucket: 'b-loki', region: 'eu-west-1', secretName: 'loki-s3' } } },
      }),
    ).toEqual([{ path: 'spec.storage.s3.secretName', message: expect.stringContaining('spec.nomad.credentials') }]);
  });

  test('remote-write headers from Kubernetes Secrets', () => {
    const input = NOMAD_SPECS['small/rules-remote-write']!;
    const remoteWrite = {
      url: 'http://prometheus.service.consul:9090/api/v1/write',
      headers: { Authorization: { secretName: 'remote-write', key: 'authorization' } },
    };
    expect(issuesOf({ ...input, spec: { ...input.spec, rules: { ...input.spec!.rules, remoteWrite } } })).toEqual([
      { path: 'spec.rules.remoteWrite.headers', message: expect.stringContaining('Nomad cannot') },
    ]);
  });

  test('azure without credentials, or with Workload Identity', () => {
    const azure = { accountName: 'acmeloki', container: 'loki' };
    expect(
      issuesOf({ spec: { storage: { type: 'azure', azure: { ...azure, useFederatedToken: true } } } }).map(
        (i) => i.path,
      ),
    ).toEqual(['spec.nomad.credentials', 'spec.storage.azure.useFederatedToken']);
  });

  test('autoscaling, which needs the separate Nomad Autoscaler', () => {
    const input = NOMAD_SPECS['production/gcs-hard-anti-affinity']!;
    const components = { ...input.spec!.components, distributor: { autoscaling: { enabled: true, max: 4 } } };
    expect(issuesOf({ ...input, spec: { ...input.spec, components } })).toEqual([
      { path: 'spec.components.distributor.autoscaling.enabled', message: expect.stringContaining('Kubernetes-only') },
    ]);
  });

  test('the gateway exposed through a Kubernetes Ingress', () => {
    const input = NOMAD_SPECS['small/rules-remote-write']!;
    const gateway = { enabled: true, expose: { ingress: { host: 'loki.example.com' } } };
    expect(issuesOf({ ...input, spec: { ...input.spec, gateway } })).toEqual([
      { path: 'spec.gateway.expose', message: expect.stringContaining('spec.nomad.traefik') },
    ]);
  });
});

test('spec.overrides change nothing in the job: the runtime template reads them from a Nomad Variable', async () => {
  const input = NOMAD_SPECS['production/gcs-hard-anti-affinity']!;
  const plain = await renderNomadJob(input);
  const teamA = await renderNomadJob({
    ...input,
    spec: { ...input.spec, overrides: { 'team-a': { queryTimeout: '5m', retention: '2160h' } } },
  });
  const teamB = await renderNomadJob({
    ...input,
    spec: { ...input.spec, overrides: { 'team-b': { ingestionRateMB: 40, maxQuerySeries: 5000 } } },
  });
  // Nomad replaces allocations when a task's templates change in the job: the job text must not move.
  expect(teamA.hcl).toBe(plain.hcl);
  expect(teamB.hcl).toBe(plain.hcl);
  expect(runtimeConfigText(teamA.stack)).not.toBe(runtimeConfigText(plain.stack));
  for (const group of teamA.job.groups) {
    const runtime = group.tasks[0]!.templates.find((t) => t.destination === 'local/runtime.yaml')!;
    expect(runtime.changeMode).toBe('noop');
    expect(runtime.data).toContain(`nomadVar "nomad/jobs/${teamA.stack.metadata.name}"`);
    expect(runtime.data).not.toContain('team-a');
  }
  expect(parse(runtimeConfigText(teamA.stack))).toEqual({
    overrides: { 'team-a': { query_timeout: '5m', retention_period: '2160h' } },
  });
});
