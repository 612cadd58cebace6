// A minimal in-memory Grafana Loki 3.x, served by the Kubernetes API server test double behind its
// service proxy so that a smoke test can push a log line to the "distributor" and read it back through
// the "query-frontend". It is a test double: one process plays every component, data lives in memory,
// and only the HTTP surface a smoke test touches is implemented, following Loki's own code for status
// codes, error texts and JSON shapes.
//
// Implemented:
// - POST /loki/api/v1/push, JSON only (optionally gzip/deflate encoded), with structured metadata;
//   entries kept per tenant and per stream, duplicates (same stream, timestamp and line) kept once.
//   Loki's default `service_name` discovery is applied (see `discoverServiceName`).
// - GET|POST /loki/api/v1/query_range for log queries: a stream selector plus |=, !=, |~, !~ line
//   filters (logql.ts), start inclusive and end exclusive, limit, direction, since; times as Loki
//   reads them (timestamps.ts).
// - GET|POST /loki/api/v1/query, which Loki 3.x refuses for log queries with 400; so does this double.
// - GET|POST /loki/api/v1/labels (and /label) and /loki/api/v1/label/<name>/values, with the optional
//   `query` selector.
// - GET|POST /loki/api/v1/patterns (patterns.ts) from the lines pushed while a pattern ingester ran (the
//   distributors' tee); 404 with an empty body when `pattern_ingester.enabled` is off, 500 `empty ring` when
//   no pattern ingester pod runs, as Loki's queriers answer.
// - GET /ready and GET /loki/api/v1/status/buildinfo; 404 `404 page not found` for any other path and a
//   bare 405 for a known path with the wrong method, as Loki's router answers.
// - Tenancy: with auth enabled, every data endpoint needs X-Scope-OrgID (401 `no org id` otherwise) and
//   tenants see only their own data; with auth disabled everything belongs to the tenant `fake`.
//
// Knowingly different from Loki:
// - Protobuf pushes (Loki's default encoding) are refused with 415: JSON only.
// - Metric queries, parser/formatting pipeline stages, pattern filters and `or` in line filters are
//   refused with 400 saying the double does not implement them.
// - Regexes run as JavaScript RegExp, not Go RE2 (common RE2 spellings are translated).
// - Patterns are not Drain's: tokens holding a digit become `<_>`, every level is `unknown`, no pruning of
//   rare patterns; the teed lines are kept while the stack's Loki double lives, not `retain_for` (3h), and a
//   restarted pattern ingester pod keeps them.
// - No `detected_level` discovery (Loki adds it as structured metadata, which shows in result labels),
//   no ingestion limits (old/new sample rejection, rate, line size, label count), no
//   max_entries_limit_per_query, no `step`/`interval` handling, no response encoding flags
//   (categorize-labels), no multi-tenant (`a|b`) queries or tenant ID validation.
// - `stats` carries only a plausible `summary` section; label endpoints answer from entries within
//   [start, end], where Loki answers at index/chunk granularity and may return more.
// - Structured metadata named like a stream label is dropped from the result labels (the stream label
//   wins). buildinfo's fields other than `version` are placeholders that name the fake.
// - Syntax error texts follow Loki's for the common cases ({} and a selector without braces); others
//   are in the same form but may name different expected tokens. Malformed push bodies get this
//   double's own descriptions.
import {
  ClientError,
  formOf,
  goHttpError,
  json,
  methodNotAllowed,
  noContent,
  notFound,
  plainText,
  type LokiRequest,
  type LokiResponse,
} from './http.js';
import { DEFAULT_SERVICE_NAME_DISCOVERY, withServiceName } from './labels.js';
import { decodePushRequest } from './push.js';
import { queryPatterns } from './patterns.js';
import { labelNames, labelValues, queryInstant, queryRange } from './read.js';
import { TenantStore, type LogStream } from './store.js';
import { NS_PER_MS } from './timestamps.js';

export interface FakeLokiOptions {
  /** Loki's `auth_enabled`. */
  authEnabled: boolean;
  /** Milliseconds since the epoch; for tests. Defaults to Date.now. */
  now?: () => number;
  /** Reported by /loki/api/v1/status/buildinfo. */
  version?: string;
  /** Loki's `limits_config.discover_service_name`; [] disables it. Defaults to Loki's list. */
  discoverServiceName?: readonly string[];
  /**
   * The pattern ingesters, asked at each push (the distributors' tee) and patterns query: off in the config
   * (`pattern_ingester.enabled`), on with none in their ring, or running. Defaults to off.
   */
  patternIngesters?: () => PatternIngesters;
}

export type PatternIngesters = 'disabled' | 'none' | 'running';

/** Without auth, Loki's fake auth middleware puts every request in this tenant. */
const SINGLE_TENANT = 'fake';

/** Loki's validation.MissingLabelsErrorMsg. */
const MISSING_LABELS = 'error at least one label pair is required per stream';

interface Context {
  readonly request: LokiRequest;
  readonly tenant: string;
  readonly match: RegExpExecArray;
}

interface Route {
  readonly path: RegExp;
  readonly methods: readonly string[];
  /** Whether Loki wraps the route in its auth middleware. */
  readonly tenanted: boolean;
  readonly serve: (context: Context) => LokiResponse;
  /** How the route writes a ClientError; the query path's writer unless set. */
  readonly writeError?: (status: number, message: string) => LokiResponse;
}

