// What the real-backend suites share: a test API server as the cluster, a Backstage host on it, and the values a
// user gives the shipped template's form.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { SHIPPED_TEMPLATE, startHost, type Host, type HostOptions } from '../../src/backstage-host/host.js';
import { preparedHostDir } from '../../src/backstage-host/paths.js';

type Json = Record<string, any>;

/** Per test: a deploy waits for a stack's readiness and smoke test on a machine that may be busy. */
export const TEST_TIMEOUT_MS = 5 * 60_000;
/** Per suite set-up: the backend's start and the catalog's first processing. */
export const START_TIMEOUT_MS = 6 * 60_000;

export const SHIPPED_TEMPLATE_REF = 'template:default/new-loki-stack';

export interface Started {
  running: RunningApiServer;
  host: Host;
  stop(): Promise<void>;
}

export async function startAll(options: Omit<HostOptions, 'cluster'> = {}): Promise<Started> {
  const running = await startTestApiServer({ readyAfterMs: 20 });
  let host: Host;
  try {
    host = await startHost({ ...options, cluster: running });
  } catch (error) {
    await running.close();
    throw error;
  }
  return {
    running,
    host,
    async stop() {
      await host.stop();
      await running.close();
    },
  };
}

/** The keys a template's form requires, given the `values` chosen so far (a page's `required`, and those of the oneOf branch the values select). */
function requiredKeys(page: Json, values: Json): string[] {
  const keys: string[] = [...(page.required ?? [])];
  for (const dependency of Object.values<Json>(page.dependencies ?? {})) {
    for (const branch of dependency.oneOf ?? []) {
      const consts = Object.entries<Json>(branch.properties ?? {}).filter(
        ([, property]) => property && 'const' in property,
      );
      if (consts.length > 0 && consts.every(([key, property]) => values[key] === property.const))
        keys.push(...(branch.required ?? []));
    }
  }
  return keys;
}

/**
 * Of `choices`, only what the template's form requires, plus the `toggles` a test turns on or off: what a user
 * who leaves every optional field alone sends. No default of the form is filled in here (the frontend would).
 */
export function requiredValues(template: Json, choices: Json, toggles: Json = {}): Json {
  const all = { ...choices, ...toggles };
  const required = new Set([template.spec.parameters].flat().flatMap((page: Json) => requiredKeys(page, all)));
  const missing = [...required].filter((key) => !(key in all));
  if (missing.length > 0)
    throw new Error(`the template requires ${missing.join(', ')}, which the test does not choose`);
  return { ...Object.fromEntries(Object.entries(choices).filter(([key]) => required.has(key))), ...toggles };
}

/** The values a user chooses for a stack `name` in `namespace` on cluster dev. */
export function choicesFor(name: string, namespace: string): Json {
  return {
    name,
    namespace,
    owner: 'group:default/platform',
    cluster: 'dev',
    profile: 'demo',
    storageType: 'bundled',
    repoUrl: `github.com?owner=acme&repo=${name}`,
  };
}

/** The shipped template as installed in the host, parsed: what the template editor loads. */
export function installedTemplate(): Json {
  return parse(readFileSync(join(preparedHostDir(), SHIPPED_TEMPLATE), 'utf8')) as Json;
}

/** The installed template's folder as the template editor uploads it for a dry run. */
export function installedTemplateFiles(): { path: string; base64Content: string }[] {
  const root = join(preparedHostDir(), SHIPPED_TEMPLATE, '..');
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) =>
      statSync(join(dir, entry)).isDirectory() ? walk(join(dir, entry)) : [join(dir, entry)],
    );
  return walk(root).map((file) => ({
    path: relative(root, file),
    base64Content: readFileSync(file).toString('base64'),
  }));
}

/** Asserts a task's final status, showing its whole log when it is another. */
export function expectTaskStatus(run: { task: Json; log: string }, status: 'completed' | 'failed'): void {
  expect(`status ${run.task.status}; log:\n${run.log}`).toMatch(new RegExp(`^status ${status};`));
}
