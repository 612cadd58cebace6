// The shipped template in a real Backstage backend, driven over HTTP as the frontend drives it: the catalog
// loads it from the installed package, the template editor's dry run, and real tasks started by a signed-in user
// with only the values the form requires (the scaffolder validates them and passes them on as they are: no
// default of the form or of an action's schema exists at run time).
import { join } from 'node:path';
import { parse } from 'yaml';
import { storedStackObjects } from '../cluster/fixture.js';
import { runTask, SHIPPED_TEMPLATE, waitForEntity } from '../../src/backstage-host/host.js';
import { preparedHostDir } from '../../src/backstage-host/paths.js';
import {
  choicesFor,
  expectTaskStatus,
  installedTemplate,
  installedTemplateFiles,
  requiredValues,
  SHIPPED_TEMPLATE_REF,
  START_TIMEOUT_MS,
  startAll,
  TEST_TIMEOUT_MS,
  type Started,
} from './setup.js';

type Json = Record<string, any>;

let started: Started;
let template: Json;
let userToken: string;

beforeAll(async () => {
  started = await startAll();
  template = await waitForEntity(started.host, SHIPPED_TEMPLATE_REF);
  userToken = await started.host.userToken();
}, START_TIMEOUT_MS);

afterAll(async () => {
  await started?.stop();
}, 60_000);

test(
  'the catalog loads the template from the installed package, with no processing errors',
  async () => {
    expect(template.metadata.annotations['backstage.io/managed-by-location']).toBe(
      `file:${join(preparedHostDir(), SHIPPED_TEMPLATE)}`,
    );
    const errors = (template.status?.items ?? []).filter((item: Json) => item.level === 'error');
    expect(errors).toEqual([]);
    // The owner the template names is an entity the catalog knows (the run seeds it, as an adopter's org has it).
    const relations = (template.relations ?? []).map((relation: Json) => `${relation.type} ${relation.targetRef}`);
    expect(relations).toContain('ownedBy group:default/platform');
  },
  TEST_TIMEOUT_MS,
);

