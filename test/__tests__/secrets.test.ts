// Credentials live only in Secrets: the Loki config holds `${VAR:-}` placeholders, only components that
// touch the object store get the variables, nothing rendered carries a credential value.
import { COMPONENTS } from 'loki-microservices';
import { lokiConfigYaml } from 'loki-microservices/testing';
import { allContainers, render, workloads } from '../src/objects.js';
import { specMatrix } from '../src/specs.js';

const CREDENTIAL_KEYS =
  /^\s*(access_key_id|secret_access_key|account_key|session_token|service_account|client_secret|password):\s*(.*)$/gm;

describe.each(specMatrix())('$name', ({ input }) => {
  const { stack, objects } = render(input);

  test('credential fields in the Loki config are environment placeholders, never values', () => {
    const config = lokiConfigYaml(stack);
    for (const [, key, value] of config.matchAll(CREDENTIAL_KEYS)) {
      // Single-quoted: Loki expands the variable in the text, and the value must stay one YAML string.
      expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^'\$\{LOKI_[A-Z0-9_]+:-\}'$/) });
    }
  });

  test('no Secret is rendered and no env var carries a literal credential', () => {
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
    for (const { template } of workloads(objects)) {
      for (const container of allContainers(template)) {
        for (const env of container.env ?? []) {
          if (/KEY|SECRET|TOKEN|PASSWORD/.test(env.name)) expect(env.value).toBeUndefined();
        }
      }
    }
  });

  test('only components that touch the object store get its credentials', () => {
    for (const { object, template } of workloads(objects)) {
      const component = object.metadata!.labels!['app.kubernetes.io/component'];
      const traits = Object.values(COMPONENTS).find((c) => c.target === component);
      const secretRefs = allContainers(template)
        .flatMap((c) => c.env ?? [])
        .filter((e) => e.valueFrom?.secretKeyRef);
      // Besides its own certificate (spec.tls), which every component mounts.
      const secretVolumes = (template.spec!.volumes ?? []).filter(
        (v) => v.secret && v.secret.secretName !== `${object.metadata!.name}-tls`,
      );
      // The memcached caches get no Secret at all.
      if ((traits && !traits.objectStore) || component?.endsWith('-cache')) {
        expect({ component, secretRefs, secretVolumes }).toEqual({ component, secretRefs: [], secretVolumes: [] });
      }
    }
  });
});

test('components that do not touch the object store: the stateless front of the stack, and the pattern ingester (patterns in memory)', () => {
  const without = Object.values(COMPONENTS)
    .filter((c) => !c.objectStore)
    .map((c) => c.target);
  expect(without.sort()).toEqual(['distributor', 'pattern-ingester', 'query-frontend', 'query-scheduler']);
});

test('with a credentials Secret, storage components read it by reference', () => {
  const { objects } = render({
    spec: { storage: { type: 's3', s3: { bucket: 'logs', region: 'eu-west-1', secretName: 'loki-s3' } } },
  });
  const ingester = workloads(objects).find((w) => w.object.metadata!.name === 'loki-ingester')!;
  expect(ingester.template.spec!.containers[0]!.env).toEqual([
    { name: 'LOKI_S3_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'loki-s3', key: 'AWS_ACCESS_KEY_ID' } } },
    {
      name: 'LOKI_S3_SECRET_ACCESS_KEY',
      valueFrom: { secretKeyRef: { name: 'loki-s3', key: 'AWS_SECRET_ACCESS_KEY' } },
    },
  ]);
});
