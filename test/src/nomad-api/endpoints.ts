// The HTTP API's endpoints, each doing its checks in the order Nomad's agent and servers do them: the
// method, the query parameters and the body first (400, 405), then the token (403), then the work.
// Reads are blocking queries (?index, ?wait) answering with the index of what they read.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalizeJob, toStoredJob } from './canonicalize.js';
import type { Cluster } from './cluster.js';
import { parseGoDuration } from './duration.js';
import { INVALID_METHOD, JOB_NOT_FOUND, multiError, NomadError, PERMISSION_DENIED, TOKEN_NOT_FOUND } from './errors.js';
import { parseJobFile } from './jobspec.js';
import { planJob } from './plan.js';
import { isObject, type Json } from './json.js';
import type { Allocation } from './model.js';
import { validationErrors } from './validate.js';
import { variableMetadata } from './variables.js';
import { allocation, allocStub, byId, jobStub, namespace as namespaceView } from './views.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  text(): Promise<string>;
  /** Aborted when the client goes away: a blocking query stops waiting. */
  signal: AbortSignal;
}

export interface Reply {
  status: number;
  /** Sent as JSON; a string with an error status is sent as plain text; undefined sends no body. */
  body?: unknown;
  /** X-Nomad-Index. */
  index?: number;
  /** Query answers also carry X-Nomad-KnownLeader and X-Nomad-LastContact. */
  query?: boolean;
}

interface QueryResult {
  index: number;
  body?: unknown;
  error?: NomadError;
}

const MINUTE_MS = 60_000;
/** Nomad's default and longest wait of a blocking query. */
const DEFAULT_WAIT_MS = 5 * MINUTE_MS;
const MAX_WAIT_MS = 10 * MINUTE_MS;

/** Endpoints Nomad has that this double does not implement: 501 rather than Nomad's 404 for unknown paths. */
const UNIMPLEMENTED = [
  '/v1/acl',
  '/v1/agent',
  '/v1/allocations',
  '/v1/client',
  '/v1/deployments',
  '/v1/evaluations',
  '/v1/event/stream',
  '/v1/metrics',
  '/v1/node',
  '/v1/nodes',
  '/v1/operator',
  '/v1/regions',
  '/v1/search',
  '/v1/service',
  '/v1/services',
  '/v1/status/peers',
  '/v1/system',
  '/v1/validate/job',
  '/v1/volume',
  '/v1/volumes',
];
const UNIMPLEMENTED_JOB_SUFFIXES = [
  '/evaluate',
  '/periodic/force',
  '/dispatch',
  '/revert',
  '/stable',
  '/scale',
  '/services',
  '/submission',
  '/actions',
  '/action',
];

const notImplemented = (what: string): Reply => ({
  status: 501,
  body: `${what} is not implemented by the Nomad API test double`,
});
const methodNotAllowed = () => new NomadError(405, INVALID_METHOD);

