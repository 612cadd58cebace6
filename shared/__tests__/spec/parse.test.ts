import { SpecError } from '../../src/errors.js';
import { applyOverrides } from '../../src/spec/overrides.js';
import { deepMerge, parseSpec, readSpecDocument } from '../../src/spec/parse.js';
import { PROFILE_PRESETS } from '../../src/spec/profiles.js';
import { DEFAULT_LOKI_VERSION } from '../../src/spec/schema.js';

function issuesOf(input: unknown): Record<string, string> {
  try {
    parseSpec(input);
  } catch (error) {
    if (error instanceof SpecError) return Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
    throw error;
  }
  throw new Error('expected the spec to be invalid');
}

describe('parseSpec', () => {
  test('an empty document is the documented default stack', () => {
    const stack = parseSpec({});
    expect(stack.apiVersion).toBe('loki-microservices/v1alpha1');
    expect(stack.metadata).toEqual({ name: 'loki', namespace: 'loki', labels: {} });
    expect(stack.spec).toMatchObject({
      profile: 'demo',
      version: DEFAULT_LOKI_VERSION,
      replicationFactor: 1,
      retention: '0',
      storage: { type: 'bundled' },
    });
    // The profile's components, and Loki's own default for the queries a querier runs at once.
    const { querier } = PROFILE_PRESETS.demo.components;
    expect(stack.spec.components).toEqual({
      ...PROFILE_PRESETS.demo.components,
      querier: { ...querier, maxConcurrent: 4 },
    });
    expect(stack.spec.storage.bundled).toMatchObject({
      bucket: 'loki',
      size: '10Gi',
      image: expect.stringMatching(/rustfs:\d/),
    });
    expect(parseSpec(undefined)).toEqual(stack);
  });

  test('the profile fills what the user leaves out; the user wins where both speak', () => {
    const stack = parseSpec({
      spec: {
        profile: 'small',
        replicationFactor: 2,
        components: { querier: { replicas: 5, tolerations: [{ operator: 'Exists' }] } },
      },
    });
    expect(stack.spec.replicationFactor).toBe(2);
    expect(stack.spec.components.querier).toEqual({
      ...PROFILE_PRESETS.small.components.querier,
      maxConcurrent: 4,
      replicas: 5,
      tolerations: [{ operator: 'Exists' }],
    });
    expect(stack.spec.components.ingester.replicas).toBe(3);
  });

  test('retention 0 as a number means keep forever', () => {
    expect(parseSpec({ spec: { retention: 0 } }).spec.retention).toBe('0');
    expect(parseSpec({ spec: { retention: '7d' } }).spec.retention).toBe('7d');
  });

  test('a non-mapping document is refused', () => {
    expect(issuesOf('spec: {}')).toEqual({ '(root)': expect.stringMatching(/mapping/) });
    expect(issuesOf([1])).toEqual({ '(root)': expect.stringMatching(/mapping/) });
  });

  test('missing required fields are named with what they are for', () => {
    expect(issuesOf({ spec: { storage: { type: 'gcs', gcs: {} } } })).toEqual({
      'spec.storage.gcs.bucket': expect.stringMatching(/^required: Bucket for chunks/),
    });
  });

  test('a field-level error is reported once, not again as a cross-field error', () => {
    const issues = issuesOf({ spec: { profile: 'small', components: { ingester: { replicas: 'x' } } } });
    expect(Object.keys(issues)).toEqual(['spec.components.ingester.replicas']);
    expect(issues['spec.components.ingester.replicas']).toMatch(/must be a number/);
  });

  test('the input is not modified', () => {
    const input = { spec: { profile: 'small', components: { ingester: { replicas: 4 } } } };
    const copy = structuredClone(input);
    parseSpec(input);
    expect(input).toEqual(copy);
  });
});

