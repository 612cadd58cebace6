// Credentials handed over by an adapter: rendered as the stack's own Secret, referenced by name from the
// storage block and the pods, checked against the store type, and never in the Loki config.
import { SpecError } from '../../src/errors.js';
import { flowCollectorLoki } from '../../src/kubernetes/render/netobserv.js';
import { namingCredentialsSecret } from '../../src/kubernetes/render/credentials.js';
import { renderKubernetes } from '../../src/kubernetes/render/index.js';
import { parseSpec } from '../../src/spec/parse.js';
import { parse } from 'yaml';

type Json = Record<string, any>;

const stackWith = (storage: Json, spec: Json = {}) => parseSpec({ spec: { storage, ...spec } });
const issuesOf = (render: () => unknown) => {
  try {
    render();
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
};

test.each([
  {
    type: 'gcs',
    storage: { type: 'gcs', gcs: { bucket: 'logs' } },
    credentials: { 'key.json': '{"type":"service_account"}' },
    env: 'GOOGLE_APPLICATION_CREDENTIALS',
  },
  {
    type: 'azure',
    storage: { type: 'azure', azure: { accountName: 'acct', container: 'logs' } },
    credentials: { AZURE_STORAGE_ACCOUNT_KEY: 'azure-key-value' },
    env: 'LOKI_AZURE_ACCOUNT_KEY',
  },
  {
    type: 's3',
    storage: { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1' } },
    credentials: { AWS_ACCESS_KEY_ID: 'id-value', AWS_SECRET_ACCESS_KEY: 'secret-value' },
    env: 'LOKI_S3_SECRET_ACCESS_KEY',
  },
])(
  '$type: a Secret <name>-storage-credentials, referenced by the storage pods, its values nowhere else',
  ({ storage, credentials, env }) => {
    // As adapters do: the document names the Secret before parsing (Azure requires one, or Workload Identity).
    const { objects } = renderKubernetes(parseSpec(namingCredentialsSecret({ spec: { storage } })), { credentials });
    const secret = objects.find((o) => o.kind === 'Secret') as Json;
    expect(secret.metadata).toMatchObject({
      name: 'loki-storage-credentials',
      namespace: 'loki',
      labels: { 'app.kubernetes.io/instance': 'loki', 'app.kubernetes.io/managed-by': 'loki-microservices' },
    });
    expect(
      Object.fromEntries(
        Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      ),
    ).toEqual(credentials);
    // Applied before anything that reads it.
    expect(objects.findIndex((o) => o.kind === 'Secret')).toBeLessThan(
      objects.findIndex((o) => o.kind === 'StatefulSet'),
    );
    const ingester = objects.find((o) => o.kind === 'StatefulSet' && o.metadata?.name === 'loki-ingester') as Json;
    expect(JSON.stringify(ingester.spec.template)).toContain(env);
    expect(JSON.stringify(ingester.spec.template)).toContain('loki-storage-credentials');
    const others = JSON.stringify(objects.filter((o) => o !== secret));
    for (const value of Object.values(credentials)) expect(others).not.toContain(value);
  },
);

test('credentials that do not fit the store are refused, naming each key', () => {
  expect(
    issuesOf(() =>
      renderKubernetes(stackWith({ type: 'gcs', gcs: { bucket: 'logs' } }), {
        credentials: { AWS_ACCESS_KEY_ID: 'x' },
      }),
    ),
  ).toEqual([
    'credentials.AWS_ACCESS_KEY_ID: does not apply to spec.storage.type gcs, which takes key.json',
    'credentials.key.json: is missing: gcs credentials need key.json',
  ]);
  expect(
    issuesOf(() =>
      renderKubernetes(stackWith({ type: 's3', s3: { bucket: 'logs', region: 'eu-west-1', secretName: 'mine' } }), {
        credentials: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      }),
    ),
  ).toEqual([
    'spec.storage.s3.secretName: names the Secret "mine" and credentials were given too: use one or the other',
  ]);
  expect(issuesOf(() => renderKubernetes(parseSpec({}), { credentials: { AWS_SECRET_ACCESS_KEY: 'b' } }))).toEqual([
    'credentials: the bundled store makes its own credentials; credentials are for spec.storage.type s3, gcs or azure',
  ]);
  // A spec that names a Secret of its own keeps it: the document is left alone, and the conflict reported.
  expect(
    namingCredentialsSecret({ spec: { storage: { type: 's3', s3: { bucket: 'logs', secretName: 'mine' } } } }),
  ).toEqual({ spec: { storage: { type: 's3', s3: { bucket: 'logs', secretName: 'mine' } } } });
  expect(
    namingCredentialsSecret({ metadata: { name: 'logs' }, spec: { storage: { type: 'gcs', gcs: { bucket: 'b' } } } }),
  ).toMatchObject({ spec: { storage: { gcs: { secretName: 'logs-storage-credentials' } } } });
  // No credentials: no Secret, the stack as it was.
  expect(renderKubernetes(parseSpec({}), { credentials: {} }).objects).toEqual(renderKubernetes(parseSpec({})).objects);
});

test("the NetObserv FlowCollector section points at the distributor and the query-frontend, with the stack's tenant", () => {
  const single = parse(flowCollectorLoki(parseSpec({ metadata: { name: 'logs', namespace: 'obs' } }))) as Json;
  expect(single.loki).toEqual({
    enable: true,
    mode: 'Microservices',
    microservices: {
      ingesterUrl: 'http://logs-distributor.obs.svc.cluster.local:3100/',
      querierUrl: 'http://logs-query-frontend.obs.svc.cluster.local:3100/',
      tenantID: 'netobserv',
      tls: { enable: false },
    },
  });
  const tenanted = parse(
    flowCollectorLoki(parseSpec({ spec: { auth: { enabled: true, tenant: 'network' } } })),
  ) as Json;
  expect(tenanted.loki.microservices.tenantID).toBe('network');
});
