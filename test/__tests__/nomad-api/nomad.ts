// Plain fetch calls to the Nomad API double, and waiting on it with blocking queries as a client of
// Nomad would (no sleeps: each wait returns as soon as the state changes).
import { startNomadApiServer, type NomadApiServer, type NomadApiServerOptions } from '../../src/nomad-api/index.js';
import { jobFile, type JobFileOptions } from './job-file.js';

type Json = Record<string, any>;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: any;
  /** X-Nomad-Index, 0 when absent. */
  index: number;
}

export async function call(
  server: NomadApiServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    headers: response.headers,
    text,
    json,
    index: Number(response.headers.get('x-nomad-index') ?? 0),
  };
}

const withQuery = (path: string, query: string) => `${path}${path.includes('?') ? '&' : '?'}${query}`;

/** GET `path` with blocking queries until `done` holds for its body; fails with the last body after `timeoutMs`. */
export async function waitFor(
  server: NomadApiServer,
  path: string,
  done: (body: any) => boolean,
  timeoutMs = 15_000,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  let answer = await call(server, 'GET', path, undefined, headers);
  while (!(answer.status === 200 && done(answer.json))) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting on ${path}; last answer ${answer.status}: ${answer.text.slice(0, 4000)}`);
    answer = await call(server, 'GET', withQuery(path, `index=${answer.index}&wait=2s`), undefined, headers);
  }
  return answer;
}

/** The job file parsed by the server itself (POST /v1/jobs/parse), then registered. */
export async function deploy(
  server: NomadApiServer,
  options: JobFileOptions = {},
  query = '',
): Promise<{ job: Json; register: Answer }> {
  const parsed = await call(server, 'POST', '/v1/jobs/parse', { JobHCL: jobFile(options), Canonicalize: true });
  if (parsed.status !== 200) throw new Error(`parse: ${parsed.status} ${parsed.text}`);
  const register = await call(server, 'POST', `/v1/jobs${query}`, { Job: parsed.json });
  if (register.status !== 200) throw new Error(`register: ${register.status} ${register.text}`);
  return { job: parsed.json, register };
}

export const allocsOf = (allocs: Json[], group: string) => allocs.filter((alloc) => alloc.TaskGroup === group);
export const running = (allocs: Json[]) => allocs.filter((alloc) => alloc.DesiredStatus === 'run');
/** `every`, but false for none: a wait must not pass before there is anything to look at. */
export const all = (allocs: Json[], predicate: (alloc: Json) => boolean) =>
  allocs.length > 0 && allocs.every(predicate);

/** Wait for the evaluation a write returned to be processed. */
export const evaluated = (server: NomadApiServer, evalId: string, namespace = 'default') =>
  waitFor(server, `/v1/evaluation/${evalId}?namespace=${namespace}`, (evaluation) => evaluation.Status !== 'pending');

/** Wait for the latest deployment of the job to reach `status`, the deployment being of `version` when given. */
export const deploymentIs = (server: NomadApiServer, status: string, version?: number, job = 'loki', query = '') =>
  waitFor(
    server,
    `/v1/job/${job}/deployment${query}`,
    (deployment) => deployment?.Status === status && (version === undefined || deployment.JobVersion === version),
  );

/**
 * A `start(options)` for a test file: servers with `defaults` under `options`, each closed after its test,
 * which then checks that the simulation raised no error.
 */
export function serverStarter(
  defaults: NomadApiServerOptions,
): (options?: NomadApiServerOptions) => Promise<NomadApiServer> {
  const started: NomadApiServer[] = [];
  afterEach(async () => {
    for (const each of started.splice(0)) {
      await each.close();
      expect(each.simulationErrors).toEqual([]);
    }
  });
  return async (options = {}) => {
    const server = await startNomadApiServer({ ...defaults, ...options });
    started.push(server);
    return server;
  };
}