describe('deepMerge', () => {
  test('merges mappings key by key, replaces lists and scalars, and removes on null', () => {
    const base = { a: { b: 1, c: [1, 2] }, d: 'x' };
    expect(deepMerge(base, { a: { c: [3] }, d: 'y', e: true })).toEqual({ a: { b: 1, c: [3] }, d: 'y', e: true });
    expect(deepMerge(base, { a: { b: null }, d: null })).toEqual({ a: { c: [1, 2] } });
    expect(base).toEqual({ a: { b: 1, c: [1, 2] }, d: 'x' });
  });
});

describe('applyOverrides', () => {
  test('reads values as YAML scalars and flow collections, creating parents', () => {
    const result = applyOverrides({ spec: { profile: 'demo' } }, [
      'spec.profile=small',
      'spec.components.ingester.replicas=5',
      'spec.auth.enabled=true',
      'spec.imagePullSecrets=[a, b]',
      'metadata.labels={team: logs}',
      'spec.storage.s3.bucket=acme-loki',
    ]);
    expect(result).toEqual({
      metadata: { labels: { team: 'logs' } },
      spec: {
        profile: 'small',
        components: { ingester: { replicas: 5 } },
        auth: { enabled: true },
        imagePullSecrets: ['a', 'b'],
        storage: { s3: { bucket: 'acme-loki' } },
      },
    });
  });

  test('keeps text that is not YAML as a string, and an empty value as ""', () => {
    expect(applyOverrides({}, ['spec.version=3.7.8', 'metadata.name=', 'spec.retention=[oops'])).toEqual({
      spec: { version: '3.7.8', retention: '[oops' },
      metadata: { name: '' },
    });
  });

  test('malformed assignments are refused, each by position', () => {
    expect(() => applyOverrides({}, ['spec.profile', '=x', 'spec..a=1'])).toThrow(SpecError);
    try {
      applyOverrides({}, ['ok.path=1', 'spec.profile']);
    } catch (error) {
      expect((error as SpecError).issues).toEqual([{ path: '--set #2', message: expect.stringMatching(/path=value/) }]);
    }
  });
});

describe('readSpecDocument', () => {
  test('reads YAML and JSON', () => {
    expect(readSpecDocument('spec:\n  profile: small\n')).toEqual({ spec: { profile: 'small' } });
    expect(readSpecDocument('{"spec": {"profile": "small"}}')).toEqual({ spec: { profile: 'small' } });
  });

  test('refuses an empty file, or one of comments only: only leaving the file out means the default stack', () => {
    for (const text of ['', '\n\n', '# just a comment\n# another\n', '---\n']) {
      expect(() => readSpecDocument(text, 'spec.yaml')).toThrow(/spec\.yaml is empty/);
    }
  });

  test('refuses keys that reach into JavaScript objects, wherever they are', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const text = `spec:\n  components:\n    ingester:\n      ${key}:\n        replicas: 9\n`;
      expect(() => readSpecDocument(text)).toThrow(
        new RegExp(`spec\\.components\\.ingester\\.${key}: is not a field name`),
      );
      expect(() => parseSpec(JSON.parse(`{"metadata": {"${key}": {"namespace": "kube-system"}}}`))).toThrow(SpecError);
    }
    expect(Object.prototype).not.toHaveProperty('replicas');
  });

  test('refuses duplicate keys, several documents and non-mappings', () => {
    expect(() => readSpecDocument('spec: {}\nspec: {}\n', 'a.yaml')).toThrow(/a\.yaml is not valid YAML or JSON/);
    expect(() => readSpecDocument('spec: {}\n---\nspec: {}\n')).toThrow(SpecError);
    expect(() => readSpecDocument('- a\n- b\n')).toThrow(/must hold one mapping/);
  });
});

