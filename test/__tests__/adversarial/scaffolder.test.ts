// The scaffolder actions under attack (item 10 and a low one): a symbolic link planted in the task's
// workspace (by an earlier step, or a fetched repository) led loki:stack:render's files out of it; and every
// task left its kept-alive connections to the API server open. Render writes inside the workspace only, and
// an action closes its connections when it is done.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { createRenderAction } from '@loki-microservices/plugin-scaffolder-backend-module-loki-stack';
import { eventually, startFixture, type Fixture } from '../cluster/fixture.js';
import { clusterActions, clustersOf, contextFor } from '../scaffolder/fixture.js';

jest.setTimeout(120_000);

let fixture: Fixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

describe('loki:stack:render and symbolic links in the workspace', () => {
  const cases: [string, (workspace: string, outside: string) => void][] = [
    ['the target directory is a link out', (workspace, outside) => symlinkSync(outside, join(workspace, 'loki'))],
    [
      'the manifests directory is a link out',
      (workspace, outside) => {
        mkdirSync(join(workspace, 'loki'));
        symlinkSync(outside, join(workspace, 'loki', 'manifests'));
      },
    ],
    [
      'the spec file is a link out',
      (workspace, outside) => {
        mkdirSync(join(workspace, 'loki'));
        symlinkSync(join(outside, 'stolen.yaml'), join(workspace, 'loki', 'loki-stack.yaml'));
      },
    ],
  ];

  test.each(cases)('%s: refused, and nothing is written outside', async (_what, plant) => {
    const workspace = mkdtempSync(join(tmpdir(), 'workspace-'));
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    plant(workspace, outside);
    const { ctx } = contextFor({ targetPath: './loki' }, { workspacePath: workspace } as never);
    // (Backstage's own resolveSafeChildPath refuses the first case already, in the versions that resolve links.)
    await expect(createRenderAction().handler(ctx)).rejects.toThrow(/symbolic link: refused|outside its parent/);
    expect(readdirSync(outside)).toEqual([]);
  });

  test('without links, the files are written as before', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'workspace-'));
    const { ctx, outputs } = contextFor({ targetPath: './loki' }, { workspacePath: workspace } as never);
    await createRenderAction().handler(ctx);
    expect(outputs().specPath).toBe(join('loki', 'loki-stack.yaml'));
    expect(lstatSync(join(workspace, 'loki', 'manifests', 'kustomization.yaml')).isFile()).toBe(true);
  });
});

test('loki:stack:deploy leaves no connection to the API server open once it is done', async () => {
  // The server would close idle kept-alive connections after its keep-alive timeout (5 s by default): make
  // that long, so that only the action's own closing can empty the count.
  (fixture.running.server as unknown as { server: { keepAliveTimeout: number } }).server.keepAliveTimeout = 600_000;
  const action = clusterActions(await clustersOf(fixture.running)).deploy;
  const { ctx } = contextFor({ cluster: 'dev', namespace: 'sockets', wait: true, timeout: '2m', smokeTest: false });
  await action.handler(ctx);
  await eventually(() => fixture.running.server.openConnections === 0, 'every connection of the task to close', 10_000);
});
