// Attacks 3 and the low ones on the spec: text that Loki (`-config.expand-env`) or Nomad (consul-template)
// would evaluate, keys that reach into JavaScript objects, an empty spec file, labels that change a
// namespace's Pod Security level, credentials that change the YAML they are expanded into. Each is refused
// at parse time (exit 2, naming the field) or carried safely.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import {
  namingCredentialsSecret,
  parseSpec,
  readSpecDocument,
  renderKubernetes,
  renderNomad,
  SpecError,
  withStorageCredentials,
  type LokiStack,
} from 'loki-microservices';
import { lokiConfigYaml } from 'loki-microservices/testing';
import { parse, stringify } from 'yaml';
import { runAction } from '../action/run-action.js';
import { cli } from './harness.js';

jest.setTimeout(60_000);

const directory = mkdtempSync(join(tmpdir(), 'spec-input-'));
const specFile = (name: string, text: string) => {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
};

describe('text that would be evaluated where the Loki configuration is read', () => {
  test.each([
    ['${…}', 'http://alertmanager:9093/${AWS_SECRET_ACCESS_KEY}'],
    ['$VAR', 'http://alertmanager:9093/$HOME'],
    ['{{ … }}', 'http://alertmanager:9093/{{ with secret "kv/data/loki" }}{{ .Data.data.key }}{{ end }}'],
    ['user:pass@', 'http://admin:s3cret@alertmanager:9093'],
  ])('alertmanagerUrl with %s: exit 2 naming the field, for both targets', async (_what, url) => {
    for (const target of ['kubernetes', 'nomad']) {
      const result = await cli(undefined, [
        'render',
        '--target',
        target,
        '--set',
        'spec.components.ruler.enabled=true',
        '--set',
        `spec.components.ruler.alertmanagerUrl=${url}`,
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/spec\.components\.ruler\.alertmanagerUrl: must/);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toContain('s3cret');
    }
  });

  // Every string of the richest specs we have, replaced by text Loki or consul-template would evaluate: either
  // the spec is refused, or the text reaches neither the Loki configuration nor the Nomad job.
  test('no string field carries ${…} or {{ … }} into the Loki configuration or the Nomad job', () => {
    const fixtures = join(new URL('../../fixtures/specs/', import.meta.url).pathname);
    const injections = ['${LEAK_ENV}', '$LEAK_ENV', '{{ env "LEAK_ENV" }}'];
    // And every free-text field the fixtures leave out.
    const freeText = {
      spec: {
        components: {
          ruler: { enabled: true, alertmanagerUrl: 'http://alertmanager.monitoring.svc:9093' },
          ingester: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'logs', effect: 'NoSchedule' }] },
        },
        storage: { type: 's3', s3: { bucket: 'logs', endpoint: 'https://s3.example.com' } },
        serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/loki' } },
        nomad: {
          credentials: { source: 'vault', path: 'kv/data/loki' },
          tls: { enabled: true, serverName: 'loki.service.consul' },
          traefik: { enabled: true, host: 'logs.example.com', basicAuthUsers: ['u:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M='] },
        },
      },
    };
    const documents = [
      ...readdirSync(fixtures).map(
        (file) => [file, readSpecDocument(readFileSync(join(fixtures, file), 'utf8'))] as const,
      ),
      ['free-text', freeText] as const,
    ];
    let tried = 0;
    for (const [file, document] of documents) {
      for (const path of stringPaths(document)) {
        const original = getAt(document, path);
        // The text alone, and inside the value, where it may pass the field's own format (a URL's path).
        for (const injection of injections.flatMap((text) => [text, `${original}${text}`, `${original}/${text}`])) {
          const changed = structuredClone(document);
          setAt(changed, path, injection);
          let stack;
          try {
            stack = parseSpec(changed);
          } catch (error) {
            expect(error).toBeInstanceOf(SpecError);
            continue;
          }
          tried++;
          // The Loki configuration on Kubernetes, and the whole Nomad job (its templates run consul-template),
          // where the spec is one Nomad takes.
          const configs = [lokiConfigYaml(stack), nomadJobOf(stack)];
          for (const config of configs)
            expect([file, path.join('.'), config.includes('LEAK_ENV')]).toEqual([file, path.join('.'), false]);
        }
      }
    }
    // Some strings are free to carry such text (annotations, tolerations): they never reach Loki's config.
    expect(tried).toBeGreaterThan(0);
  });
});