describe('fields that land in the Loki configuration', () => {
  const ruler = (alertmanagerUrl: string) => ({ spec: { components: { ruler: { enabled: true, alertmanagerUrl } } } });

  test.each([
    ['http://am:9093/${SECRET}', /must not contain "\$"/],
    ['http://am:9093/$HOME', /must not contain "\$"/],
    ['http://am:9093/{{ with secret "kv/x" }}{{ .Data }}{{ end }}', /must not contain "\{\{"/],
    ['http://admin:hunter2@am:9093', /must not carry a user or password/],
    ['ftp://am:9093', /http\(s\) URL/],
  ])('alertmanagerUrl %s is refused', (url, message) => {
    expect(() => parseSpec(ruler(url))).toThrow(SpecError);
    try {
      parseSpec(ruler(url));
    } catch (error) {
      expect((error as SpecError).issues).toEqual([
        { path: 'spec.components.ruler.alertmanagerUrl', message: expect.stringMatching(message) },
      ]);
      expect((error as SpecError).message).not.toContain('hunter2');
    }
  });

  test('a plain Alertmanager URL is taken', () => {
    expect(parseSpec(ruler('http://alertmanager.monitoring.svc:9093')).spec.components.ruler.alertmanagerUrl).toBe(
      'http://alertmanager.monitoring.svc:9093',
    );
  });

  test('labels may not set the Pod Security level of the namespace', () => {
    expect(() => parseSpec({ metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } })).toThrow(
      /metadata\.labels: must not set pod-security\.kubernetes\.io\/\* labels/,
    );
    expect(parseSpec({ metadata: { labels: { team: 'obs' } } }).metadata.labels).toEqual({ team: 'obs' });
  });
});

describe('production options (gateway, tls, monitoring)', () => {
  test('off by default, with the gateway sized by the profile', () => {
    const stack = parseSpec({ spec: { profile: 'small' } });
    expect(stack.spec.gateway).toMatchObject({
      enabled: false,
      replicas: 2,
      tenants: [],
      adminUser: 'admin',
      image: expect.stringMatching(/nginx-unprivileged:/),
    });
    expect(stack.spec.gateway.resources).toEqual(PROFILE_PRESETS.small.gateway.resources);
    expect(stack.spec.tls).toEqual({ enabled: false, provider: 'generated', validity: '2160h' });
    expect(stack.spec.monitoring).toEqual({ enabled: false, prometheusOperator: false, labels: {} });
  });

  test('gateway users: each tenant once, the admin apart, and the stack tenant among them when multi-tenant', () => {
    expect(issuesOf({ spec: { gateway: { enabled: true, tenants: ['a', 'b', 'a'] } } })).toEqual({
      'spec.gateway.tenants[2]': '"a" is listed twice: list each tenant once',
    });
    expect(
      issuesOf({ spec: { gateway: { tenants: ['ops', 'a'], adminUser: 'ops' } } })['spec.gateway.adminUser'],
    ).toMatch(/must differ from every tenant/);
    expect(
      issuesOf({ spec: { auth: { enabled: true, tenant: 'x' }, gateway: { enabled: true, tenants: ['a'] } } })[
        'spec.gateway.tenants'
      ],
    ).toMatch(/must include spec.auth.tenant \("x"\)/);
    expect(issuesOf({ spec: { gateway: { tenants: ['no:colon'] } } })['spec.gateway.tenants[0]']).toMatch(
      /Loki tenant ID/,
    );
    expect(issuesOf({ spec: { gateway: { image: 'nginx' } } })['spec.gateway.image']).toMatch(/tag or digest/);
  });

  test('tls: issuerRef only with cert-manager, a validity of at least an hour', () => {
    expect(issuesOf({ spec: { tls: { enabled: true, issuerRef: { name: 'ca' } } } })).toEqual({
      'spec.tls.issuerRef':
        'only used with tls.provider cert-manager: remove it, or set spec.tls.provider to cert-manager',
    });
    expect(issuesOf({ spec: { tls: { validity: '30m' } } })['spec.tls.validity']).toBe('must be at least 1h');
    expect(issuesOf({ spec: { tls: { provider: 'vault' } } })['spec.tls.provider']).toMatch(/generated.*cert-manager/);
    expect(
      parseSpec({
        spec: { tls: { enabled: true, provider: 'cert-manager', issuerRef: { name: 'corp', kind: 'ClusterIssuer' } } },
      }).spec.tls.issuerRef,
    ).toEqual({ name: 'corp', kind: 'ClusterIssuer' });
  });

  test('monitoring.prometheusOperator needs monitoring.enabled', () => {
    expect(issuesOf({ spec: { monitoring: { prometheusOperator: true } } })).toEqual({
      'spec.monitoring.prometheusOperator':
        'takes effect only with spec.monitoring.enabled: true: set that too, or remove this',
    });
  });
});

