// spec.gateway.expose: the Ingress and the HTTPRoute lead to the gateway Service alone, carry the TLS the spec
// asks for, and the external URLs follow from them (status reads them off the gateway Deployment); the spec
// refuses what would bypass the gateway's auth or expose nothing.
import type { V1Deployment, V1Ingress } from '@kubernetes/client-node';
import { parseSpec, specWarnings, stackEndpoints, type LokiStackInput, type StackEndpoints } from 'loki-microservices';
import { formatEndpoints, stackStatusOf } from 'loki-microservices/testing';
import { find, render } from '../src/objects.js';
import { issuesOf } from '../src/specs.js';

type Expose = NonNullable<NonNullable<NonNullable<LokiStackInput['spec']>['gateway']>['expose']>;

interface HTTPRoute {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    parentRefs: Record<string, unknown>[];
    hostnames?: string[];
    rules: { matches: unknown[]; backendRefs: { group: string; kind: string; name: string; port: number }[] }[];
  };
}

const exposed = (expose: Expose, spec: LokiStackInput['spec'] = {}): LokiStackInput => ({
  spec: { ...spec, gateway: { enabled: true, expose } },
});

describe('the Ingress', () => {
  const { objects } = render(
    exposed({
      ingress: {
        className: 'nginx',
        host: 'loki.example.com',
        tls: { secretName: 'loki-example-tls' },
        annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '16m' },
      },
    }),
  );
  const ingress = find<V1Ingress>(objects, 'Ingress', 'loki-gateway');

  test('one rule for the host, every path to the gateway Service by its named port, TLS from the Secret', () => {
    expect(ingress.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['loki.example.com'], secretName: 'loki-example-tls' }],
      rules: [
        {
          host: 'loki.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'loki-gateway', port: { name: 'http' } } } },
            ],
          },
        },
      ],
    });
    expect(objects.filter((o) => o.kind === 'HTTPRoute')).toEqual([]);
  });

  test("the user's annotations, and our labels for ownership", () => {
    expect(ingress.metadata!.annotations).toEqual({
      'nginx.ingress.kubernetes.io/proxy-body-size': '16m',
      'loki-microservices/created-for': 'loki',
    });
    expect(ingress.metadata!.labels).toMatchObject({
      'app.kubernetes.io/instance': 'loki',
      'app.kubernetes.io/component': 'gateway',
      'app.kubernetes.io/managed-by': 'loki-microservices',
    });
  });

  test.each([
    ['ClusterIssuer', 'cert-manager.io/cluster-issuer'],
    ['Issuer', 'cert-manager.io/issuer'],
  ] as const)('tls.issuerRef of kind %s: the annotation %s, the Secret cert-manager writes', (kind, annotation) => {
    const ingress = find<V1Ingress>(
      render(exposed({ ingress: { host: 'logs.example.org', tls: { issuerRef: { name: 'letsencrypt', kind } } } }))
        .objects,
      'Ingress',
      'loki-gateway',
    );
    expect(ingress.metadata!.annotations![annotation]).toBe('letsencrypt');
    expect(Object.keys(ingress.metadata!.annotations!).filter((key) => key.startsWith('cert-manager.io/'))).toEqual([
      annotation,
    ]);
    expect(ingress.spec!.tls).toEqual([{ hosts: ['logs.example.org'], secretName: 'loki-gateway-external-tls' }]);
    expect(ingress.spec!.ingressClassName).toBeUndefined();
  });

  test("the issuer's kind defaults to Issuer", () => {
    const stack = parseSpec(exposed({ ingress: { host: 'logs.example.org', tls: { issuerRef: { name: 'ca' } } } }));
    expect(stack.spec.gateway.expose!.ingress!.tls!.issuerRef!.kind).toBe('Issuer');
  });
});

