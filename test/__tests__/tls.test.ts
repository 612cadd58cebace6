// spec.tls: every gRPC client block of the Loki config and memberlist use TLS, and the servers verify
// clients; the certificates `apply` issues (provider generated) parse, chain to the stack CA and carry
// every name the config dials or verifies, which real TLS handshakes between components confirm (Node's
// OpenSSL, not the library that made them, does the checking); renewal reissues what is due and keeps
// what is not; cert-manager's Certificates ask for the same names.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import type { V1StatefulSet } from '@kubernetes/client-node';
import {
  COMPONENTS,
  parseSpec,
  renderKubernetes,
  type ComponentName,
  type LokiStack,
  type LokiStackInput,
} from 'loki-microservices';
import {
  caSecretName,
  certificateRequests,
  lokiConfig,
  TLS_HASH_ANNOTATION,
  tlsSecretName,
  tlsSecrets,
} from 'loki-microservices/testing';
import { render, services, workloads } from '../src/objects.js';

type Json = Record<string, any>;
type Values = Record<string, string>;

const DAY = 24 * 3_600_000;
const NOW = new Date('2026-12-01T00:00:00Z');

const keyPaths = Object.keys(
  (
    JSON.parse(readFileSync(new URL('../fixtures/loki-3.7-config-keys.json', import.meta.url), 'utf8')) as {
      paths: Record<string, string>;
    }
  ).paths,
);

/**
 * Loki's TLS-capable blocks that are not between our components, and why. Every other block whose name says
 * it is a gRPC client (or memberlist) must have TLS on.
 */
const NOT_BETWEEN_OUR_COMPONENTS: Record<string, string> = {
  'bloom_build.builder.grpc_config': 'bloom builders are not deployed',
  'bloom_gateway.client.grpc_client_config': 'bloom gateways are not deployed',
  'ingest_limits_frontend.client_config.grpc_client_config': 'ingest limits are not deployed',
  'ingest_limits_frontend_client.grpc_client_config': 'ingest limits are not deployed',
  'ruler.evaluation.query_frontend': 'the ruler evaluates locally, not through a query-frontend',
  'storage_config.bigtable.grpc_client_config': 'an object store, not a component',
  'storage_config.boltdb_shipper.index_gateway_client.grpc_client_config': 'the BoltDB index is not used (tsdb)',
  'frontend_worker.grpc_client_config':
    'replaced by query_frontend_grpc_client and query_scheduler_grpc_client; Loki refuses both at once (grafana/loki#12726)',
};

test('memcached caches stay plain TCP under mTLS, as docs/security.md says: no TLS key in their client blocks', () => {
  const config = lokiConfig(parseSpec({ spec: { tls: { enabled: true }, caches: { type: 'memcached' } } })) as Json;
  const clients = [
    at(config, 'chunk_store_config.chunk_cache_config.memcached_client'),
    at(config, 'query_range.results_cache.cache.memcached_client'),
  ];
  for (const client of clients) {
    expect(client).toMatchObject({ consistent_hash: true });
    expect(Object.keys(client!).filter((key) => key.startsWith('tls_'))).toEqual([]);
  }
});

/** Client blocks of an optional component: on when the stack runs it, absent otherwise. */
const OPTIONAL_CLIENTS: Record<string, ComponentName> = {
  'pattern_ingester.client_config.grpc_client_config': 'patternIngester',
};

const componentClients = keyPaths
  .filter((path) => path.endsWith('.tls_enabled'))
  .map((path) => path.slice(0, -'.tls_enabled'.length))
  .filter(
    (block) =>
      block === 'memberlist' ||
      /(grpc_client_config|_grpc_client|ruler_client|grpc_config|query_frontend)$/.test(block),
  );

function at(config: Json, path: string): Json | undefined {
  return path.split('.').reduce<Json | undefined>((node, key) => node?.[key], config);
}

const INPUTS: Record<string, LokiStackInput> = {
  default: { spec: { tls: { enabled: true } } },
  'small, own domain, ruler and pattern ingester on': {
    metadata: { name: 'logs', namespace: 'obs' },
    spec: { profile: 'small', clusterDomain: 'k8s.example.internal', tls: { enabled: true, validity: '720h' } },
  },
};

