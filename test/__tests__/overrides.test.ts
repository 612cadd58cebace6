// Per-tenant overrides (spec.overrides) reloaded without a restart: a `<name>-runtime` ConfigMap that every
// Loki pod mounts and Loki re-reads (runtime_config), kept out of the config hash so that changing only the
// overrides rolls no pod; per-stream retention (spec.retentionStreams); and what the spec refuses or warns about.
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { COMPONENTS, parseSpec, specWarnings, toYaml, type LokiStackInput } from 'loki-microservices';
import { configMapName, lokiConfig, runtimeConfigMapName } from 'loki-microservices/testing';
import { parse } from 'yaml';
import { find, render, workloads } from '../src/objects.js';
import { EVERY_OVERRIDE, issuesOf, specMatrix } from '../src/specs.js';

const CONFIG_HASH = 'loki-microservices/config-hash';
const LOKI_TARGETS = new Set(Object.values(COMPONENTS).map((c) => c.target));
const componentOf = (object: KubernetesObject) => object.metadata?.labels?.['app.kubernetes.io/component'] ?? '';

function runtimeFile(input: LokiStackInput): unknown {
  const { stack, objects } = render(input);
  const configMap = find<V1ConfigMap>(objects, 'ConfigMap', runtimeConfigMapName(stack));
  return parse(configMap.data!['runtime.yaml']!);
}

const withAuth = (overrides: Record<string, unknown>): LokiStackInput => ({
  spec: { auth: { enabled: true }, overrides } as LokiStackInput['spec'],
});