describe('the HTTPRoute', () => {
  const { objects } = render(
    exposed({
      httpRoute: {
        parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
        hostnames: ['*.example.com', 'loki.example.com'],
      },
    }),
  );
  const route = find(objects, 'HTTPRoute', 'loki-gateway') as unknown as HTTPRoute;

  test('attached to the Gateways named, every path to the gateway Service by its port number', () => {
    const service = objects.find((o) => o.kind === 'Service' && o.metadata!.name === 'loki-gateway') as {
      spec: { ports: { port: number }[] };
    };
    expect(route.spec).toEqual({
      parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
      hostnames: ['*.example.com', 'loki.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [{ group: '', kind: 'Service', name: 'loki-gateway', port: service.spec.ports[0]!.port }],
        },
      ],
    });
    expect(route.metadata.namespace).toBe('loki');
    expect(objects.filter((o) => o.kind === 'Ingress')).toEqual([]);
  });

  test('without hostnames, the Gateway listener decides the hosts', () => {
    const route = find(
      render(exposed({ httpRoute: { parentRefs: [{ name: 'public' }] } })).objects,
      'HTTPRoute',
      'loki-gateway',
    ) as unknown as HTTPRoute;
    expect(route.spec.hostnames).toBeUndefined();
  });
});

describe('the external URLs', () => {
  const urls = (input: LokiStackInput) => stackEndpoints(parseSpec(input)).external;

  test.each<[string, Expose, StackEndpoints['external']]>([
    [
      'Ingress with tls: https',
      { ingress: { host: 'loki.example.com', tls: { secretName: 'cert' } } },
      { push: 'https://loki.example.com/loki/api/v1/push', query: 'https://loki.example.com' },
    ],
    [
      'Ingress without tls: http',
      { ingress: { host: 'loki.example.com' } },
      { push: 'http://loki.example.com/loki/api/v1/push', query: 'http://loki.example.com' },
    ],
    ['a wildcard Ingress host: none', { ingress: { host: '*.example.com' } }, undefined],
    [
      "HTTPRoute: its first hostname that is not a wildcard, https (TLS ends on the Gateway's listener)",
      { httpRoute: { parentRefs: [{ name: 'public' }], hostnames: ['*.example.com', 'logs.example.com'] } },
      { push: 'https://logs.example.com/loki/api/v1/push', query: 'https://logs.example.com' },
    ],
    ['HTTPRoute without hostnames: none', { httpRoute: { parentRefs: [{ name: 'public' }] } }, undefined],
    [
      'both: the Ingress',
      {
        ingress: { host: 'old.example.com' },
        httpRoute: { parentRefs: [{ name: 'public' }], hostnames: ['new.example.com'] },
      },
      { push: 'http://old.example.com/loki/api/v1/push', query: 'http://old.example.com' },
    ],
  ])('%s', (_name, expose, external) => {
    expect(urls(exposed(expose))).toEqual(external);
  });

  test('none without expose', () => {
    expect(urls({ spec: { gateway: { enabled: true } } })).toBeUndefined();
  });

  test('status finds them on the gateway Deployment, whose pod template exposing leaves alone', () => {
    const input = exposed({ ingress: { host: 'loki.example.com', tls: { secretName: 'cert' } } });
    const { objects, stack } = render(input);
    const deployment = find<V1Deployment>(objects, 'Deployment', 'loki-gateway');
    const plain = find<V1Deployment>(
      render({ spec: { gateway: { enabled: true } } }).objects,
      'Deployment',
      'loki-gateway',
    );
    expect(deployment.spec!.template).toEqual(plain.spec!.template);
    const status = stackStatusOf({ name: 'loki', namespace: 'loki', workloads: [deployment], pods: [] });
    expect(status.endpoints.external).toEqual(stackEndpoints(stack).external);
    expect(status.endpoints.external?.query).toBe('https://loki.example.com');
  });

  test('the CLI prints them after the in-cluster ones, with the same basic auth note', () => {
    const deployment = find<V1Deployment>(
      render(exposed({ ingress: { host: 'loki.example.com' } })).objects,
      'Deployment',
      'loki-gateway',
    );
    const status = stackStatusOf({ name: 'loki', namespace: 'loki', workloads: [deployment], pods: [] });
    const auth = " (basic auth: a tenant's user and password)";
    expect(formatEndpoints(status).slice(2)).toEqual([
      `external push URL:  http://loki.example.com/loki/api/v1/push${auth}`,
      `external query URL: http://loki.example.com${auth}`,
    ]);
  });

  test('status ignores an annotation that is not a plain http(s) origin', () => {
    const deployment = find<V1Deployment>(
      render(exposed({ ingress: { host: 'loki.example.com' } })).objects,
      'Deployment',
      'loki-gateway',
    );
    deployment.metadata!.annotations!['loki-microservices/external-url'] = 'javascript:alert(1)//x';
    const status = stackStatusOf({ name: 'loki', namespace: 'loki', workloads: [deployment], pods: [] });
    expect(status.endpoints.external).toBeUndefined();
  });
});