describe('spec.caches', () => {
  test('embedded for demo and small, memcached sized by the profile for production', () => {
    expect(parseSpec({}).spec.caches).toEqual({ type: 'embedded' });
    expect(parseSpec({ spec: { profile: 'small' } }).spec.caches).toEqual({ type: 'embedded' });
    const production = parseSpec({
      spec: { profile: 'production', storage: { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1' } } },
    });
    expect(production.spec.caches).toEqual({
      type: 'memcached',
      chunks: { replicas: 3, memory: '2Gi', maxItemSize: '4Mi' },
      results: { replicas: 2, memory: '512Mi' },
    });
  });

  test("memcached chosen on demo takes demo's small sizes, under the fields the user gives", () => {
    const stack = parseSpec({ spec: { caches: { type: 'memcached', chunks: { memory: '256Mi' } } } });
    expect(stack.spec.caches).toEqual({
      type: 'memcached',
      chunks: { replicas: 1, memory: '256Mi', maxItemSize: '4Mi' },
      results: { replicas: 1, memory: '64Mi' },
    });
  });

  test('external caches get no sizes from the profile', () => {
    const external = { chunks: 'dns+memcached-chunks.example.internal:11211', results: 'memcached-results:11211' };
    const stack = parseSpec({
      spec: {
        profile: 'production',
        storage: { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1' } },
        caches: { type: 'external', external },
      },
    });
    expect(stack.spec.caches).toEqual({ type: 'external', external });
  });

  test('the item size limits follow the chunk target size and the memory', () => {
    const withChunks = (chunks: Record<string, string>) =>
      issuesOf({ spec: { caches: { type: 'memcached', chunks } } })['spec.caches.chunks.maxItemSize'];
    expect(withChunks({ maxItemSize: '2Mi' })).toMatch(/at least 3Mi/);
    expect(withChunks({ memory: '64Mi', maxItemSize: '9Mi' })).toMatch(/at most spec.caches.chunks.memory\/8/);
    expect(
      parseSpec({ spec: { caches: { type: 'memcached', chunks: { maxItemSize: '3Mi' } } } }).spec.caches.chunks,
    ).toMatchObject({ maxItemSize: '3Mi' });
  });
});

describe('autoscaling: who may autoscale, and the settings that go together', () => {
  const keda = { prometheusAddress: 'http://prometheus.monitoring:9090' };

  test('off by default; turned on, it takes min 1, max 3, an HPA at 75% CPU; queriers run 4 queries at once', () => {
    const { components, gateway } = parseSpec({}).spec;
    expect(components.querier.autoscaling).toBeUndefined();
    expect(gateway.autoscaling).toBeUndefined();
    expect(components.querier.maxConcurrent).toBe(4);
    expect(
      parseSpec({ spec: { components: { distributor: { autoscaling: { enabled: true } } } } }).spec.components
        .distributor.autoscaling,
    ).toEqual({ enabled: true, min: 1, max: 3, mode: 'hpa', targetCPU: 75 });
  });

  test.each(['ingester', 'indexGateway', 'compactor', 'ruler', 'patternIngester'])(
    '%s: refused, as it holds ring tokens or data',
    (name) => {
      expect(issuesOf({ spec: { components: { [name]: { autoscaling: { enabled: true } } } } })).toEqual({
        [`spec.components.${name}.autoscaling`]: expect.stringMatching(/^not available: .*ring tokens.*set replicas/),
      });
    },
  );

  test('the query-scheduler: refused, as every querier and query-frontend connects to each one', () => {
    expect(issuesOf({ spec: { components: { queryScheduler: { autoscaling: { enabled: true } } } } })).toEqual({
      'spec.components.queryScheduler.autoscaling': expect.stringContaining('connects to each scheduler'),
    });
  });

  test('min above max, a keda block without keda mode or off the querier, an unknown mode', () => {
    expect(issuesOf({ spec: { components: { querier: { autoscaling: { enabled: true, min: 5, max: 2 } } } } })).toEqual(
      {
        'spec.components.querier.autoscaling.min': 'must be ≤ autoscaling.max (2): raise max or lower min',
      },
    );
    expect(issuesOf({ spec: { components: { querier: { autoscaling: { enabled: true, keda } } } } })).toEqual({
      'spec.components.querier.autoscaling.keda': expect.stringContaining('only for the querier with mode: keda'),
    });
    expect(
      issuesOf({ spec: { components: { distributor: { autoscaling: { enabled: true, mode: 'keda', keda } } } } }),
    ).toEqual({ 'spec.components.distributor.autoscaling.keda': expect.stringContaining('scale on CPU') });
    expect(
      issuesOf({ spec: { components: { queryFrontend: { autoscaling: { enabled: true, mode: 'vpa' } } } } }),
    ).toHaveProperty(['spec.components.queryFrontend.autoscaling.mode']);
  });

  test("the querier on KEDA needs the Prometheus to ask, and the stack's scrape config for the loki_stack label", () => {
    expect(issuesOf({ spec: { components: { querier: { autoscaling: { enabled: true, mode: 'keda' } } } } })).toEqual({
      'spec.components.querier.autoscaling.keda': expect.stringContaining('set keda.prometheusAddress'),
      'spec.monitoring.enabled': expect.stringContaining('loki_stack label'),
    });
    const scraped = { monitoring: { enabled: true } };
    expect(
      issuesOf({
        spec: {
          ...scraped,
          components: { querier: { autoscaling: { enabled: true, mode: 'keda', keda: { prometheusAddress: 'x' } } } },
        },
      }),
    ).toEqual({ 'spec.components.querier.autoscaling.keda.prometheusAddress': expect.stringContaining('http(s) URL') });
    const querier = { autoscaling: { enabled: true, mode: 'keda', keda } };
    expect(
      parseSpec({ spec: { ...scraped, components: { querier } } }).spec.components.querier.autoscaling?.keda,
    ).toEqual(keda);
  });

  test('on CPU, the autoscaled part needs a CPU request; the querier on KEDA does not', () => {
    const noCpu = { resources: { requests: { cpu: null } } };
    expect(issuesOf({ spec: { gateway: { enabled: true, ...noCpu, autoscaling: { enabled: true } } } })).toEqual({
      'spec.gateway.resources.requests.cpu': expect.stringContaining('utilization is a share of the request'),
    });
    const querier = { ...noCpu, autoscaling: { enabled: true, mode: 'keda', keda } };
    expect(() => parseSpec({ spec: { monitoring: { enabled: true }, components: { querier } } })).not.toThrow();
  });

  test('the gateway autoscales only when it runs', () => {
    expect(issuesOf({ spec: { gateway: { autoscaling: { enabled: true } } } })).toEqual({
      'spec.gateway.autoscaling.enabled': 'requires spec.gateway.enabled: true, or set it to false',
    });
  });

  test('querier.maxConcurrent: a whole number from 1', () => {
    expect(issuesOf({ spec: { components: { querier: { maxConcurrent: 0 } } } })).toHaveProperty([
      'spec.components.querier.maxConcurrent',
    ]);
  });
});