describe.each(specMatrix())('$name', ({ input }) => {
  const { stack, objects } = render(input);

  test('a <name>-runtime ConfigMap with runtime.yaml, applied with the config ConfigMap before any workload', () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata?.name}`);
    const runtime = names.indexOf(`ConfigMap/${runtimeConfigMapName(stack)}`);
    expect(runtime).toBe(names.indexOf(`ConfigMap/${configMapName(stack)}`) + 1);
    const firstWorkload = objects.findIndex((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    expect(runtime).toBeLessThan(firstWorkload);
    const data = find<V1ConfigMap>(objects, 'ConfigMap', runtimeConfigMapName(stack)).data!;
    expect(Object.keys(data)).toEqual(['runtime.yaml']);
    expect(Object.keys(parse(data['runtime.yaml']!) as object)).toEqual(['overrides']);
  });

  test('every Loki workload mounts it where its config points, the gateway and the object store do not', () => {
    const file = (lokiConfig(stack).runtime_config as { file: string; period: string }).file;
    expect(lokiConfig(stack).runtime_config).toEqual({ file: '/etc/loki/runtime/runtime.yaml', period: '10s' });
    const loki = workloads(objects).filter(({ object }) => LOKI_TARGETS.has(componentOf(object)));
    expect(loki.length).toBeGreaterThanOrEqual(7);
    for (const { template } of loki) {
      const volume = template.spec!.volumes!.find((v) => v.configMap?.name === runtimeConfigMapName(stack));
      expect(volume).toBeDefined();
      const container = template.spec!.containers.find((c) => c.name === 'loki')!;
      const mount = container.volumeMounts!.find((m) => m.name === volume!.name)!;
      // A directory mount (no subPath): the kubelet updates the file in place.
      expect(mount).toEqual({ name: volume!.name, mountPath: '/etc/loki/runtime', readOnly: true });
      expect(file).toBe(`${mount.mountPath}/runtime.yaml`);
    }
    for (const { template } of workloads(objects).filter(({ object }) => !LOKI_TARGETS.has(componentOf(object)))) {
      expect((template.spec!.volumes ?? []).some((v) => v.configMap?.name === runtimeConfigMapName(stack))).toBe(false);
    }
  });
});

test('without overrides the runtime file is `overrides: {}`', () => {
  expect(runtimeFile({})).toEqual({ overrides: {} });
  const { stack, objects } = render({});
  expect(find<V1ConfigMap>(objects, 'ConfigMap', runtimeConfigMapName(stack)).data).toEqual({
    'runtime.yaml': 'overrides: {}\n',
  });
});

test('the overrides in Loki keys: limits_config names per tenant, retention, per-stream retention, OTLP mapping', () => {
  expect(runtimeFile(EVERY_OVERRIDE)).toEqual({
    overrides: {
      'team-a': {
        ingestion_rate_mb: 16,
        ingestion_burst_size_mb: 32,
        max_global_streams_per_user: 20000,
        max_query_series: 1000,
        max_query_parallelism: 64,
        max_entries_limit_per_query: 10000,
        query_timeout: '5m',
        reject_old_samples_max_age: '336h',
        retention_period: '2160h',
        retention_stream: [
          { selector: '{namespace="prod", level="debug"}', priority: 2, period: '48h' },
          { selector: '{app=~"audit.*"}', priority: 0, period: '8760h' },
        ],
        otlp_config: {
          resource_attributes: {
            ignore_defaults: true,
            attributes_config: [
              { action: 'index_label', attributes: ['service.name', 'k8s.namespace.name'] },
              { action: 'drop', regex: 'process\\..*' },
            ],
          },
          scope_attributes: [{ action: 'drop', attributes: ['telemetry.sdk.version'] }],
          log_attributes: [{ action: 'structured_metadata', regex: 'http\\..*' }],
        },
      },
      'team-b': { retention_period: '0', query_timeout: '2m' },
    },
  });
});

test('changing only spec.overrides changes only the runtime ConfigMap: same config hash, same other objects', () => {
  const base = EVERY_OVERRIDE.spec!;
  const a = render(EVERY_OVERRIDE);
  const b = render({ spec: { ...base, overrides: { 'team-b': { maxQuerySeries: 50, retention: '48h' } } } });
  const c = render({ spec: { ...base, overrides: null } });
  const hashes = (objects: KubernetesObject[]) =>
    workloads(objects).map(({ object, template }) => [
      object.metadata!.name,
      template.metadata?.annotations?.[CONFIG_HASH],
    ]);
  expect(hashes(a.objects).filter(([name]) => !/gateway|object-store/.test(name!)).length).toBeGreaterThanOrEqual(7);
  expect(hashes(b.objects)).toEqual(hashes(a.objects));
  expect(hashes(c.objects)).toEqual(hashes(a.objects));
  const others = (objects: KubernetesObject[]) =>
    toYaml(objects.filter((o) => o.metadata?.name !== runtimeConfigMapName(a.stack)));
  expect(others(b.objects)).toBe(others(a.objects));
  expect(others(c.objects)).toBe(others(a.objects));
  const runtime = (objects: KubernetesObject[]) =>
    find<V1ConfigMap>(objects, 'ConfigMap', runtimeConfigMapName(a.stack));
  expect(runtime(b.objects)).not.toEqual(runtime(a.objects));
  expect(runtime(c.objects).data).toEqual({ 'runtime.yaml': 'overrides: {}\n' });
});

describe('spec.retention and spec.retentionStreams', () => {
  const limitsOf = (input: LokiStackInput) => lokiConfig(render(input).stack).limits_config as Record<string, unknown>;

  test('an existing `retention: 744h` renders as before: retention_period, no retention_stream', () => {
    expect(limitsOf({ spec: { retention: '744h' } })).toMatchObject({ retention_period: '744h' });
    expect(limitsOf({ spec: { retention: '744h' } })).not.toHaveProperty('retention_stream');
    expect(limitsOf({})).not.toHaveProperty('retention_period');
  });

  test('retentionStreams become limits_config.retention_stream (priority 0 unless given)', () => {
    const limits = limitsOf({
      spec: {
        retention: '744h',
        retentionStreams: [
          { selector: '{namespace="dev"}', period: '24h' },
          { selector: '{app="audit"}', priority: 5, period: '8760h' },
        ],
      },
    });
    expect(limits.retention_stream).toEqual([
      { selector: '{namespace="dev"}', priority: 0, period: '24h' },
      { selector: '{app="audit"}', priority: 5, period: '8760h' },
    ]);
  });

  test('a selector that is not {…} and a period under 24h are refused, naming the field', () => {
    expect(
      issuesOf({ spec: { retentionStreams: [{ selector: 'namespace="dev"', period: '1h' }] } }).map((i) => i.path),
    ).toEqual(['spec.retentionStreams[0].selector', 'spec.retentionStreams[0].period']);
  });
});

describe('validation of spec.overrides', () => {
  test('overrides without spec.auth.enabled are refused, saying what to set', () => {
    expect(issuesOf({ spec: { overrides: { 'team-a': { queryTimeout: '5m' } } } })).toEqual([
      { path: 'spec.overrides', message: expect.stringContaining('set spec.auth.enabled: true') },
    ]);
    expect(issuesOf({ spec: { overrides: {} } })).toEqual([]);
  });

  test('a tenant ID Loki would refuse', () => {
    expect(issuesOf(withAuth({ 'team/a': { queryTimeout: '5m' } }))).toEqual([
      { path: 'spec.overrides.team/a', message: expect.stringContaining('must be a Loki tenant ID') },
    ]);
    expect(issuesOf(withAuth({ '..': {} }))).toEqual([
      { path: 'spec.overrides...', message: expect.stringContaining('must not be "." or ".."') },
    ]);
  });

  test('each field is checked like spec.limits, with its path and what would be valid', () => {
    const issues = issuesOf(
      withAuth({
        'team-a': {
          ingestionRateMB: -1,
          queryTimeout: 'soon',
          retention: '12h',
          retentionStreams: [{ selector: '{}', period: '48h' }],
          otlp: {
            resourceAttributes: { attributesConfig: [{ action: 'label', attributes: ['a'] }] },
            scopeAttributes: [{ action: 'index_label', attributes: ['a'] }],
            logAttributes: [{ action: 'drop' }, { action: 'drop', attributes: ['a'], regex: 'b' }],
          },
          maxQuerySeriess: 10,
        },
      }),
    );
    expect(Object.fromEntries(issues.map((i) => [i.path, i.message]))).toEqual({
      'spec.overrides.team-a.ingestionRateMB': 'must be > 0',
      'spec.overrides.team-a.queryTimeout': expect.stringContaining('must be a duration such as'),
      'spec.overrides.team-a.retention': expect.stringContaining('at least 24h'),
      'spec.overrides.team-a.retentionStreams[0].selector': expect.stringContaining('LogQL stream selector'),
      'spec.overrides.team-a.otlp.resourceAttributes.attributesConfig[0].action': expect.stringContaining(
        '"index_label", "structured_metadata", "drop"',
      ),
      'spec.overrides.team-a.otlp.scopeAttributes[0].action': expect.stringContaining('structured_metadata or drop'),
      'spec.overrides.team-a.otlp.logAttributes[0]': expect.stringContaining('exactly one of'),
      'spec.overrides.team-a.otlp.logAttributes[1]': expect.stringContaining('exactly one of'),
      'spec.overrides.team-a.maxQuerySeriess': expect.stringContaining('did you mean "maxQuerySeries"'),
    });
  });

  test('consul-template actions, which the Nomad template would run, are refused', () => {
    expect(
      issuesOf(withAuth({ a: { otlp: { logAttributes: [{ action: 'drop', regex: '{{ env "HOME" }}' }] } } })),
    ).toEqual([{ path: 'spec.overrides.a.otlp.logAttributes[0].regex', message: expect.stringContaining('"{{"') }]);
  });

  test('a tenant the gateway does not serve is a warning, not an error', () => {
    const input: LokiStackInput = {
      spec: {
        auth: { enabled: true, tenant: 'team-a' },
        gateway: { enabled: true, tenants: ['team-a'] },
        overrides: { 'team-a': { queryTimeout: '5m' }, 'team-z': { queryTimeout: '5m' } },
      },
    };
    expect(issuesOf(input)).toEqual([]);
    expect(specWarnings(parseSpec(input))).toEqual([
      { path: 'spec.overrides.team-z', message: expect.stringContaining('not in spec.gateway.tenants') },
    ]);
    // Without the gateway, or with its one default user, there is nothing to compare with.
    expect(specWarnings(parseSpec({ spec: { ...input.spec, gateway: { enabled: false } } }))).toEqual([]);
    expect(specWarnings(parseSpec({ spec: { ...input.spec, gateway: { enabled: true } } }))).toEqual([]);
  });
});
