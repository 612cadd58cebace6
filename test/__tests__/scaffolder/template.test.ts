// The template "New Loki stack": it parses; every step uses one of our actions or a standard Backstage one,
// passes only inputs that action takes, and references only form fields that exist; the skeleton renders (with
// nunjucks, as fetch:template does) to a valid catalog entity carrying the stack annotation.
import {
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  resourceEntityV1alpha1Validator,
  SchemaValidEntityPolicy,
  type Entity,
} from '@backstage/catalog-model';
import {
  createDeployAction,
  createDestroyAction,
  createRenderAction,
  Clusters,
} from '@loki-microservices/plugin-scaffolder-backend-module-loki-stack';
import { ConfigReader } from '@backstage/config';
import { parseStackAnnotation, STACK_ANNOTATION } from 'loki-microservices';
import nunjucks from 'nunjucks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { permissionsThat } from './fixture.js';

const TEMPLATE_DIR = new URL(
  '../../../plugins/scaffolder-backend-module-loki-stack/templates/new-loki-stack/',
  import.meta.url,
).pathname;
const text = readFileSync(join(TEMPLATE_DIR, 'template.yaml'), 'utf8');

type Json = Record<string, any>;
const template = parse(text) as Json;

const clusters = new Clusters(new ConfigReader({}));
const permissions = permissionsThat('allow');
const OURS = Object.fromEntries(
  [
    createRenderAction(),
    createDeployAction({ clusters, permissions }),
    createDestroyAction({ clusters, permissions }),
  ].map((action) => [action.id, Object.keys((action.schema?.input as { properties: Json }).properties)]),
);

// The input keys of the standard actions the template uses, from their schemas in Backstage's sources
// (plugin-scaffolder-backend: fetch:template, catalog:register; scaffolder-backend-module-github: publish:github).
const STANDARD: Record<string, string[]> = {
  'fetch:template': [
    'url',
    'targetPath',
    'values',
    'copyWithoutRender',
    'copyWithoutTemplating',
    'cookiecutterCompat',
    'templateFileExtension',
    'replace',
    'trimBlocks',
    'lstripBlocks',
    'token',
  ],
  'publish:github': [
    'repoUrl',
    'description',
    'homepage',
    'access',
    'defaultBranch',
    'protectDefaultBranch',
    'repoVisibility',
    'sourcePath',
    'token',
    'topics',
    'gitCommitMessage',
    'gitAuthorName',
    'gitAuthorEmail',
  ],
  'catalog:register': ['catalogInfoUrl', 'repoContentsUrl', 'catalogInfoPath', 'optional'],
};

test('is a scaffolder.backstage.io/v1beta3 Template named new-loki-stack', () => {
  expect(template).toMatchObject({
    apiVersion: 'scaffolder.backstage.io/v1beta3',
    kind: 'Template',
    metadata: { name: 'new-loki-stack', title: 'New Loki stack' },
  });
});

test('every step uses our action or a standard one, with inputs that action takes', () => {
  for (const step of template.spec.steps as Json[]) {
    const keys = OURS[step.action] ?? STANDARD[step.action];
    expect([step.id, keys !== undefined]).toEqual([step.id, true]);
    for (const key of Object.keys(step.input))
      expect([step.id, key, keys!.includes(key)]).toEqual([step.id, key, true]);
  }
  const used = (template.spec.steps as Json[]).map((step) => step.action);
  expect(used).toEqual(
    expect.arrayContaining(['loki:stack:render', 'loki:stack:deploy', 'fetch:template', 'catalog:register']),
  );
});

/** Every form field, on every page, including those that appear with a storage type (dependencies.oneOf). */
function formFields(): Set<string> {
  const names = new Set<string>();
  for (const page of template.spec.parameters as Json[]) {
    for (const name of Object.keys(page.properties ?? {})) names.add(name);
    for (const dependency of Object.values((page.dependencies ?? {}) as Record<string, Json>)) {
      for (const option of dependency.oneOf ?? [])
        for (const name of Object.keys(option.properties ?? {})) names.add(name);
    }
  }
  return names;
}