describe('keys that reach into JavaScript objects', () => {
  test.each(['__proto__', 'constructor', 'prototype'])('%s in a spec file: exit 2 naming where', async (key) => {
    const path = specFile(
      `proto-${key}.yaml`,
      `metadata:\n  ${key}:\n    namespace: kube-system\nspec:\n  profile: demo\n`,
    );
    const result = await cli(undefined, ['render', '-f', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`metadata.${key}: is not a field name`);
    expect(result.stdout).toBe('');
  });

  test('constructor and toString in --set: exit 2, not a crash', async () => {
    for (const assignment of [
      'spec.constructor=1',
      'spec.toString.x=1',
      'metadata.constructor.namespace=kube-system',
    ]) {
      const result = await cli(undefined, ['render', '--set', assignment]);
      expect([assignment, result.code]).toEqual([assignment, 2]);
      expect(result.stderr).not.toMatch(/TypeError|crashed|\n\s+at /);
    }
  });
});

test('an empty spec file, or one of comments only, is an error: only leaving out -f means the default stack', async () => {
  const files: [string, string][] = [
    ['empty.yaml', ''],
    ['comments.yaml', '# the stack for team a\n# TODO\n'],
  ];
  for (const [name, text] of files) {
    const result = await cli(undefined, ['render', '-f', specFile(name, text)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is empty/);
    expect(result.stdout).toBe('');
  }
  const action = await runAction({ inputs: { command: 'render', spec: specFile('action-empty.yaml', '\n') } });
  expect(action.code).not.toBe(0);
  expect(action.stdout).toMatch(/::error::input "spec": .*is empty/);
});

test('labels may not set the Pod Security level of the namespace', async () => {
  const fromFile = await cli(undefined, [
    'render',
    '-f',
    specFile('psa.yaml', stringify({ metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } })),
  ]);
  expect(fromFile.code).toBe(2);
  expect(fromFile.stderr).toMatch(/metadata\.labels: must not set pod-security\.kubernetes\.io\/\* labels/);
});

describe('credentials with characters that mean something in YAML', () => {
  const VALUE = 'a#b: *c %d &e !f |g >h "i';

  /** What Loki does with -config.expand-env before it parses its config: `${VAR:-}` becomes the value. */
  const expandEnv = (text: string, env: Record<string, string>) =>
    text.replace(/\$\{([A-Z0-9_]+):-\}/g, (_match, name: string) => env[name] ?? '');

  test('reach Loki as they are', () => {
    for (const type of ['s3', 'azure'] as const) {
      const storage =
        type === 's3'
          ? { type, s3: { bucket: 'logs', region: 'eu-west-1' } }
          : { type, azure: { accountName: 'logs', container: 'chunks' } };
      const credentials =
        type === 's3'
          ? { AWS_ACCESS_KEY_ID: VALUE, AWS_SECRET_ACCESS_KEY: VALUE }
          : { AZURE_STORAGE_ACCOUNT_KEY: VALUE };
      const stack = withStorageCredentials(parseSpec(namingCredentialsSecret({ spec: { storage } })), credentials);
      const rendered = renderKubernetes(stack, { credentials });
      const configMap = rendered.objects.find(
        (object) => object.kind === 'ConfigMap' && object.metadata?.name === 'loki-config',
      ) as { data: Record<string, string> };
      const env = Object.fromEntries(
        ['LOKI_S3_ACCESS_KEY_ID', 'LOKI_S3_SECRET_ACCESS_KEY', 'LOKI_AZURE_ACCOUNT_KEY'].map((name) => [name, VALUE]),
      );
      const config = parse(expandEnv(configMap.data['config.yaml']!, env)) as {
        common: { storage: Record<string, Record<string, string>> };
      };
      const store = config.common.storage[type]!;
      if (type === 's3') expect([store.access_key_id, store.secret_access_key]).toEqual([VALUE, VALUE]);
      else expect(store.account_key).toBe(VALUE);
    }
  });

  test('a single quote or a line break, which the configuration cannot carry, is refused naming the input', async () => {
    const result = await runAction({
      inputs: {
        command: 'render',
        'storage-type': 's3',
        bucket: 'logs',
        region: 'eu-west-1',
        'access-key-id': 'AKIAEXAMPLE',
        'secret-access-key': "it's-secret",
      },
    });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/input "secret-access-key": contains a single quote or a line break/);
    expect(
      result.stdout
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n'),
    ).not.toContain("it's-secret");
  });
});

type Json = Record<string, unknown>;

function nomadJobOf(stack: LokiStack): string {
  try {
    return renderNomad(stack).hcl;
  } catch (error) {
    if (error instanceof SpecError) return '';
    throw error;
  }
}

/** The path of every string in a document. */
function stringPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringPaths(item, [...path, index]));
  if (value && typeof value === 'object')
    return Object.entries(value as Json).flatMap(([key, item]) => stringPaths(item, [...path, key]));
  return [];
}

function getAt(document: Json, path: (string | number)[]): unknown {
  return path.reduce<unknown>((current, key) => (current as Record<string | number, unknown>)[key], document);
}

function setAt(document: Json, path: (string | number)[], value: unknown): void {
  let current = document as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) current = current[key] as Record<string | number, unknown>;
  current[path[path.length - 1]!] = value;
}
