// Who may deploy, in a real backend: the scaffolder actions ask the real permission backend (our test policy
// behind it) with the credentials of the user who started the task, and check the cluster's namespace
// allow-list, both before any request reaches the cluster.
import { runTask, waitForEntity } from '../../src/backstage-host/host.js';
import { storedStackObjects } from '../cluster/fixture.js';
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

/** What an external service needs to run a template through the scaffolder (the catalog, unrestricted, for the template). */
const RUN_TEMPLATES = [
  'scaffolder.task.create',
  'scaffolder.task.read',
  'scaffolder.action.execute',
  'scaffolder.template.parameter.read',
  'scaffolder.template.step.read',
];

beforeAll(async () => {
  started = await startAll({
    restrictedServices: {
      'templates-only': [{ plugin: 'scaffolder', permission: RUN_TEMPLATES }, { plugin: 'catalog' }],
      'may-deploy': [
        { plugin: 'scaffolder', permission: [...RUN_TEMPLATES, 'loki.stack.deploy'] },
        { plugin: 'catalog' },
      ],
    },
  });
  template = await waitForEntity(started.host, SHIPPED_TEMPLATE_REF);
}, START_TIMEOUT_MS);

afterAll(async () => {
  await started?.stop();
}, 60_000);

afterEach(() => started.host.setPolicy({ deny: [] }));

test(
  'the policy denies loki.stack.deploy to the user: the task fails at the deploy step, and no request reaches the cluster',
  async () => {
    started.host.setPolicy({ deny: ['loki.stack.deploy'] });
    const decisionsBefore = started.host.decisions().length;
    const values = requiredValues(template, choicesFor('denied', 'perm-denied'), { publish: false, deployNow: true });
    const requestsBefore = started.running.server.faults.requests.length;
    const run = await runTask(started.host, SHIPPED_TEMPLATE_REF, values, await started.host.userToken());
    expectTaskStatus(run, 'failed');
    expect(run.log).toMatch(/loki\.stack\.deploy/);
    expect(run.events.find((event) => event.body.stepId === 'deploy' && event.body.status === 'failed')).toBeDefined();
    expect(started.running.server.faults.requests.slice(requestsBefore)).toEqual([]);
    // The action asked about the user who started the task (getInitiatorCredentials), not about the backend itself.
    expect(started.host.decisions().slice(decisionsBefore)).toContainEqual({
      permission: 'loki.stack.deploy',
      user: started.host.userEntityRef,
      result: 'DENY',
    });
  },
  TEST_TIMEOUT_MS,
);

test(
  "the same in the template editor's dry run: the deploy step fails and sends nothing, not even a dry-run request",
  async () => {
    started.host.setPolicy({ deny: ['loki.stack.deploy'] });
    const shipped = installedTemplate();
    const values = requiredValues(shipped, choicesFor('denied-dry', 'perm-denied'), {
      publish: false,
      deployNow: true,
    });
    const requestsBefore = started.running.server.faults.requests.length;
    const answer = await started.host.request('/api/scaffolder/v2/dry-run', {
      method: 'POST',
      token: await started.host.userToken(),
      body: { template: shipped, values, directoryContents: installedTemplateFiles() },
    });
    const log = JSON.stringify(answer.body ?? answer.text);
    expect(log).toMatch(/loki\.stack\.deploy/);
    expect(started.running.server.faults.requests.slice(requestsBefore)).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);

test(
  'deploying into kube-system is refused with a message naming what is allowed, before any request',
  async () => {
    const values = requiredValues(template, choicesFor('system', 'kube-system'), { publish: false, deployNow: true });
    const requestsBefore = started.running.server.faults.requests.length;
    const run = await runTask(started.host, SHIPPED_TEMPLATE_REF, values, await started.host.userToken());
    expectTaskStatus(run, 'failed');
    expect(run.log).toMatch(/"kube-system" is not allowed/);
    expect(run.log).toMatch(/kube-\*/);
    expect(run.log).toMatch(/\bdefault\b/);
    expect(started.running.server.faults.requests.slice(requestsBefore)).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);

// Services never reach the policy: Backstage decides for them from their token's access restrictions. The
// action asks with the task's initiator credentials, so the restrictions of the service that started it apply.
test(
  'an external service whose access restrictions do not name loki.stack.deploy: the task fails before any request; one whose do: it deploys',
  async () => {
    const decisionsBefore = started.host.decisions().length;
    const requestsBefore = started.running.server.faults.requests.length;
    const refused = await runTask(
      started.host,
      SHIPPED_TEMPLATE_REF,
      requiredValues(template, choicesFor('svc-refused', 'perm-svc'), { publish: false, deployNow: true }),
      started.host.restrictedTokens['templates-only']!,
    );
    expectTaskStatus(refused, 'failed');
    expect(refused.log).toMatch(/loki\.stack\.deploy/);
    expect(started.running.server.faults.requests.slice(requestsBefore)).toEqual([]);

    const allowed = await runTask(
      started.host,
      SHIPPED_TEMPLATE_REF,
      requiredValues(template, choicesFor('svc-allowed', 'perm-svc'), { publish: false, deployNow: true }),
      started.host.restrictedTokens['may-deploy']!,
    );
    expectTaskStatus(allowed, 'completed');
    expect(storedStackObjects(started.running, 'svc-allowed', 'perm-svc').length).toBeGreaterThan(0);
    expect(
      started.host
        .decisions()
        .slice(decisionsBefore)
        .filter((decision) => decision.permission === 'loki.stack.deploy'),
    ).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);
