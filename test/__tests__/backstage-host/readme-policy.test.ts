// The example permission policy of docs/backstage.md, as an adopter copies it into a backend: it type-checks
// against the packages the adopter installs, and, as the real backend's policy, lets the platform team deploy,
// refuses anyone else before any request reaches the cluster, and shows a stack's status only to its entity's owners.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { STACK_ANNOTATION } from 'loki-microservices';
import ts from 'typescript';
import { runTask, waitForEntity } from '../../src/backstage-host/host.js';
import { preparedHostDir } from '../../src/backstage-host/paths.js';
import { eventually } from '../cluster/fixture.js';
import {
  choicesFor,
  expectTaskStatus,
  requiredValues,
  SHIPPED_TEMPLATE_REF,
  START_TIMEOUT_MS,
  startAll,
  TEST_TIMEOUT_MS,
  type Started,
} from './setup.js';

type Json = Record<string, any>;

const ROOT = new URL('../../../', import.meta.url).pathname;
const DOC = readFileSync(join(ROOT, 'docs/backstage.md'), 'utf8');
const POLICY = [...DOC.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((match) => match[1]!)
  .filter((block) => block.includes('policyExtensionPoint'));

test('docs/backstage.md shows one permission policy module', () => {
  expect(POLICY).toHaveLength(1);
});

test(
  'it type-checks against the packages an adopter installs (strict, as a CommonJS backend compiles it)',
  async () => {
    const dir = join(preparedHostDir(), 'runs', `readme-policy-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lokiStackPolicy.ts'), POLICY[0]!);
    const compilerOptions = {
      noEmit: true,
      strict: true,
      skipLibCheck: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      types: [],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['lokiStackPolicy.ts'] }));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch(
      (error: { stdout: string }) => error,
    );
    expect(result.stdout).toBe('');
  },
  TEST_TIMEOUT_MS,
);

const policyModule = () =>
  ts.transpileModule(POLICY[0]!, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    .outputText;

const stackEntity = (name: string, owner: string, stack: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: { name, namespace: 'default', annotations: { [STACK_ANNOTATION]: stack } },
  spec: { type: 'loki-stack', owner },
});

describe('as the policy of a real backend', () => {
  let member: Started;
  let outsider: Started;

  beforeAll(async () => {
    const entities = [
      stackEntity('ours', 'group:default/platform', 'dev/readme-policy/ours'),
      stackEntity('theirs', 'group:default/others', 'dev/readme-policy/ours'),
    ];
    [member, outsider] = await Promise.all([
      startAll({ policyModule: policyModule(), entities }),
      startAll({ policyModule: policyModule(), userEntityRef: 'user:default/outsider', memberOf: [] }),
    ]);
    await Promise.all([
      waitForEntity(member.host, SHIPPED_TEMPLATE_REF),
      waitForEntity(member.host, 'resource:default/ours'),
      waitForEntity(member.host, 'resource:default/theirs'),
      waitForEntity(outsider.host, SHIPPED_TEMPLATE_REF),
    ]);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([member?.stop(), outsider?.stop()]);
  }, 60_000);

  test(
    "a member of group:default/platform deploys; the status of an entity the group owns is readable, of another group's is 403",
    async () => {
      const run = await runTask(
        member.host,
        SHIPPED_TEMPLATE_REF,
        requiredValues(
          (await waitForEntity(member.host, SHIPPED_TEMPLATE_REF)) as Json,
          choicesFor('ours', 'readme-policy'),
          { publish: false, deployNow: true },
        ),
        await member.host.userToken(),
      );
      expectTaskStatus(run, 'completed');
      const token = await member.host.userToken();
      const ours = await eventually(
        async () => {
          const answer = await member.host.request('/api/loki-stack/stacks/by-entity/resource/default/ours', { token });
          return answer.status === 200 && answer.body;
        },
        'the status of the stack the group owns',
        120_000,
        500,
      );
      expect((ours as Json).condition.type).toBe('Ready');
      expect(
        (await member.host.request('/api/loki-stack/stacks/by-entity/resource/default/theirs', { token })).status,
      ).toBe(403);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'anyone else is refused at the deploy step, before any request reaches the cluster',
    async () => {
      const template = (await waitForEntity(outsider.host, SHIPPED_TEMPLATE_REF)) as Json;
      const requestsBefore = outsider.running.server.faults.requests.length;
      const run = await runTask(
        outsider.host,
        SHIPPED_TEMPLATE_REF,
        requiredValues(template, choicesFor('denied', 'readme-policy'), { publish: false, deployNow: true }),
        await outsider.host.userToken(),
      );
      expectTaskStatus(run, 'failed');
      expect(run.log).toMatch(/the permission policy does not allow loki\.stack\.deploy/);
      expect(outsider.running.server.faults.requests.slice(requestsBefore)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