describe.each(Object.entries(INPUTS))('%s', (_name, input) => {
  const stack = parseSpec(input);
  const config = lokiConfig(stack) as Json;

  test('every gRPC client block between components, and memberlist, uses TLS with the mounted files', () => {
    expect(componentClients.length).toBeGreaterThan(10);
    const runs = (name: ComponentName) => {
      const component = stack.spec.components[name];
      return !('enabled' in component) || component.enabled;
    };
    const notRun = Object.keys(OPTIONAL_CLIENTS).filter((block) => !runs(OPTIONAL_CLIENTS[block]!));
    const checked = componentClients.filter(
      (block) => !(block in NOT_BETWEEN_OUR_COMPONENTS) && !notRun.includes(block),
    );
    // The demo profile runs no pattern ingester, the small one does: both cases are covered.
    expect(notRun).toEqual(stack.spec.profile === 'demo' ? ['pattern_ingester.client_config.grpc_client_config'] : []);
    expect(checked).toEqual(
      expect.arrayContaining([
        'ingester_client.grpc_client_config',
        'memberlist',
        'storage_config.tsdb_shipper.index_gateway_client.grpc_client_config',
      ]),
    );
    for (const block of checked) {
      expect([block, at(config, block)]).toEqual([
        block,
        expect.objectContaining({
          tls_enabled: true,
          tls_cert_path: '/etc/loki/tls/tls.crt',
          tls_key_path: '/etc/loki/tls/tls.key',
          tls_ca_path: '/etc/loki/tls/ca.crt',
          tls_server_name: expect.any(String),
        }),
      ]);
    }
    for (const block of [...Object.keys(NOT_BETWEEN_OUR_COMPONENTS), ...notRun])
      expect([block, at(config, block)]).toEqual([block, undefined]);
    expect(config.server.grpc_tls_config).toEqual({
      cert_file: '/etc/loki/tls/tls.crt',
      key_file: '/etc/loki/tls/tls.key',
      client_ca_file: '/etc/loki/tls/ca.crt',
      client_auth_type: 'RequireAndVerifyClientCert',
    });
  });

  test('every Loki pod mounts its own certificate where the config reads it', () => {
    const { objects } = renderKubernetes(stack);
    const lokiWorkloads = workloads(objects).filter(
      ({ template }) => template.metadata!.labels!['app.kubernetes.io/name'] === 'loki',
    );
    expect(lokiWorkloads.length).toBe(certificateRequests(stack).length);
    for (const { object, template } of lokiWorkloads) {
      const volume = template.spec!.volumes!.find((v) => v.name === 'tls');
      expect(volume?.secret?.secretName).toBe(`${object.metadata!.name}-tls`);
      expect(template.spec!.containers[0]!.volumeMounts).toContainEqual({
        name: 'tls',
        mountPath: '/etc/loki/tls',
        readOnly: true,
      });
    }
  });

  describe('the certificates apply issues', () => {
    let issued: Map<string, Values>;
    beforeAll(async () => {
      issued = secretsByName((await tlsSecrets(stack, () => undefined, NOW)).secrets);
    });

    const cert = (name: string) => new X509Certificate(issued.get(name)!['tls.crt']!);

    test('parse, chain to the stack CA, and are valid for the asked lifetime', () => {
      const ca = cert(caSecretName(stack));
      expect(ca.ca).toBe(true);
      expect(ca.verify(ca.publicKey)).toBe(true);
      for (const request of certificateRequests(stack)) {
        const leaf = cert(request.secretName);
        expect(leaf.ca).toBe(false);
        expect(leaf.checkIssued(ca)).toBe(true);
        expect(leaf.verify(ca.publicKey)).toBe(true);
        expect(issued.get(request.secretName)!['ca.crt']).toBe(issued.get(caSecretName(stack))!['tls.crt']);
        const lifetime = new Date(leaf.validTo).getTime() - NOW.getTime();
        expect(Math.abs(lifetime - (stack.spec.tls.validity === '720h' ? 30 : 90) * DAY)).toBeLessThan(1000);
        expect(leaf.keyUsage ?? []).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
      }
    });

    test('carry every name the config dials or verifies for the component that answers it', () => {
      const byService = serviceComponents(stack);
      const names = dialedNames(config, stack);
      expect(names.length).toBeGreaterThan(8);
      for (const { key, host } of names) {
        const components = byService.get(host.split('.')[0]!) ?? [];
        expect({ key, host, answeredBy: components }).toEqual({
          key,
          host,
          answeredBy: expect.arrayContaining([expect.any(String)]),
        });
        for (const component of components)
          expect([key, component, cert(tlsSecretName(stack, component)).checkHost(host)]).toEqual([
            key,
            component,
            host,
          ]);
      }
      // A StatefulSet pod's own DNS name, as peers resolving the headless Service reach it.
      const headless = `${stack.metadata.name}-ingester-headless.${stack.metadata.namespace}.svc.${stack.spec.clusterDomain}`;
      expect(cert(tlsSecretName(stack, 'ingester')).checkHost(`${stack.metadata.name}-ingester-0.${headless}`)).toBe(
        `*.${headless}`,
      );
      // And not the names of other components: a querier's certificate cannot pass for an ingester.
      expect(
        cert(tlsSecretName(stack, 'querier')).checkHost(config.ingester_client.grpc_client_config.tls_server_name),
      ).toBeUndefined();
    });

    test('a real mTLS handshake works between components, and fails for a client without a certificate of the CA', async () => {
      const serverName = config.ingester_client.grpc_client_config.tls_server_name as string;
      const ingester = issued.get(tlsSecretName(stack, 'ingester'))!;
      const distributor = issued.get(tlsSecretName(stack, 'distributor'))!;
      const server = createServer(
        {
          cert: ingester['tls.crt'],
          key: ingester['tls.key'],
          ca: ingester['ca.crt'],
          requestCert: true,
          rejectUnauthorized: true,
        },
        (socket) => socket.end('hello'),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const handshake = (options: Json) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect({
            host: '127.0.0.1',
            port,
            servername: serverName,
            ca: distributor['ca.crt'],
            ...options,
          });
          socket.on('data', (data) => resolve(data.toString()));
          socket.on('error', reject);
          socket.on('close', () => reject(new Error('closed without an answer')));
        });
      try {
        await expect(handshake({ cert: distributor['tls.crt'], key: distributor['tls.key'] })).resolves.toBe('hello');
        const other = secretsByName(
          (
            await tlsSecrets(
              parseSpec({ spec: { tls: { enabled: true } }, metadata: { name: 'other' } }),
              () => undefined,
              new Date(),
            )
          ).secrets,
        ).get('other-distributor-tls')!;
        await expect(handshake({ cert: other['tls.crt'], key: other['tls.key'] })).rejects.toThrow();
        await expect(handshake({})).rejects.toThrow();
        // The client verifies the server too: the wrong name fails.
        await expect(
          handshake({
            cert: distributor['tls.crt'],
            key: distributor['tls.key'],
            servername: config.frontend.grpc_client_config.tls_server_name,
          }),
        ).rejects.toThrow(/Hostname|altnames/);
      } finally {
        server.close();
      }
    });
  });
});