test(
  'dry run (POST /v2/dry-run) with the required values and deployNow: renders the files, and the deploy is a server-side dry run that stores nothing',
  async () => {
    const shipped = installedTemplate();
    const values = requiredValues(shipped, choicesFor('dry', 'tpl-dry'), { publish: false, deployNow: true });
    const requestsBefore = started.running.server.faults.requests.length;
    const answer = await started.host.request('/api/scaffolder/v2/dry-run', {
      method: 'POST',
      token: userToken,
      body: { template: shipped, values, directoryContents: installedTemplateFiles() },
    });
    expect([answer.status, answer.text.slice(0, 3000)]).toEqual([200, expect.anything()]);
    const log = (answer.body.log as Json[])
      .map((entry) => `${entry.body.stepId ?? '-'} ${entry.body.status ?? ''} ${entry.body.message ?? ''}`)
      .join('\n');
    const statuses = Object.fromEntries(
      (answer.body.log as Json[])
        .filter((entry) => entry.body.status)
        .map((entry) => [entry.body.stepId, entry.body.status]),
    );
    expect({ statuses, log }).toMatchObject({
      statuses: { render: 'completed', fetch: 'completed', deploy: 'completed' },
    });
    const files = (answer.body.directoryContents as Json[]).map((file) => file.path as string);
    expect(files).toEqual(
      expect.arrayContaining([
        'catalog-info.yaml',
        'loki/loki-stack.yaml',
        expect.stringMatching(/^loki\/manifests\//),
      ]),
    );
    const catalogInfo = Buffer.from(
      (answer.body.directoryContents as Json[]).find((file) => file.path === 'catalog-info.yaml')!.base64Content,
      'base64',
    ).toString('utf8');
    expect(parse(catalogInfo).metadata.annotations).toMatchObject({ 'loki-microservices/stack': 'dev/tpl-dry/dry' });
    const requests = started.running.server.faults.requests.slice(requestsBefore);
    const writes = requests.filter((r) => !['GET', 'HEAD'].includes(r.method));
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((r) => !/[?&]dryRun=All\b/.test(r.path)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(storedStackObjects(started.running, 'dry', 'tpl-dry')).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);

test(
  'dry run with autoscaled queriers and zone-aware ingesters: the form values reach the spec as the options it names',
  async () => {
    const shipped = installedTemplate();
    const values = {
      ...requiredValues(shipped, choicesFor('scaled', 'tpl-scaled'), { publish: false, deployNow: false }),
      profile: 'small',
      zoneAwareness: true,
      autoscaleQueriers: true,
      querierMaxReplicas: 6,
    };
    const answer = await started.host.request('/api/scaffolder/v2/dry-run', {
      method: 'POST',
      token: userToken,
      body: { template: shipped, values, directoryContents: installedTemplateFiles() },
    });
    expect([answer.status, answer.text.slice(0, 3000)]).toEqual([200, expect.anything()]);
    const files = new Map(
      (answer.body.directoryContents as Json[]).map((file) => [
        file.path as string,
        Buffer.from(file.base64Content as string, 'base64').toString('utf8'),
      ]),
    );
    expect(parse(files.get('loki/loki-stack.yaml')!).spec).toMatchObject({
      profile: 'small',
      zoneAwareness: { enabled: true },
      components: { querier: { autoscaling: { enabled: true, min: 2, max: 6 } } },
    });
    const manifest = (pattern: RegExp) => [...files.keys()].filter((path) => pattern.test(path));
    expect(parse(files.get(manifest(/horizontalpodautoscaler-scaled-querier\.yaml$/)[0]!)!).spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 6,
    });
    expect(manifest(/statefulset-scaled-ingester-zone-[abc]\.yaml$/)).toHaveLength(3);
  },
  TEST_TIMEOUT_MS,
);

test(
  'a task with the required values, not kept in a repository, not deployed: completes, publishes and deploys nothing',
  async () => {
    const values = requiredValues(template, choicesFor('plain', 'tpl-plain'), { publish: false, deployNow: false });
    const requestsBefore = started.running.server.faults.requests.length;
    const run = await runTask(started.host, SHIPPED_TEMPLATE_REF, values, userToken);
    expectTaskStatus(run, 'completed');
    expect(run.task.createdBy).toBe(started.host.userEntityRef);
    const skipped = run.events
      .filter((event) => /^Skipping step/.test(event.body.message ?? ''))
      .map((event) => event.body.stepId);
    expect(skipped).toEqual(expect.arrayContaining(['publish', 'deploy', 'register']));
    expect(started.running.server.faults.requests.slice(requestsBefore)).toEqual([]);
    expect(started.host.publishedFile('acme', 'plain', 'main', 'catalog-info.yaml')).toBeUndefined();
    // What the user is shown at the end: the query URL, and nothing about a repository there is not.
    const output = run.completion.body.output as Json;
    expect(output.links).toEqual([
      {
        title: expect.stringMatching(/^Loki query URL/),
        url: 'http://plain-query-frontend.tpl-plain.svc.cluster.local:3100',
      },
    ]);
    expect(JSON.stringify(output.text)).not.toMatch(/repositor/i);
    // Step names are shown as written: Backstage does not template them.
    expect((template.spec.steps as Json[]).map((step) => step.name).filter((name) => name.includes('${{'))).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);

test(
  'a task kept in a repository and deployed: the definition is published, the stack registered in the catalog, and the status route finds the stack through the entity',
  async () => {
    const values = requiredValues(template, choicesFor('kept', 'tpl-kept'), { publish: true, deployNow: true });
    expect(values.repoUrl).toBe('github.com?owner=acme&repo=kept');
    const run = await runTask(started.host, SHIPPED_TEMPLATE_REF, values, userToken);
    expectTaskStatus(run, 'completed');
    expect(started.host.publishedFile('acme', 'kept', 'main', 'catalog-info.yaml')).toBeDefined();
    expect(started.host.publishedFile('acme', 'kept', 'main', 'loki/loki-stack.yaml')).toBeDefined();
    const entity = await waitForEntity(started.host, 'resource:default/kept');
    expect(entity.metadata.annotations).toMatchObject({ 'loki-microservices/stack': 'dev/tpl-kept/kept' });
    expect(entity.spec.owner).toBe('group:default/platform');
    const links = (run.completion.body.output?.links ?? []) as Json[];
    expect(links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ entityRef: 'resource:default/kept' }),
        expect.objectContaining({ url: expect.stringMatching(/\/acme\/kept$/) }),
      ]),
    );
    const status = await started.host.request('/api/loki-stack/stacks/by-entity/resource/default/kept', {
      token: userToken,
    });
    expect([status.status, status.text.slice(0, 1000)]).toEqual([200, expect.anything()]);
    expect(status.body).toMatchObject({ name: 'kept', namespace: 'tpl-kept', condition: { type: 'Ready' } });
  },
  TEST_TIMEOUT_MS,
);

test(
  'a task with deployNow: the stack is applied, becomes ready and passes the smoke test on the cluster',
  async () => {
    const values = requiredValues(template, choicesFor('deployed', 'tpl-deployed'), {
      publish: false,
      deployNow: true,
    });
    const run = await runTask(started.host, SHIPPED_TEMPLATE_REF, values, userToken);
    expectTaskStatus(run, 'completed');
    expect(storedStackObjects(started.running, 'deployed', 'tpl-deployed')).toEqual(
      expect.arrayContaining(['Deployment/deployed-distributor', 'StatefulSet/deployed-ingester']),
    );
    expect(run.log).toMatch(/Smoke test passed/);
    const pushes = started.running.server.faults.requests.filter(
      (r) => r.path.includes('/namespaces/tpl-deployed/') && /loki\/api\/v1\/push/.test(r.path),
    );
    expect(pushes.length).toBeGreaterThan(0);
  },
  TEST_TIMEOUT_MS,
);
