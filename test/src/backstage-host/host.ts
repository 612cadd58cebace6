// A real Backstage backend (createBackend() of @backstage/backend-defaults) as a child process, with the real
// catalog, scaffolder, permission and auth backends and this project's packages installed from their packed
// tarballs (prepare.ts). The test talks to it over HTTP only, as Backstage's frontend does. Test-only parts,
// written into the entry file: a permission policy read from a file at each decision (so a test can change it
// without a restart, and read back what was decided), and a stand-in for publish:github that copies the
// workspace to a directory this process serves the way raw.githubusercontent.com serves files, so that the real
// catalog:register step reads the published catalog-info.yaml through the real GitHub URL reader.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, resolve, sep } from 'node:path';
import { stringify } from 'yaml';
import type { RunningApiServer } from '../apiserver/index.js';
import { serverCredentials } from '../apiserver/tls.js';
import { preparedHostDir } from './paths.js';

type Json = Record<string, any>;

/** Permission names the test policy denies; everything else is allowed. */
export interface TestPolicy {
  deny: string[];
}

export interface HostOptions {
  /** The test API server, configured as the Kubernetes-plugin clusters `clusters` (default "dev" and "prod-eu"). */
  cluster: RunningApiServer;
  clusters?: string[];
  /** The user the guest provider signs in. @default user:default/guest-tester */
  userEntityRef?: string;
  /** The groups that user is a member of, as the seeded catalog says. @default [group:default/platform] */
  memberOf?: string[];
  policy?: TestPolicy;
  /**
   * The source of an ES module (JavaScript) whose default export is a permission policy module, an adopter's own,
   * added instead of the test policy (setPolicy and decisions then do nothing).
   */
  policyModule?: string;
  /** Catalog file locations besides the shipped template and the seeded users and groups (absolute paths). */
  locations?: string[];
  /** Entities written to a file of the run and added as a location. */
  entities?: Json[];
  /** Merged into the generated app-config (objects deeply, anything else replaced). */
  config?: Json;
  /**
   * More static tokens of external services, by subject, each with its accessRestrictions
   * (backend.auth.externalAccess[].accessRestrictions: `{ plugin, permission? }` entries).
   */
  restrictedServices?: Record<string, Json[]>;
  /** How long the backend may take to become ready. @default 5 minutes */
  readyTimeoutMs?: number;
}

export interface DecisionRecord {
  permission: string;
  user?: string;
  result: 'ALLOW' | 'DENY';
}

export interface Host {
  baseUrl: string;
  /** The static token of backend.auth.externalAccess: a service principal without access restrictions. */
  serviceToken: string;
  /** The static tokens of `restrictedServices`, by subject. */
  restrictedTokens: Record<string, string>;
  userEntityRef: string;
  /** A Backstage user token for userEntityRef, from the guest provider's refresh endpoint. */
  userToken(): Promise<string>;
  /** Replaces the test policy (read at every decision). */
  setPolicy(policy: TestPolicy): void;
  /** What the policy decided so far, in order (service principals never reach a policy). */
  decisions(): DecisionRecord[];
  /** What the stand-in publish:github published: files by path under `<owner>/<repo>/<branch>`. */
  publishedFile(owner: string, repo: string, branch: string, path: string): string | undefined;
  /** Puts files into a repository of the stand-in GitHub (as a push would); returns the repository's contents URL. */
  pushToRepo(owner: string, repo: string, branch: string, files: Record<string, string>): string;
  /** Everything the backend printed, for failure messages. */
  output(): string;
  /** fetch against the backend with a token (none: no Authorization header). */
  request(
    path: string,
    init?: { method?: string; token?: string | undefined; body?: unknown },
  ): Promise<{ status: number; body: any; text: string }>;
  stop(): Promise<void>;
}

export const SHIPPED_TEMPLATE =
  'node_modules/@loki-microservices/plugin-scaffolder-backend-module-loki-stack/templates/new-loki-stack/template.yaml';
export const TEMPLATE_OWNER_GROUP = 'group:default/platform';