describe('renewal', () => {
  const stack = parseSpec({ spec: { tls: { enabled: true } } });
  const later = (days: number) => new Date(NOW.getTime() + days * DAY);
  let first: Awaited<ReturnType<typeof tlsSecrets>>;
  beforeAll(async () => {
    first = await tlsSecrets(stack, () => undefined, NOW);
  });
  const from = (secrets: Json[]) => (name: string) => secretsByName(secrets).get(name);

  test('everything is issued the first time, with a hash per component for its pods', () => {
    expect(first.issued.sort()).toEqual(
      [caSecretName(stack), ...certificateRequests(stack).map((r) => r.secretName)].sort(),
    );
    expect(Object.keys(first.podAnnotations).sort()).toEqual(
      certificateRequests(stack)
        .map((r) => COMPONENTS[r.component].target)
        .sort(),
    );
    for (const annotations of Object.values(first.podAnnotations))
      expect(annotations![TLS_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a fresh certificate is left alone: the Secrets come back byte for byte', async () => {
    const again = await tlsSecrets(stack, from(first.secrets), later(10));
    expect(again.issued).toEqual([]);
    expect(again.secrets).toEqual(first.secrets);
    expect(again.podAnnotations).toEqual(first.podAnnotations);
  });

  test('past 80% of its life a certificate is renewed, and its pods get a new hash; the CA stays', async () => {
    expect((await tlsSecrets(stack, from(first.secrets), later(71))).issued).toEqual([]);
    const renewed = await tlsSecrets(stack, from(first.secrets), later(73));
    expect(renewed.issued.sort()).toEqual(
      certificateRequests(stack)
        .map((r) => r.secretName)
        .sort(),
    );
    expect(secretsByName(renewed.secrets).get(caSecretName(stack))).toEqual(
      secretsByName(first.secrets).get(caSecretName(stack)),
    );
    const ingester = new X509Certificate(
      secretsByName(renewed.secrets).get(tlsSecretName(stack, 'ingester'))!['tls.crt']!,
    );
    expect(new Date(ingester.validFrom).getTime()).toBeGreaterThan(later(72).getTime());
    for (const target of Object.keys(first.podAnnotations))
      expect(renewed.podAnnotations[target]).not.toEqual(first.podAnnotations[target]);
  });

  test('an old certificate is renewed and a fresh one next to it left alone', async () => {
    const old = await tlsSecrets(stack, () => undefined, later(-80));
    const current = (name: string) =>
      name === tlsSecretName(stack, 'querier') ? secretsByName(old.secrets).get(name) : from(first.secrets)(name);
    // The old querier certificate is signed by another CA too; a fresh one of the current CA, aged, is also renewed.
    expect((await tlsSecrets(stack, current, later(1))).issued).toEqual([tlsSecretName(stack, 'querier')]);
  });

  test('a certificate made for other names, or unreadable, is reissued; a changed validity reissues all', async () => {
    const moved = parseSpec({ spec: { tls: { enabled: true }, clusterDomain: 'k8s.example.internal' } });
    expect((await tlsSecrets(moved, from(first.secrets), later(1))).issued).toHaveLength(
      certificateRequests(stack).length,
    );
    const broken = (name: string) =>
      name === tlsSecretName(stack, 'compactor')
        ? { 'tls.crt': 'garbage', 'tls.key': 'garbage' }
        : from(first.secrets)(name);
    expect((await tlsSecrets(stack, broken, later(1))).issued).toEqual([tlsSecretName(stack, 'compactor')]);
    const shorter = parseSpec({ spec: { tls: { enabled: true, validity: '720h' } } });
    const reissued = await tlsSecrets(shorter, from(first.secrets), later(1));
    expect(reissued.issued).toContain(tlsSecretName(stack, 'ingester'));
  });

  test('a CA past 80% of its life is replaced; the old one stays trusted while it is valid, and every certificate moves to the new one', async () => {
    const renewed = await tlsSecrets(stack, from(first.secrets), later(721));
    expect(renewed.issued).toContain(caSecretName(stack));
    const bundle = secretsByName(renewed.secrets).get(tlsSecretName(stack, 'ingester'))!['ca.crt']!;
    const cas = bundle
      .split(/(?<=-----END CERTIFICATE-----\n)/)
      .filter(Boolean)
      .map((pem) => new X509Certificate(pem));
    expect(cas).toHaveLength(2);
    const newCa = new X509Certificate(secretsByName(renewed.secrets).get(caSecretName(stack))!['tls.crt']!);
    expect(cas[0]!.fingerprint256).toBe(newCa.fingerprint256);
    expect(cas[1]!.fingerprint256).toBe(
      new X509Certificate(secretsByName(first.secrets).get(caSecretName(stack))!['tls.crt']!).fingerprint256,
    );
    const ingester = new X509Certificate(
      secretsByName(renewed.secrets).get(tlsSecretName(stack, 'ingester'))!['tls.crt']!,
    );
    expect(ingester.checkIssued(newCa)).toBe(true);
  });
});

describe('provider cert-manager', () => {
  const stack = parseSpec({ spec: { tls: { enabled: true, provider: 'cert-manager' } } });
  const { objects } = render({ spec: { tls: { enabled: true, provider: 'cert-manager' } } });
  const certificates = objects.filter((o) => o.kind === 'Certificate') as Json[];

  test('a Certificate per component with the same names as apply would issue, renewed at 80% of its life, from the stack CA', () => {
    for (const request of certificateRequests(stack)) {
      const certificate = certificates.find((c) => c.metadata.name === request.secretName)!;
      expect(certificate.spec).toMatchObject({
        secretName: request.secretName,
        dnsNames: request.dnsNames,
        duration: '2160h0m0s',
        renewBefore: '432h0m0s',
        issuerRef: { name: 'loki-tls-ca', kind: 'Issuer' },
      });
      expect(certificate.spec.usages).toEqual(expect.arrayContaining(['server auth', 'client auth']));
      // Labelled like the stack, so that destroy removes the Secret cert-manager makes.
      expect(certificate.spec.secretTemplate.labels['app.kubernetes.io/instance']).toBe('loki');
    }
    const ca = certificates.find((c) => c.metadata.name === 'loki-tls-ca')!;
    expect(ca.spec).toMatchObject({
      isCA: true,
      secretName: 'loki-tls-ca',
      issuerRef: { name: 'loki-tls-selfsigned' },
    });
    expect(
      objects.filter((o) => o.kind === 'Issuer').map((o) => [o.metadata!.name, Object.keys((o as Json).spec)[0]]),
    ).toEqual([
      ['loki-tls-selfsigned', 'selfSigned'],
      ['loki-tls-ca', 'ca'],
    ]);
  });

  test('with an issuerRef, the Certificates use it and no issuer of ours is made', () => {
    const own = render({
      spec: {
        tls: { enabled: true, provider: 'cert-manager', issuerRef: { name: 'corporate', kind: 'ClusterIssuer' } },
      },
    }).objects;
    expect(own.filter((o) => o.kind === 'Issuer')).toEqual([]);
    expect(
      own
        .filter((o) => o.kind === 'Certificate')
        .every(
          (c) => (c as Json).spec.issuerRef.name === 'corporate' && (c as Json).spec.issuerRef.kind === 'ClusterIssuer',
        ),
    ).toBe(true);
  });
});

test("zone-aware ingesters: the ingester certificate names each zone's pods under its own governing Service", async () => {
  const stack = parseSpec({ spec: { profile: 'small', tls: { enabled: true }, zoneAwareness: { enabled: true } } });
  const issued = secretsByName((await tlsSecrets(stack, () => undefined, NOW)).secrets);
  const ingester = new X509Certificate(issued.get(tlsSecretName(stack, 'ingester'))!['tls.crt']!);
  const sets = renderKubernetes(stack).objects.filter(
    (o) => o.kind === 'StatefulSet' && o.metadata!.labels!['app.kubernetes.io/component'] === 'ingester',
  ) as V1StatefulSet[];
  expect(sets).toHaveLength(3);
  for (const set of sets) {
    const pod = `${set.metadata!.name}-1.${set.spec!.serviceName}.${stack.metadata.namespace}.svc.${stack.spec.clusterDomain}`;
    expect(ingester.checkHost(pod)).toBeDefined();
  }
});

test('off by default: no TLS in the config, no certificate volume, no cert-manager objects', () => {
  const { objects, stack } = render({});
  expect(JSON.stringify(lokiConfig(stack))).not.toMatch(/tls/);
  expect(objects.some((o) => o.kind === 'Certificate' || o.kind === 'Issuer')).toBe(false);
  for (const { template } of workloads(objects))
    expect(template.spec!.volumes!.some((v) => v.name === 'tls')).toBe(false);
});

function secretsByName(secrets: Json[]): Map<string, Values> {
  return new Map(
    secrets.map((secret) => [
      secret.metadata.name,
      Object.fromEntries(
        Object.entries(secret.data as Values).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      ),
    ]),
  );
}

/** Service name → the components whose pods it selects. */
function serviceComponents(stack: LokiStack): Map<string, ComponentName[]> {
  const { objects } = renderKubernetes(stack);
  const targets = Object.entries(COMPONENTS).map(([name, traits]) => [name as ComponentName, traits.target] as const);
  const podsOf = (selector: Record<string, string>) =>
    workloads(objects)
      .map(({ template }) => template.metadata!.labels!)
      .filter((labels) => Object.entries(selector).every(([key, value]) => labels[key] === value))
      .map((labels) => targets.find(([, target]) => target === labels['app.kubernetes.io/component'])?.[0])
      .filter((name): name is ComponentName => !!name);
  return new Map(services(objects).map((service) => [service.metadata!.name!, podsOf(service.spec!.selector!)]));
}

/** Every host name in the config that a TLS client dials or verifies, with its key. */
function dialedNames(config: Json, stack: LokiStack): { key: string; host: string }[] {
  const suffix = `.svc.${stack.spec.clusterDomain}`;
  const found: { key: string; host: string }[] = [];
  const visit = (value: unknown, key: string) => {
    // HTTP addresses and the object store's endpoint are not TLS between components.
    if (
      typeof value === 'string' &&
      value.includes(suffix) &&
      !/(compactor_address|tail_proxy_url|endpoint)$/.test(key)
    ) {
      found.push({ key, host: /^(?:dns\+|dns:\/\/\/)?([a-z0-9.-]+)/.exec(value)![1]! });
    } else if (Array.isArray(value)) value.forEach((item) => visit(item, key));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) visit(v, key ? `${key}.${k}` : k);
  };
  visit(config, '');
  return found;
}