export class Endpoints {
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly cluster: Cluster,
    aclToken: string | undefined,
  ) {
    this.tokenDigest = aclToken === undefined ? undefined : digest(aclToken);
  }

  private get store() {
    return this.cluster.store;
  }

  async handle(request: ApiRequest): Promise<Reply> {
    const { path } = request;
    if (path === '/v1/status/leader') return this.leader(request);
    if (path === '/v1/jobs') return this.jobs(request);
    if (path === '/v1/jobs/parse') return this.parse(request);
    if (path.startsWith('/v1/job/')) return this.job(request, path.slice('/v1/job/'.length));
    if (path === '/v1/vars') return this.listVariables(request);
    if (path.startsWith('/v1/var/')) return this.variable(request, decodeURIComponent(path.slice('/v1/var/'.length)));
    if (path === '/v1/namespaces') return this.namespaces(request);
    if (path.startsWith('/v1/namespace/')) return this.namespace(request, path.slice('/v1/namespace/'.length));
    if (path.startsWith('/v1/evaluation/'))
      return this.byId(request, 'evaluation', path.slice('/v1/evaluation/'.length));
    if (path.startsWith('/v1/deployment/'))
      return this.byId(request, 'deployment', path.slice('/v1/deployment/'.length));
    if (path.startsWith('/v1/allocation/'))
      return this.byId(request, 'allocation', path.slice('/v1/allocation/'.length));
    if (UNIMPLEMENTED.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return notImplemented(path);
    // Nomad's fallthrough handler: 404 with no body.
    return { status: 404 };
  }

  /** Open to anyone, as Nomad's Status.Leader is. */
  private leader(request: ApiRequest): Reply {
    if (request.method !== 'GET') throw methodNotAllowed();
    this.checkRegion(request);
    return { status: 200, body: '127.0.0.1:4647' };
  }

  private async jobs(request: ApiRequest): Promise<Reply> {
    if (request.method === 'GET') {
      const namespace = namespaceOf(request);
      const prefix = request.query.get('prefix') ?? '';
      const withMeta = parseBool(request.query.get('meta'), 'meta');
      return this.query(request, () => ({
        index: this.store.tableIndex('jobs', 'job_summary'),
        body: [...this.store.jobs.values()]
          .filter(({ job }) => (namespace === '*' || job.Namespace === namespace) && String(job.ID).startsWith(prefix))
          .sort((a, b) => (a.job.Namespace + '\u0000' + a.job.ID < b.job.Namespace + '\u0000' + b.job.ID ? -1 : 1))
          .map((record) => jobStub(record.job, this.store.summaryOf(record), withMeta)),
      }));
    }
    if (request.method === 'PUT' || request.method === 'POST') return this.register(request, undefined);
    throw methodNotAllowed();
  }

  private async parse(request: ApiRequest): Promise<Reply> {
    if (request.method !== 'PUT' && request.method !== 'POST') throw methodNotAllowed();
    // This endpoint resolves the token in the agent, which words an unknown token differently.
    const identity = this.identify(request.headers);
    if (identity === 'anonymous') throw new NomadError(403, PERMISSION_DENIED);
    if (identity === 'invalid') throw new NomadError(403, TOKEN_NOT_FOUND);
    const args = await decode(request, 'api.JobsParseRequest');
    if (typeof args.JobHCL !== 'string' || args.JobHCL === '') throw new NomadError(400, 'Job spec is empty');
    const job = await parseJobFile(args.JobHCL);
    return { status: 200, body: args.Canonicalize === true ? canonicalizeJob(job) : job };
  }

  private async job(request: ApiRequest, rest: string): Promise<Reply> {
    const suffix = ['/allocations', '/evaluations', '/deployments', '/deployment', '/summary', '/versions'].find(
      (candidate) => rest.endsWith(candidate),
    );
    if (rest.endsWith('/plan')) return this.plan(request, rest.slice(0, -'/plan'.length));
    const unimplemented = UNIMPLEMENTED_JOB_SUFFIXES.find((candidate) => rest.endsWith(candidate));
    if (unimplemented) return notImplemented(`/v1/job/:id${unimplemented}`);
    if (!suffix) {
      if (request.method === 'GET') return this.getJob(request, rest);
      if (request.method === 'PUT' || request.method === 'POST') return this.register(request, rest);
      if (request.method === 'DELETE') return this.deregister(request, rest);
      throw methodNotAllowed();
    }
    const id = rest.slice(0, -suffix.length);
    // Nomad's summary handler takes any method; the others only GET.
    if (suffix !== '/summary' && request.method !== 'GET') throw methodNotAllowed();
    const namespace = namespaceOf(request);
    switch (suffix) {
      case '/allocations': {
        // Without ?all=true, Nomad leaves out allocations of an earlier job registered under the same ID.
        const all = parseBool(request.query.get('all'), 'all');
        return this.query(request, () => {
          const job = this.store.job(namespace, id)?.job;
          const allocs = job && !all ? this.store.instanceAllocs(job) : this.store.allocsOf(namespace, id);
          return { index: this.store.tableIndex('allocs'), body: byId(allocs).map(allocStub) };
        });
      }
      case '/evaluations':
        return this.query(request, () => ({
          index: this.store.tableIndex('evals'),
          body: byId(this.store.evalsOf(namespace, id)),
        }));
      case '/deployments':
        return this.query(request, () => ({
          index: this.store.tableIndex('deployment'),
          body: byId(this.store.deploymentsOf(namespace, id)),
        }));
      case '/deployment':
        return this.query(request, () => ({
          index: this.store.tableIndex('deployment'),
          body: this.store.latestDeployment(namespace, id) ?? null,
        }));
      case '/summary':
        return this.query(request, () => {
          const record = this.store.job(namespace, id);
          return record
            ? { index: record.summaryModifyIndex, body: this.store.summaryOf(record) }
            : { index: this.store.tableIndex('job_summary'), error: new NomadError(404, JOB_NOT_FOUND) };
        });
      default:
        return this.query(request, () => {
          const record = this.store.job(namespace, id);
          if (!record)
            return {
              index: this.store.tableIndex('job_version'),
              error: new NomadError(404, 'job versions not found'),
            };
          const index = Math.max(...record.versions.map((version) => version.ModifyIndex as number));
          return {
            index,
            body: {
              Versions: [...record.versions].reverse(),
              Diffs: null,
              Index: index,
              LastContact: 0,
              KnownLeader: true,
              NextToken: '',
            },
          };
        });
    }
  }

  private getJob(request: ApiRequest, id: string): Promise<Reply> {
    const namespace = namespaceOf(request);
    return this.query(request, () => {
      const record = this.store.job(namespace, id);
      return record
        ? { index: record.job.ModifyIndex, body: record.job }
        : { index: this.store.tableIndex('jobs'), error: new NomadError(404, JOB_NOT_FOUND) };
    });
  }

  private async register(request: ApiRequest, pathId: string | undefined): Promise<Reply> {
    const args = await decode(request, 'api.JobRegisterRequest');
    const job = args.Job;
    if (job === undefined || job === null) throw new NomadError(400, 'Job must be specified');
    checkTypes(job);
    if (job.ID === undefined || job.ID === null) throw new NomadError(400, "Job ID hasn't been provided");
    if (pathId !== undefined && job.ID !== pathId) throw new NomadError(400, 'Job ID does not match name');
    const { namespace, stored } = this.admit(request, args, job);
    const existing = this.store.job(namespace, stored.ID)?.job;
    if (args.EnforceIndex === true) {
      const expected = Number(args.JobModifyIndex ?? 0);
      if (existing && expected === 0) throw new NomadError(500, 'Enforcing job modify index 0: job already exists');
      if (existing && expected !== existing.JobModifyIndex) {
        throw new NomadError(
          500,
          `Enforcing job modify index ${expected}: job exists with conflicting job modify index: ${existing.JobModifyIndex}`,
        );
      }
      if (!existing && expected !== 0)
        throw new NomadError(500, `Enforcing job modify index ${expected}: job does not exist`);
    }
    if (existing && args.PreserveCounts === true) {
      for (const group of stored.TaskGroups as Json[]) {
        const before = (existing.TaskGroups as Json[]).find((candidate) => candidate.Name === group.Name);
        if (before) group.Count = before.Count;
      }
    }
    const write = this.cluster.jobs.register(stored);
    return {
      status: 200,
      index: write.index,
      body: {
        EvalID: write.evaluation.ID,
        EvalCreateIndex: write.index,
        JobModifyIndex: write.jobModifyIndex,
        Warnings: '',
        Index: write.index,
        LastContact: 0,
        KnownLeader: false,
        NextToken: '',
      },
    };
  }

  /**
   * What Job.Register and Job.Plan check before they act, in Nomad's order: the token, the region, then the
   * admission validators (the namespace before the job's own validation), and last whether the token may submit.
   */
  private admit(request: ApiRequest, args: Json, job: Json): { namespace: string; stored: Json } {
    const identity = this.identify(request.headers);
    if (identity === 'invalid') throw new NomadError(403, PERMISSION_DENIED);
    const { settings } = this.cluster;
    const region = request.query.get('region') || args.Region || job.Region || settings.region;
    if (region !== 'global' && region !== settings.region) throw new NomadError(500, 'No path to region');
    const namespace: string = request.query.get('namespace') || args.Namespace || job.Namespace || 'default';
    const stored = toStoredJob(job, namespace, settings.region);
    const errors = [
      ...(settings.namespaces.includes(namespace)
        ? []
        : [`job ${JSON.stringify(stored.ID)} is in nonexistent namespace ${JSON.stringify(namespace)}`]),
      ...validationErrors(stored),
    ];
    if (errors.length > 0) throw new NomadError(500, multiError(errors));
    if (identity === 'anonymous') throw new NomadError(403, PERMISSION_DENIED);
    return { namespace, stored };
  }

  /** Job.Plan: the scheduler's dry run; checked as a registration is, and nothing is written. */
  private async plan(request: ApiRequest, pathId: string): Promise<Reply> {
    if (request.method !== 'PUT' && request.method !== 'POST') throw methodNotAllowed();
    const args = await decode(request, 'api.JobPlanRequest');
    const job = args.Job;
    if (job === undefined || job === null) throw new NomadError(400, 'Job must be specified');
    checkTypes(job, 'JobPlanRequest');
    if (job.ID === undefined || job.ID === null) throw new NomadError(400, 'Job must have a valid ID');
    if (job.ID !== pathId) throw new NomadError(400, 'Job ID does not match');
    const { stored } = this.admit(request, args, job);
    const answer = planJob(this.cluster, stored, args.Diff === true);
    return { status: 200, index: answer.Index, body: { ...answer, LastContact: 0, KnownLeader: false, NextToken: '' } };
  }

  private deregister(request: ApiRequest, id: string): Reply {
    const purge = parseBool(request.query.get('purge'), 'purge');
    parseBool(request.query.get('global'), 'global');
    this.authorize(request);
    const write = this.cluster.jobs.deregister(namespaceOf(request), id, purge);
    // Nomad answers a deregistration of a job it does not have with an empty success.
    const index = write?.index ?? 0;
    return {
      status: 200,
      index,
      body: {
        EvalID: write?.evaluation.ID ?? '',
        EvalCreateIndex: index,
        JobModifyIndex: write?.jobModifyIndex ?? 0,
        VolumeEvalID: '',
        VolumeEvalIndex: 0,
        Index: index,
        LastContact: 0,
        KnownLeader: false,
        NextToken: '',
      },
    };
  }

  /** GET /v1/vars: metadata of the variables under `prefix`, never their items. */
  private listVariables(request: ApiRequest): Promise<Reply> {
    if (request.method !== 'GET') throw methodNotAllowed();
    const namespace = namespaceOf(request);
    const prefix = request.query.get('prefix') ?? '';
    return this.query(request, () => ({
      index: this.store.tableIndex('variables'),
      body: this.cluster.variables.list(namespace, prefix).map(variableMetadata),
    }));
  }

  /** GET, PUT and DELETE /v1/var/:path; `cas` for check-and-set, a conflict answers 409 with the current variable. */
  private async variable(request: ApiRequest, path: string): Promise<Reply> {
    const { variables } = this.cluster;
    const namespace = namespaceOf(request);
    if (request.query.has('lock-operation')) return notImplemented('/v1/var/:path?lock-operation');
    if (request.method === 'GET') {
      return this.query(request, () => {
        const found = variables.get(namespace, path);
        return found
          ? { index: found.ModifyIndex, body: found }
          : { index: this.store.tableIndex('variables'), error: new NomadError(404, 'variable not found') };
      });
    }
    const casText = request.query.get('cas');
    if (casText !== null && !/^\d+$/.test(casText))
      throw new NomadError(
        400,
        `failed to parse cas: strconv.ParseUint: parsing ${JSON.stringify(casText)}: invalid syntax`,
      );
    const cas = casText === null ? undefined : Number(casText);
    if (request.method === 'PUT' || request.method === 'POST') {
      const body = await decode(request, 'structs.VariableDecrypted');
      this.authorize(request);
      // The query's namespace wins over the body's, as the agent does.
      const target =
        request.query.get('namespace') || (typeof body.Namespace === 'string' && body.Namespace) || 'default';
      if (!this.cluster.settings.namespaces.includes(target))
        throw new NomadError(500, `namespace ${JSON.stringify(target)} does not exist`);
      const write = variables.put(target, path, body.Items, cas);
      if ('conflict' in write) return { status: 409, body: write.conflict, index: this.store.index };
      return { status: 200, body: write.variable, index: write.variable.ModifyIndex };
    }
    if (request.method === 'DELETE') {
      this.authorize(request);
      const write = variables.delete(namespace, path, cas);
      if ('conflict' in write) return { status: 409, body: write.conflict, index: this.store.index };
      return { status: 200, body: { Index: write.index }, index: write.index };
    }
    throw methodNotAllowed();
  }

  private namespaces(request: ApiRequest): Promise<Reply> {
    if (request.method !== 'GET') throw methodNotAllowed();
    return this.query(request, () => ({
      index: 1,
      body: [...this.cluster.settings.namespaces].sort().map(namespaceView),
    }));
  }

  private namespace(request: ApiRequest, name: string): Promise<Reply> {
    if (request.method !== 'GET') throw methodNotAllowed();
    return this.query(request, () =>
      this.cluster.settings.namespaces.includes(name)
        ? { index: 1, body: namespaceView(name) }
        : { index: 1, error: new NomadError(404, 'Namespace not found') },
    );
  }

  private byId(
    request: ApiRequest,
    kind: 'evaluation' | 'deployment' | 'allocation',
    rest: string,
  ): Promise<Reply> | Reply {
    if (rest.includes('/')) return notImplemented(`/v1/${kind}/:id/${rest.split('/').slice(1).join('/')}`);
    if (request.method !== 'GET') throw methodNotAllowed();
    return this.query(request, () => {
      const found =
        kind === 'evaluation'
          ? this.store.evals.get(rest)
          : kind === 'deployment'
            ? this.store.deployments.get(rest)
            : this.store.allocs.get(rest);
      const table = kind === 'evaluation' ? 'evals' : kind === 'deployment' ? 'deployment' : 'allocs';
      if (!found || found.Namespace !== namespaceOf(request)) {
        return {
          index: this.store.tableIndex(table),
          error: new NomadError(
            404,
            `${kind === 'evaluation' ? 'eval' : kind === 'allocation' ? 'alloc' : 'deployment'} not found`,
          ),
        };
      }
      return { index: found.ModifyIndex, body: kind === 'allocation' ? allocation(found as Allocation) : found };
    });
  }

  /** A blocking query: with ?index=N, the answer waits until its index passes N or the wait runs out. */
  private async query(request: ApiRequest, run: () => QueryResult): Promise<Reply> {
    const wait = request.query.get('wait');
    let waitMs = DEFAULT_WAIT_MS;
    if (wait) {
      const nanoseconds = parseGoDuration(wait);
      if (nanoseconds === undefined) throw new NomadError(400, 'Invalid wait time');
      waitMs = nanoseconds / 1e6;
    }
    const indexParameter = request.query.get('index');
    if (indexParameter && !/^\d+$/.test(indexParameter)) throw new NomadError(400, 'Invalid index');
    this.authorize(request);
    const minIndex = Number(indexParameter ?? 0);
    let result = run();
    if (minIndex > 0) {
      waitMs = waitMs <= 0 ? DEFAULT_WAIT_MS : Math.min(waitMs, MAX_WAIT_MS);
      // Nomad adds up to a sixteenth of the wait, so that many waiting clients do not wake together.
      const deadline = Date.now() + waitMs + Math.random() * (waitMs / 16);
      while (Math.max(1, result.index) <= minIndex && !request.signal.aborted) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        await this.store.waitForChange(remaining, request.signal);
        result = run();
      }
    }
    const index = Math.max(1, result.index);
    if (result.error) return { status: result.error.code, body: result.error.message, index, query: true };
    return { status: 200, body: result.body, index, query: true };
  }

  /** The caller of an endpoint the servers answer: anything but the token is denied alike. */
  private authorize(request: ApiRequest): void {
    this.checkRegion(request);
    if (this.identify(request.headers) !== 'management') throw new NomadError(403, PERMISSION_DENIED);
  }

  private checkRegion(request: ApiRequest): void {
    const region = request.query.get('region');
    if (region && region !== this.cluster.settings.region) throw new NomadError(500, 'No path to region');
  }

  private identify(headers: IncomingHttpHeaders): 'management' | 'anonymous' | 'invalid' {
    if (!this.tokenDigest) return 'management';
    const token = tokenOf(headers);
    if (!token) return 'anonymous';
    return timingSafeEqual(digest(token), this.tokenDigest) ? 'management' : 'invalid';
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** X-Nomad-Token, else an `Authorization: Bearer` header, as Nomad's agent reads them. */
function tokenOf(headers: IncomingHttpHeaders): string {
  const header = headers['x-nomad-token'];
  if (typeof header === 'string' && header !== '') return header;
  const parts = (headers.authorization ?? '').split(' ');
  if (parts.length < 2 || parts[0]!.toLowerCase() !== 'bearer') return '';
  return parts.slice(1).join(' ').trim().split(' ')[0]!.trim();
}

const namespaceOf = (request: ApiRequest) => request.query.get('namespace') || 'default';

/** Go's strconv.ParseBool, as Nomad reads boolean query parameters. */
function parseBool(value: string | null, name: string): boolean {
  if (value === null || value === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new NomadError(
    500,
    `Failed to parse value of ${JSON.stringify(name)} (${value}) as a bool: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
  );
}

const goKind = (value: unknown) =>
  Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'boolean' ? 'bool' : typeof value;

async function decode(request: ApiRequest, type: string): Promise<Json> {
  const text = await request.text();
  if (text.trim() === '') throw new NomadError(400, 'EOF');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new NomadError(400, `invalid character in JSON body: ${(error as Error).message}`);
  }
  if (!isObject(value))
    throw new NomadError(400, `json: cannot unmarshal ${goKind(value)} into Go value of type ${type}`);
  return value;
}

/** The type errors Go's JSON decoder would stop at, for the fields a hand-written job gets wrong. */
function checkTypes(job: unknown, request = 'JobRegisterRequest'): void {
  const fail = (field: string, value: unknown, type: string): never => {
    throw new NomadError(400, `json: cannot unmarshal ${goKind(value)} into Go struct field ${field} of type ${type}`);
  };
  if (!isObject(job)) return fail(`${request}.Job`, job, 'api.Job');
  if (job.ID !== undefined && job.ID !== null && typeof job.ID !== 'string') fail('Job.Job.ID', job.ID, 'string');
  if (job.TaskGroups === undefined || job.TaskGroups === null) return;
  if (!Array.isArray(job.TaskGroups)) return fail('Job.Job.TaskGroups', job.TaskGroups, '[]*api.TaskGroup');
  for (const group of job.TaskGroups as unknown[]) {
    if (!isObject(group)) fail('Job.Job.TaskGroups', group, 'api.TaskGroup');
    else if (group.Count !== undefined && group.Count !== null && !Number.isInteger(group.Count))
      fail('TaskGroup.Job.TaskGroups.Count', group.Count, 'int');
  }
}