const live = new Set<ChildProcess>();
// Last resort when a test file ends without stop(): a backend never outlives the jest worker (it also exits by
// itself when its IPC channel to this process closes).
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startHost(options: HostOptions): Promise<Host> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startHostOnce(options);
    } catch (error) {
      // The port was free when chosen; another process can still bind it first. Only that is tried again.
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startHostOnce(options: HostOptions): Promise<Host> {
  const hostDir = preparedHostDir();
  const runDir = join(hostDir, 'runs', `${Date.now()}-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(runDir, { recursive: true });
  const publishRoot = join(runDir, 'published');
  mkdirSync(publishRoot);
  const policyPath = join(runDir, 'policy.json');
  const decisionsPath = join(runDir, 'decisions.jsonl');
  const userEntityRef = options.userEntityRef ?? 'user:default/guest-tester';
  const serviceToken = randomBytes(24).toString('base64url');
  const restrictedTokens = Object.fromEntries(
    Object.keys(options.restrictedServices ?? {}).map((subject) => [subject, randomBytes(24).toString('base64url')]),
  );
  const writePolicy = (policy: TestPolicy) => writeFileSync(policyPath, JSON.stringify(policy));
  writePolicy(options.policy ?? { deny: [] });
  writeFileSync(decisionsPath, '');

  const gitHost = await serveRaw(publishRoot);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  const [, userNamespace, userName] = /^user:([^/]+)\/(.+)$/.exec(userEntityRef) ?? [];
  if (!userName) throw new Error(`userEntityRef "${userEntityRef}" is not user:<namespace>/<name>`);
  const orgPath = join(runDir, 'org.yaml');
  writeFileSync(
    orgPath,
    [
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Group',
        metadata: { name: 'platform' },
        spec: { type: 'team', children: [] },
      },
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'User',
        metadata: { name: userName, namespace: userNamespace },
        spec: { memberOf: options.memberOf ?? [TEMPLATE_OWNER_GROUP] },
      },
    ]
      .map((entity) => stringify(entity))
      .join('---\n'),
  );
  const locations = [join(hostDir, SHIPPED_TEMPLATE), orgPath, ...(options.locations ?? [])];
  if (options.entities?.length) {
    const entitiesPath = join(runDir, 'entities.yaml');
    writeFileSync(entitiesPath, options.entities.map((entity) => stringify(entity)).join('---\n'));
    locations.push(entitiesPath);
  }

  const caData = Buffer.from((await serverCredentials()).caPem).toString('base64');
  const clusterNames = options.clusters ?? ['dev', 'prod-eu'];
  const config = merge(
    {
      app: { baseUrl: 'http://localhost:3000' },
      backend: {
        baseUrl,
        listen: { host: '127.0.0.1', port },
        database: { client: 'better-sqlite3', connection: ':memory:' },
        workingDirectory: join(runDir, 'work'),
        auth: {
          externalAccess: [
            { type: 'static', options: { token: serviceToken, subject: 'backstage-host-test' } },
            ...Object.entries(options.restrictedServices ?? {}).map(([subject, accessRestrictions]) => ({
              type: 'static',
              options: { token: restrictedTokens[subject], subject },
              accessRestrictions,
            })),
          ],
        },
      },
      permission: { enabled: true },
      auth: { providers: { guest: { userEntityRef, dangerouslyAllowOutsideDevelopment: true } } },
      integrations: { github: [{ host: gitHost.host, rawBaseUrl: `${gitHost.url}/raw` }] },
      catalog: {
        rules: [{ allow: ['Component', 'System', 'API', 'Resource', 'Location', 'Template', 'User', 'Group'] }],
        locations: locations.map((target) => ({ type: 'file', target })),
      },
      kubernetes: {
        serviceLocatorMethod: { type: 'multiTenant' },
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: clusterNames.map((name) => ({
              name,
              url: options.cluster.url,
              authProvider: 'serviceAccount',
              serviceAccountToken: options.cluster.server.token,
              caData,
            })),
          },
        ],
      },
      test: { policyPath, decisionsPath, publish: { root: publishRoot, baseUrl: gitHost.url } },
    },
    options.config ?? {},
  );
  const configPath = join(runDir, 'app-config.yaml');
  writeFileSync(configPath, stringify(config));
  const entryPath = join(runDir, 'backend.mjs');
  const policyModulePath = join(runDir, 'policy-module.mjs');
  if (options.policyModule) writeFileSync(policyModulePath, options.policyModule);
  writeFileSync(
    entryPath,
    options.policyModule
      ? ENTRY.replace('backend.add(testPolicy);', "backend.add(import('./policy-module.mjs'));")
      : ENTRY,
  );
  mkdirSync(join(runDir, 'work'));

  let output = '';
  const child = spawn(process.execPath, [entryPath, '--config', configPath], {
    cwd: runDir,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  child.on('exit', () => live.delete(child));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((done) => gitHost.server.close(() => done()));
    gitHost.server.closeAllConnections();
    if (!process.env.KEEP_BACKSTAGE_HOST_RUNS) rmSync(runDir, { recursive: true, force: true });
  };

  const request: Host['request'] = async (path, init = {}) => {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, body, text };
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 5 * 60_000);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the backend exited (${child.exitCode ?? child.signalCode}) before it was ready`);
      const ready = await fetch(`${baseUrl}/.backstage/health/v1/readiness`).then(
        (r) => r.status === 200,
        () => false,
      );
      // Any Backstage backend answers readiness; only ours accepts our token (another could hold the port).
      if (ready) {
        const ours = await request('/api/catalog/entity-facets?facet=kind', { token: serviceToken });
        if (ours.status === 200) break;
        throw new PortTakenError(
          `a server on port ${port} is ready but refuses this backend's token (HTTP ${ours.status}): another process holds the port`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`the backend was not ready within ${options.readyTimeoutMs ?? 5 * 60_000} ms`);
      await Promise.race([new Promise((r) => setTimeout(r, 250)), exited]);
    }
  } catch (error) {
    await stop();
    const message = `${(error as Error).message}; its output:\n${output.slice(-20_000)}`;
    throw error instanceof PortTakenError || /EADDRINUSE/.test(output)
      ? new PortTakenError(message)
      : new Error(message);
  }

  return {
    baseUrl,
    serviceToken,
    restrictedTokens,
    userEntityRef,
    async userToken() {
      const refreshed = await request('/api/auth/guest/refresh', {});
      const token = refreshed.body?.backstageIdentity?.token;
      if (refreshed.status !== 200 || typeof token !== 'string')
        throw new Error(`the guest provider gave no token: HTTP ${refreshed.status} ${refreshed.text.slice(0, 500)}`);
      return token;
    },
    setPolicy: writePolicy,
    decisions: () =>
      readFileSync(decisionsPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as DecisionRecord),
    publishedFile(owner, repo, branch, path) {
      const file = join(publishRoot, owner, repo, branch, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
    pushToRepo(owner, repo, branch, files) {
      for (const [path, content] of Object.entries(files)) {
        const file = join(publishRoot, owner, repo, branch, path);
        mkdirSync(join(file, '..'), { recursive: true });
        writeFileSync(file, content);
      }
      return `${gitHost.url}/${owner}/${repo}/blob/${branch}`;
    },
    output: () => output,
    request,
    stop,
  };
}

/** Serves `<root>/<owner>/<repo>/<branch>/<path>` at `/raw/<owner>/<repo>/<branch>/<path>`, as GitHub's raw host does. */
async function serveRaw(root: string): Promise<{ server: Server; url: string; host: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.replace(/^\/raw\//, '')));
    if (!path.startsWith('/raw/') || !file.startsWith(resolve(root) + sep) || !existsSync(file)) {
      res.writeHead(404).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
}

/**
 * A free port below Linux's ephemeral range (32768-60999): servers of other tests listen on port 0 and get ports
 * from that range, and one could take a port between this check and the backend's own listen.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const free = await new Promise<boolean>((done) => {
      server.once('error', () => done(false));
      server.listen(port, '127.0.0.1', () => done(true));
    });
    if (free) {
      await new Promise<void>((done) => server.close(() => done()));
      return port;
    }
  }
}

function merge(base: Json, extra: Json): Json {
  const result: Json = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = result[key];
    result[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      current &&
      typeof current === 'object' &&
      !Array.isArray(current)
        ? merge(current, value)
        : value;
  }
  return result;
}

/** One step of a template task's event log, as GET /v2/tasks/:id/events returns them. */
export interface TaskEvent {
  id: number;
  type: 'log' | 'completion' | 'cancelled' | 'recovered';
  body: {
    message?: string;
    status?: string;
    stepId?: string;
    output?: Json;
    error?: { name?: string; message?: string };
  };
  createdAt: string;
}

export interface TaskRun {
  id: string;
  events: TaskEvent[];
  completion: TaskEvent;
  /** GET /v2/tasks/:id after completion: status, spec, createdBy. */
  task: Json;
  /** Every log message, one a line, for failure messages. */
  log: string;
}

/**
 * POST /v2/tasks with `token` (whose principal runs the task), then reads /v2/tasks/:id/events as the frontend
 * does (long polls, `after` the last event) until the completion event.
 */
export async function runTask(
  host: Host,
  templateRef: string,
  values: Json,
  token: string,
  timeoutMs = 4 * 60_000,
): Promise<TaskRun> {
  const created = await host.request('/api/scaffolder/v2/tasks', {
    method: 'POST',
    token,
    body: { templateRef, values },
  });
  if (created.status !== 201)
    throw new Error(`POST /v2/tasks answered ${created.status}: ${created.text.slice(0, 2000)}`);
  const id = created.body.id as string;
  const events: TaskEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const after = events.length > 0 ? `?after=${events[events.length - 1]!.id}` : '';
    const answer = await host.request(`/api/scaffolder/v2/tasks/${id}/events${after}`, { token });
    if (answer.status !== 200)
      throw new Error(`GET /v2/tasks/${id}/events answered ${answer.status}: ${answer.text.slice(0, 2000)}`);
    events.push(...(answer.body as TaskEvent[]));
    const completion = events.find((event) => event.type === 'completion');
    const log = events.map((event) => `${event.body.stepId ?? '-'}: ${event.body.message ?? event.type}`).join('\n');
    if (completion) {
      const task = (await host.request(`/api/scaffolder/v2/tasks/${id}`, { token })).body as Json;
      return { id, events, completion, task, log };
    }
    if (Date.now() > deadline)
      throw new Error(`task ${id} did not complete within ${timeoutMs} ms; its log so far:\n${log}`);
  }
}

/** Waits until the catalog serves `ref` (kind:namespace/name) to the service token, and returns it. */
export async function waitForEntity(host: Host, ref: string, timeoutMs = 3 * 60_000): Promise<Json> {
  const [, kind, namespace, name] = /^([^:]+):([^/]+)\/(.+)$/.exec(ref) ?? [];
  if (!name) throw new Error(`"${ref}" is not kind:namespace/name`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await host.request(
      `/api/catalog/entities/by-name/${kind}/${namespace}/${encodeURIComponent(name)}`,
      { token: host.serviceToken },
    );
    if (answer.status === 200) return answer.body as Json;
    if (answer.status !== 404)
      throw new Error(`the catalog answered ${answer.status} for ${ref}: ${answer.text.slice(0, 1000)}`);
    if (Date.now() > deadline) throw new Error(`the catalog did not have ${ref} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The backend: what an adopter's packages/backend/src/index.ts holds, plus the two test-only modules. Our
// packages are added by their package names, as the README tells adopters.
const ENTRY = `// Generated by test/src/backstage-host/host.ts.
import { appendFileSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBackend } from '@backstage/backend-defaults';
import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { createTemplateAction, scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';

// The test process holds the other end: when it goes, so does this backend.
process.on('disconnect', () => process.exit(1));

const testPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'test-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        const policyPath = config.getString('test.policyPath');
        const decisionsPath = config.getString('test.decisionsPath');
        policy.setPolicy({
          async handle(request, user) {
            const { deny } = JSON.parse(readFileSync(policyPath, 'utf8'));
            const result = deny.includes(request.permission.name) ? AuthorizeResult.DENY : AuthorizeResult.ALLOW;
            appendFileSync(decisionsPath, JSON.stringify({ permission: request.permission.name, user: user?.info.userEntityRef, result }) + '\\n');
            return { result };
          },
        });
      },
    });
  },
});

const testPublish = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'test-publish-github',
  register(reg) {
    reg.registerInit({
      deps: { scaffolder: scaffolderActionsExtensionPoint, config: coreServices.rootConfig },
      async init({ scaffolder, config }) {
        const root = config.getString('test.publish.root');
        const baseUrl = config.getString('test.publish.baseUrl');
        scaffolder.addActions(
          createTemplateAction({
            id: 'publish:github',
            description: 'Test stand-in for publish:github: publishes the workspace to a directory served as a GitHub raw host.',
            schema: {
              input: {
                repoUrl: (z) => z.string(),
                description: (z) => z.string().optional(),
                defaultBranch: (z) => z.string().optional(),
              },
              output: { remoteUrl: (z) => z.string(), repoContentsUrl: (z) => z.string() },
            },
            async handler(ctx) {
              const query = new URLSearchParams(ctx.input.repoUrl.split('?')[1] ?? '');
              const owner = query.get('owner');
              const repo = query.get('repo');
              if (!owner || !repo) throw new Error('repoUrl ' + ctx.input.repoUrl + ' has no owner or repo');
              const branch = ctx.input.defaultBranch ?? 'master';
              const target = join(root, owner, repo, branch);
              mkdirSync(target, { recursive: true });
              cpSync(ctx.workspacePath, target, { recursive: true });
              ctx.logger.info('published ' + ctx.workspacePath + ' to ' + owner + '/' + repo + '@' + branch);
              ctx.output('remoteUrl', baseUrl + '/' + owner + '/' + repo);
              ctx.output('repoContentsUrl', baseUrl + '/' + owner + '/' + repo + '/blob/' + branch);
            },
          }),
        );
      },
    });
  },
});

const backend = createBackend();
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(testPolicy);
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(testPublish);
backend.add(import('@loki-microservices/plugin-scaffolder-backend-module-loki-stack'));
backend.add(import('@loki-microservices/plugin-loki-stack-backend'));
await backend.start();
`;