test('every ${{ parameters.x }} is a form field, and every form field is used', () => {
  const fields = formFields();
  const expressions = [...text.matchAll(/\$\{\{(.*?)\}\}/g)].map((match) => match[1]!);
  const referenced = new Set(
    expressions.flatMap((expression) => [...expression.matchAll(/\bparameters\.([A-Za-z0-9_]+)/g)].map((m) => m[1]!)),
  );
  expect([...referenced].filter((name) => !fields.has(name))).toEqual([]);
  expect([...fields].filter((name) => !referenced.has(name))).toEqual([]);
});

test('every ${{ steps.x.output.y }} names an earlier step and an output that action sets', () => {
  const steps = template.spec.steps as Json[];
  const outputsOf: Record<string, string[]> = {
    ...Object.fromEntries(
      [createRenderAction(), createDeployAction({ clusters, permissions })].map((action) => [
        action.id,
        Object.keys((action.schema?.output as { properties: Json }).properties),
      ]),
    ),
    'publish:github': ['remoteUrl', 'repoContentsUrl', 'commitHash'],
    'catalog:register': ['entityRef', 'catalogInfoUrl'],
  };
  for (const match of text.matchAll(/steps\.([a-z]+)\.output\.([A-Za-z]+)/g)) {
    const step = steps.find((candidate) => candidate.id === match[1]);
    expect([match[0], step !== undefined]).toEqual([match[0], true]);
    expect([match[0], outputsOf[step!.action]?.includes(match[2]!)]).toEqual([match[0], true]);
  }
  // A step reads only the outputs of the steps before it.
  steps.forEach((step, index) => {
    for (const [, id] of JSON.stringify(step).matchAll(/steps\.([a-z]+)\.output/g)) {
      expect([step.id, id, steps.findIndex((candidate) => candidate.id === id) < index]).toEqual([step.id, id, true]);
    }
  });
});

test('the skeleton renders to a valid Resource entity with the stack annotation the status card reads', async () => {
  const env = new nunjucks.Environment(null, { tags: { variableStart: '${{', variableEnd: '}}' }, autoescape: false });
  const values = {
    name: 'logs',
    description: 'Logs: team "core"',
    owner: 'group:default/platform',
    cluster: 'dev',
    namespace: 'observability',
    queryUrl: 'http://logs-query-frontend.observability.svc.cluster.local:3100',
  };
  const rendered = env.renderString(readFileSync(join(TEMPLATE_DIR, 'skeleton/catalog-info.yaml'), 'utf8'), { values });
  const entity = parse(rendered) as Entity;
  const policy = EntityPolicies.allOf([
    new SchemaValidEntityPolicy(),
    new FieldFormatEntityPolicy(),
    new NoForeignRootFieldsEntityPolicy(),
  ]);
  await expect(policy.enforce(entity)).resolves.toBeDefined();
  await expect(resourceEntityV1alpha1Validator.check(entity)).resolves.toBe(true);
  expect(entity.metadata.description).toBe('Logs: team "core"');
  expect(parseStackAnnotation(entity.metadata.annotations?.[STACK_ANNOTATION])).toEqual({
    cluster: 'dev',
    namespace: 'observability',
    name: 'logs',
  });
  expect(entity.metadata.annotations?.['backstage.io/kubernetes-id']).toBe('logs');
});

test('the form names what the actions validate: the name pattern and length match the spec', () => {
  const name = (template.spec.parameters as Json[])[0]!.properties.name;
  expect(name.maxLength).toBe(38);
  expect(new RegExp(name.pattern).test('loki-dev')).toBe(true);
  expect(new RegExp(name.pattern).test('Loki_Dev')).toBe(false);
});
