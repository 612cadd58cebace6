// Every example each loki:stack:* action carries, as GET /v2/actions shows it to template authors, run in a
// real backend as the steps of a template, exactly as written: a template per example, pushed to a repository
// and registered in the catalog the way a user registers one, then a task started by a signed-in user. The
// examples name clusters "dev" and "prod-eu" (both the test API server here); the deploys come before the
// plans, which plan against what they deployed, and the destroys, which remove it.
import { stringify, parse } from 'yaml';
import { storedStackObjects } from '../cluster/fixture.js';
import { runTask, waitForEntity } from '../../src/backstage-host/host.js';
import { START_TIMEOUT_MS, startAll, TEST_TIMEOUT_MS, type Started } from './setup.js';

type Json = Record<string, any>;

const OUR_ACTIONS = ['loki:stack:deploy', 'loki:stack:destroy', 'loki:stack:plan', 'loki:stack:render'];

let started: Started;
let userToken: string;
let actions: Json[];

beforeAll(async () => {
  started = await startAll();
  userToken = await started.host.userToken();
  const answer = await started.host.request('/api/scaffolder/v2/actions', { token: userToken });
  if (answer.status !== 200)
    throw new Error(`GET /v2/actions answered ${answer.status}: ${answer.text.slice(0, 1000)}`);
  actions = (answer.body as Json[]).filter((action) => String(action.id).startsWith('loki:stack:'));

  // One template per example, registered as a user registers templates: a catalog location on a repository.
  const templates = actions.flatMap((action) =>
    (action.examples as Json[]).map((example, index) => templateOf(action.id, index, example)),
  );
  const contents = started.host.pushToRepo('acme', 'examples', 'main', {
    'templates.yaml': templates.map((template) => stringify(template)).join('---\n'),
  });
  const location = await started.host.request('/api/catalog/locations', {
    method: 'POST',
    token: userToken,
    body: { type: 'url', target: `${contents}/templates.yaml` },
  });
  if (location.status !== 201)
    throw new Error(`POST /api/catalog/locations answered ${location.status}: ${location.text.slice(0, 1000)}`);
  for (const template of templates) await waitForEntity(started.host, `template:default/${template.metadata.name}`);
}, START_TIMEOUT_MS);

afterAll(async () => {
  await started?.stop();
}, 60_000);

function templateName(actionId: string, index: number): string {
  return `example-${actionId.replaceAll(':', '-')}-${index + 1}`;
}

function templateOf(actionId: string, index: number, example: Json): Json {
  const { steps } = parse(example.example) as { steps: Json[] };
  return {
    apiVersion: 'scaffolder.backstage.io/v1beta3',
    kind: 'Template',
    metadata: {
      name: templateName(actionId, index),
      title: `${actionId} example ${index + 1}`,
      description: example.description,
    },
    spec: { owner: 'group:default/platform', type: 'example', parameters: [], steps },
  };
}

/** The inputs of an example's steps for `actionId`. */
const inputsOf = (example: Json, actionId: string): Json[] =>
  (parse(example.example).steps as Json[]).filter((step) => step.action === actionId).map((step) => step.input ?? {});

/** Runs each example of `actionId` as a task; returns one line per example that did not complete, and the runs. */
async function runExamples(actionId: string, check: (example: Json, log: string) => void) {
  const action = actions.find((candidate) => candidate.id === actionId);
  expect(action?.examples?.length).toBeGreaterThan(0);
  for (const [index, example] of (action!.examples as Json[]).entries()) {
    const run = await runTask(started.host, `template:default/${templateName(actionId, index)}`, {}, userToken);
    expect({ example: example.description, status: run.task.status, log: run.log }).toMatchObject({
      status: 'completed',
    });
    check(example, run.log);
  }
}

test('the loki:stack actions the backend lists are the four this suite runs, each with examples', () => {
  expect(actions.map((action) => action.id).sort()).toEqual(OUR_ACTIONS);
  for (const action of actions) expect([action.id, action.examples.length > 0]).toEqual([action.id, true]);
});

test(
  'loki:stack:render examples',
  async () => {
    const requestsBefore = started.running.server.faults.requests.length;
    await runExamples('loki:stack:render', () => undefined);
    expect(started.running.server.faults.requests.slice(requestsBefore)).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);

test(
  'loki:stack:deploy examples: each stack is on the cluster, ready, and smoke-tested when the example asks',
  async () => {
    await runExamples('loki:stack:deploy', (example, log) => {
      for (const input of inputsOf(example, 'loki:stack:deploy')) {
        const objects = storedStackObjects(started.running, input.name, input.namespace);
        expect([
          input.namespace,
          input.name,
          objects.filter((object) => object.startsWith('StatefulSet/')).length > 0,
        ]).toEqual([input.namespace, input.name, true]);
        if (input.smokeTest) expect(log).toMatch(/Smoke test passed/);
      }
    });
  },
  3 * TEST_TIMEOUT_MS,
);

test(
  'loki:stack:plan examples: each plans against a stack a deploy example made, and writes nothing',
  async () => {
    const writes = () =>
      started.running.server.faults.requests.filter(
        (request) => request.method !== 'GET' && !/[?&]dryRun=All/.test(request.path),
      ).length;
    const before = writes();
    const logs: string[] = [];
    await runExamples('loki:stack:plan', (_, log) => void logs.push(log));
    expect(logs[0]).toContain('stack loki/loki: no changes');
    expect(logs[1]).toMatch(/Pods that roll:/);
    expect(logs[1]).toMatch(/config: limits_config\.ingestion_rate_mb/);
    expect(writes()).toBe(before);
  },
  TEST_TIMEOUT_MS,
);

test(
  'loki:stack:destroy examples: each removes the stack a deploy example made (its data only when asked)',
  async () => {
    const action = actions.find((candidate) => candidate.id === 'loki:stack:destroy')!;
    const targets = (action.examples as Json[]).flatMap((example) => inputsOf(example, 'loki:stack:destroy'));
    for (const input of targets)
      expect([
        input.namespace,
        input.name,
        storedStackObjects(started.running, input.name, input.namespace).length > 0,
      ]).toEqual([input.namespace, input.name, true]);
    await runExamples('loki:stack:destroy', (example) => {
      for (const input of inputsOf(example, 'loki:stack:destroy')) {
        const left = storedStackObjects(started.running, input.name, input.namespace);
        // Without deleteVolumes the data stays: the claims, and the Secret of the bundled object store's credentials.
        const data = left.filter(
          (object) => object.startsWith('PersistentVolumeClaim/') || object === `Secret/${input.name}-object-store`,
        );
        expect([input.namespace, input.name, left]).toEqual([
          input.namespace,
          input.name,
          input.deleteVolumes ? [] : data,
        ]);
        if (!input.deleteVolumes) expect(data.some((object) => object.startsWith('PersistentVolumeClaim/'))).toBe(true);
      }
    });
  },
  TEST_TIMEOUT_MS,
);