describe('refused', () => {
  test.each<[string, LokiStackInput, string, RegExp]>([
    [
      'without the gateway',
      { spec: { gateway: { enabled: false, expose: { ingress: { host: 'loki.example.com' } } } } },
      'spec.gateway.expose',
      /needs the gateway, so that exposing never bypasses auth/,
    ],
    ['exposing nothing', exposed({}), 'spec.gateway.expose', /exposes nothing: set ingress, httpRoute or both/],
    [
      'network isolation without the controller namespace',
      exposed({ ingress: { host: 'loki.example.com' } }, { networkPolicy: { enabled: true } }),
      'spec.gateway.expose.controllerNamespace',
      /required with spec.networkPolicy.enabled/,
    ],
    [
      'a snippet annotation',
      exposed({
        ingress: {
          host: 'loki.example.com',
          annotations: { 'nginx.ingress.kubernetes.io/configuration-snippet': 'more_clear_headers x;' },
        },
      }),
      'spec.gateway.expose.ingress.annotations',
      /bypass or replace the gateway's auth/,
    ],
    [
      "the ingress controller's own auth",
      exposed({
        ingress: { host: 'loki.example.com', annotations: { 'nginx.ingress.kubernetes.io/auth-type': 'basic' } },
      }),
      'spec.gateway.expose.ingress.annotations',
      /bypass or replace the gateway's auth/,
    ],
    [
      'a cert-manager annotation beside issuerRef',
      exposed({ ingress: { host: 'loki.example.com', annotations: { 'cert-manager.io/issuer': 'x' } } }),
      'spec.gateway.expose.ingress.annotations',
      /cert-manager annotations come from tls.issuerRef/,
    ],
    [
      'tls with neither a Secret nor an issuer',
      exposed({ ingress: { host: 'loki.example.com', tls: {} } }),
      'spec.gateway.expose.ingress.tls',
      /set secretName \(an existing certificate\) or issuerRef \(cert-manager\)/,
    ],
    [
      'a host that is not a DNS name',
      exposed({ ingress: { host: 'https://loki.example.com/' } }),
      'spec.gateway.expose.ingress.host',
      /must be a DNS name/,
    ],
    [
      'an HTTPRoute without a parent',
      exposed({ httpRoute: { parentRefs: [] } }),
      'spec.gateway.expose.httpRoute.parentRefs',
      /./,
    ],
  ])('%s', (_name, input, path, message) => {
    const issues = issuesOf(input);
    expect(issues).toContainEqual({
      path: expect.stringMatching(`^${path.replaceAll('.', '\\.')}`),
      message: expect.stringMatching(message),
    });
  });

  test('a controller namespace is all network isolation needs', () => {
    const input = exposed(
      { ingress: { host: 'loki.example.com' }, controllerNamespace: 'ingress-nginx' },
      { networkPolicy: { enabled: true } },
    );
    expect(issuesOf(input)).toEqual([]);
  });
});

test('an Ingress without TLS is a warning: basic auth in clear text outside the cluster', () => {
  const plain = parseSpec(exposed({ ingress: { host: 'loki.example.com' } }));
  expect(specWarnings(plain)).toEqual([
    { path: 'spec.gateway.expose.ingress.tls', message: expect.stringContaining('plain HTTP') },
  ]);
  const secured = parseSpec(exposed({ ingress: { host: 'loki.example.com', tls: { secretName: 'cert' } } }));
  expect(specWarnings(secured)).toEqual([]);
  const routed = parseSpec(exposed({ httpRoute: { parentRefs: [{ name: 'public' }] } }));
  expect(specWarnings(routed)).toEqual([]);
});