export class FakeLoki {
  readonly #authEnabled: boolean;
  readonly #now: () => number;
  readonly #version: string;
  readonly #discoverServiceName: readonly string[];
  readonly #tenants = new Map<string, TenantStore>();
  /** What the pattern ingesters were sent, by tenant: only lines pushed while one ran. */
  readonly #teed = new Map<string, TenantStore>();
  readonly #patternIngesters: () => PatternIngesters;
  readonly #routes: readonly Route[];

  constructor(options: FakeLokiOptions) {
    this.#authEnabled = options.authEnabled;
    this.#now = options.now ?? Date.now;
    this.#version = options.version ?? '3.7.8';
    this.#discoverServiceName = options.discoverServiceName ?? DEFAULT_SERVICE_NAME_DISCOVERY;
    this.#patternIngesters = options.patternIngesters ?? (() => 'disabled');
    const read = { methods: ['GET', 'POST'], tenanted: true } as const;
    this.#routes = [
      // Loki answers readiness with http.Error(w, "ready", 200).
      { path: /^\/ready$/, methods: ['GET'], tenanted: false, serve: () => goHttpError(200, 'ready') },
      {
        path: /^\/loki\/api\/v1\/status\/buildinfo$/,
        methods: ['GET'],
        tenanted: false,
        serve: () => json(this.#buildInfo(), 'application/json'),
      },
      {
        path: /^\/loki\/api\/v1\/push$/,
        methods: ['POST'],
        tenanted: true,
        serve: ({ request, tenant }) => this.#push(request, tenant),
        // The distributor writes its errors with Go's http.Error.
        writeError: goHttpError,
      },
      {
        ...read,
        path: /^\/loki\/api\/v1\/query_range$/,
        serve: ({ request, tenant }) => queryRange(formOf(request), this.#nowNs(), this.#streams(tenant)),
      },
      { ...read, path: /^\/loki\/api\/v1\/query$/, serve: ({ request }) => queryInstant(formOf(request)) },
      {
        ...read,
        path: /^\/loki\/api\/v1\/labels?$/,
        serve: ({ request, tenant }) => labelNames(formOf(request), this.#nowNs(), this.#streams(tenant)),
      },
      {
        ...read,
        path: /^\/loki\/api\/v1\/label\/([^/]+)\/values$/,
        serve: ({ request, tenant, match }) =>
          labelValues(match[1]!, formOf(request), this.#nowNs(), this.#streams(tenant)),
      },
      { ...read, path: /^\/loki\/api\/v1\/patterns$/, serve: ({ request, tenant }) => this.#patterns(request, tenant) },
    ];
  }

  /** Entries stored, for tests and benchmarks. */
  get entryCount(): number {
    let count = 0;
    for (const store of this.#tenants.values()) count += store.entryCount;
    return count;
  }

  /** Forgets the newest `count` entries of every stream of every tenant: data an ingester lost in a restart. */
  loseNewest(count: number): void {
    for (const store of this.#tenants.values()) store.loseNewest(count);
  }

  handle(request: LokiRequest): LokiResponse {
    for (const route of this.#routes) {
      const match = route.path.exec(request.path);
      if (match === null) continue;
      if (!route.methods.includes(request.method)) return methodNotAllowed();
      const tenant = this.#authEnabled ? request.headers['x-scope-orgid'] : SINGLE_TENANT;
      if (route.tenanted && (tenant === undefined || tenant === '')) return goHttpError(401, 'no org id');
      try {
        return route.serve({ request, tenant: tenant ?? SINGLE_TENANT, match });
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        return (route.writeError ?? plainText)(error.status, error.message);
      }
    }
    return notFound();
  }

  #push(request: LokiRequest, tenant: string): LokiResponse {
    const streams = decodePushRequest(request.headers, request.body);
    // Loki stores the valid streams of a request and then answers 400 for the invalid ones.
    let rejected = false;
    for (const { labels, entries } of streams) {
      if (entries.length === 0) continue;
      const stored = withServiceName(labels, this.#discoverServiceName);
      if (stored.length === 0) {
        rejected = true;
        continue;
      }
      this.#store(tenant).append(stored, entries);
      if (this.#patternIngesters() === 'running') this.#store(tenant, this.#teed).append(stored, entries);
    }
    if (rejected) throw new ClientError(MISSING_LABELS);
    return noContent();
  }

  #store(tenant: string, stores = this.#tenants): TenantStore {
    let store = stores.get(tenant);
    if (store === undefined) {
      store = new TenantStore();
      stores.set(tenant, store);
    }
    return store;
  }

  /**
   * The querier's answer: 404 with an empty body when the pattern ingester is off (its Patterns has no pattern
   * querier), Loki's `empty ring` error when none is in the ring, else the patterns of what was teed to them.
   */
  #patterns(request: LokiRequest, tenant: string): LokiResponse {
    const state = this.#patternIngesters();
    if (state === 'disabled') return plainText(404, '');
    if (state === 'none') return plainText(500, 'empty ring');
    return queryPatterns(formOf(request), this.#nowNs(), this.#teed.get(tenant)?.streams() ?? []);
  }

  #streams(tenant: string): Iterable<LogStream> {
    return this.#tenants.get(tenant)?.streams() ?? [];
  }

  #nowNs(): bigint {
    return BigInt(Math.floor(this.#now())) * NS_PER_MS;
  }

  #buildInfo() {
    return {
      version: this.#version,
      revision: 'fake-loki',
      branch: 'fake-loki',
      buildUser: 'fake-loki',
      buildDate: '1970-01-01T00:00:00Z',
      goVersion: 'none (test double)',
    };
  }
}
