// The backend module as a Backstage backend loads it (`backend.add(import(...))`): it registers the three
// actions with the scaffolder's extension point; and each action's documented examples run as written (the real
// scaffolder runs them too: test/__tests__/backstage-host/).
import { jest } from '@jest/globals';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { scaffolderActionsExtensionPoint, type TemplateAction } from '@backstage/plugin-scaffolder-node';
import { createRenderAction } from '@loki-microservices/plugin-scaffolder-backend-module-loki-stack';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { startFixture, type Fixture } from '../cluster/fixture.js';
import { appConfig, clusterActions, clustersOf, contextFor } from './fixture.js';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

test('the module, loaded as backend.add(import(...)) does, registers loki:stack:render, plan, deploy and destroy', async () => {
  const addActions = jest.fn<(...actions: TemplateAction[]) => void>();
  const config = await appConfig(fixture.running);
  await startTestBackend({
    extensionPoints: [[scaffolderActionsExtensionPoint, { addActions }]],
    features: [
      import('@loki-microservices/plugin-scaffolder-backend-module-loki-stack'),
      mockServices.rootConfig.factory({ data: config.get() as never }),
    ],
  });
  const ids = addActions.mock.calls.flat().map((action) => action.id);
  expect(ids.sort()).toEqual(['loki:stack:deploy', 'loki:stack:destroy', 'loki:stack:plan', 'loki:stack:render']);
  for (const action of addActions.mock.calls.flat()) {
    expect(action.description).toBeTruthy();
    expect(action.examples?.length).toBeGreaterThan(0);
    // Every input field is described (zod's .describe, turned into JSON Schema for the template editor).
    const properties =
      (action.schema?.input as { properties?: Record<string, { description?: string }> }).properties ?? {};
    for (const [name, property] of Object.entries(properties))
      expect([name, !!property.description]).toEqual([name, true]);
  }
});

test('a CommonJS backend (backstage-cli builds backends to CJS) can require the ESM package (Node >= 20.19)', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '-e',
    "process.stdout.write(require('@loki-microservices/plugin-scaffolder-backend-module-loki-stack').default.$$type)",
  ]);
  expect(stdout).toBe('@backstage/BackendFeature');
});

test('every documented example runs as written: the input exactly as in the example, as the real scaffolder passes it', async () => {
  const { deploy, destroy, plan } = clusterActions(await clustersOf(fixture.running));
  for (const action of [createRenderAction(), deploy, plan, destroy]) {
    for (const example of action.examples ?? []) {
      const steps = (parse(example.example) as { steps: { action: string; input: Record<string, unknown> }[] }).steps;
      for (const step of steps) {
        expect(step.action).toBe(action.id);
        const { ctx } = contextFor(step.input, { workspacePath: mkdtempSync(join(tmpdir(), 'example-')) } as never);
        await expect(action.handler(ctx)).resolves.toBeUndefined();
      }
    }
  }
});
