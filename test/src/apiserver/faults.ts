// Knobs that make the double behave like a slow, flaky or unreachable API server: latency per request, a
// seeded fraction of requests failing (500, 429 or a reset connection), one-shot failures for a test, access
// rules that answer 403, outages (every connection dropped, as a crashed API server behind a load balancer),
// stalls (requests accepted and never answered, to test client timeouts), validating-webhook denials, and a
// log of every request for assertions and benchmarks. The server (server.ts) applies them.

export type Fault = 'error' | 'throttle' | 'reset';

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  /** Set when a fault was injected instead of handling the request (`outage`: dropped during an outage). */
  fault?: Fault | 'outage';
  /** Until the response head was sent (for watches: until the stream started). */
  durationMs: number;
}

export interface AccessRule {
  /**
   * Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection; omitted = any. A
   * watch (`?watch=1`) is the verb `watch`, not `list`.
   */
  verb?: string;
  /** Plural resource name, e.g. `pods` (`pods/portforward` for port-forwards, verb `create`); omitted = any. */
  resource?: string;
  namespace?: string;
}

/** A rule for `deny`: which writes a simulated validating admission webhook refuses. */
export interface DenyRule extends AccessRule {
  /** The webhook's name in the message. @default 'validate.test-apiserver.example.com' */
  webhook?: string;
  /**
   * The reason in the webhook's Status, passed on as the answer's reason (controller-runtime's
   * `admission.Denied` sends `Forbidden` with code 403). @default none
   */
  reason?: string;
}

/** What a denying webhook is shown of the request (AdmissionReview's request, in short). */
export interface AdmissionReview {
  /** The API verb of the request: create, update, patch, delete or deletecollection. */
  verb: string;
  /** Plural resource name, e.g. `secrets`. */
  resource: string;
  namespace: string | undefined;
  /** The object's name ('' for a create with generateName, as the webhook would see it before naming). */
  name: string;
  /** The object as it would be stored (request.object): a patch applied, defaults set; undefined for deletes. */
  object: unknown;
  /** The stored object for updates, patches and deletes (request.oldObject); undefined for creates. */
  oldObject: unknown;
}

export interface Denial {
  webhook: string;
  code: number;
  reason?: string;
  message: (body: unknown, review: AdmissionReview) => string;
}

/** The writes `deny` applies to (validating webhooks see CREATE, UPDATE and DELETE; a patch is an UPDATE). */
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export const DEFAULT_WEBHOOK = 'validate.test-apiserver.example.com';

/** mulberry32: a small seeded PRNG, so that a fault sequence is reproducible from its seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const matches = (rule: AccessRule, verb: string, resource: string, namespace: string | undefined) =>
  (!rule.verb || rule.verb === verb) &&
  (!rule.resource || rule.resource === resource) &&
  (!rule.namespace || rule.namespace === namespace);

export class Faults {
  latencyMs = 0;
  private rate = 0;
  private random: () => number;
  private readonly queued: { fault: Fault; only?: (request: RequestRecord) => boolean }[] = [];
  private readonly forbidden: AccessRule[] = [];
  private readonly stallRules: AccessRule[] = [];
  private readonly denials: { rule: DenyRule; denial: Denial }[] = [];
  /** Requests held by a stall: resolving one lets it go on. */
  private readonly held = new Set<() => void>();
  private outageTimer: ReturnType<typeof setTimeout> | undefined;
  private outageActive = false;
  private readonly outageListeners = new Set<() => void>();
  readonly requests: RequestRecord[] = [];

  constructor(seed = 1) {
    this.random = seeded(seed);
  }

  /** Fail this fraction of requests (0..1), reproducibly from `seed`. */
  setFaultRate(rate: number, seed?: number): void {
    this.rate = rate;
    if (seed !== undefined) this.random = seeded(seed);
  }

  /** The next `count` requests (those `only` accepts, if given) fail this way (in addition to any fault rate). */
  failNext(fault: Fault, count = 1, only?: (request: RequestRecord) => boolean): void {
    for (let i = 0; i < count; i++) this.queued.push({ fault, only });
  }

  /** Requests matching the rule answer 403 Forbidden. */
  forbid(rule: AccessRule): void {
    this.forbidden.push(rule);
  }

  /**
   * Undo every rule: forbid, stall and deny rules are dropped, and the requests a stall holds go on (those
   * whose client is still connected are answered; the others are dropped). Outages and fault rates stay.
   */
  allowAll(): void {
    this.forbidden.length = 0;
    this.denials.length = 0;
    this.releaseStalled();
  }

  /**
   * The API server is down for `durationMs` (until `endOutage()` without one): at its start every open
   * connection is cut (watch streams, port-forwards and requests in flight included), and every connection
   * made during it is reset before any answer, as a crashed kube-apiserver behind a load balancer. The stored
   * state is kept; afterwards everything works again. The simulated cluster's controllers keep running.
   */
  outage(durationMs?: number): void {
    clearTimeout(this.outageTimer);
    this.outageTimer = undefined;
    this.outageActive = true;
    if (durationMs !== undefined) {
      this.outageTimer = setTimeout(() => this.endOutage(), durationMs);
      // An outage left running must not keep the process alive.
      this.outageTimer.unref();
    }
    for (const listener of this.outageListeners) listener();
  }

  /** End the outage now (no-op without one). */
  endOutage(): void {
    clearTimeout(this.outageTimer);
    this.outageTimer = undefined;
    this.outageActive = false;
  }

  /** Whether the API server is "down" now. */
  get inOutage(): boolean {
    return this.outageActive;
  }

  /** Called at the start of every outage (the server cuts its connections). Returns the unsubscribe. */
  onOutage(listener: () => void): () => void {
    this.outageListeners.add(listener);
    return () => this.outageListeners.delete(listener);
  }

  /**
   * Requests matching the rule are accepted and never answered: nothing is written, the connection stays
   * open, until `releaseStalled()`/`allowAll()` (then they are handled, if their client is still there) or
   * the server closes. `{ verb: 'watch' }` stalls watches only; `{}` every API request (discovery and health
   * checks are not API requests: they are never stalled).
   */
  stall(rule: AccessRule): void {
    this.stallRules.push(rule);
  }

  /** Drop the stall rules and let the held requests go on. */
  releaseStalled(): void {
    this.stallRules.length = 0;
    const held = [...this.held];
    this.held.clear();
    for (const release of held) release();
  }

  /** How many requests a stall holds now. */
  get stalled(): number {
    return this.held.size;
  }

  isStalled(verb: string, resource: string, namespace: string | undefined): boolean {
    return this.stallRules.some((rule) => matches(rule, verb, resource, namespace));
  }

  /** Hold a stalled request until it is released (resolves then). */
  hold(): Promise<void> {
    return new Promise((resolve) => this.held.add(resolve));
  }

  /**
   * Writes matching the rule (create, update, patch, delete, deletecollection: API verbs, as for `forbid`,
   * so a rule for `delete` does not cover `deletecollection`; each object a deletecollection would delete is
   * shown to the webhook, and the first refusal ends it) are refused as kube-apiserver answers a validating
   * admission webhook's refusal: `admission webhook "<webhook>" denied the request: <message>`, status
   * Failure, with the webhook's `code` (what the API server answers when the webhook gives none, or one
   * below 400: 400) and `rule.reason` if set. The message is computed from the decoded request body (JSON,
   * or the YAML of an apply; for a DELETE its DeleteOptions, or undefined) and what the webhook is shown, so
   * a test can make it echo what it was sent, as real webhooks sometimes do. The check runs after the API
   * server's own validation, before the object is stored (dry runs included).
   */
  deny(rule: DenyRule, message: (body: unknown, review: AdmissionReview) => string, code = 400): void {
    this.denials.push({
      rule,
      denial: {
        webhook: rule.webhook ?? DEFAULT_WEBHOOK,
        code,
        ...(rule.reason ? { reason: rule.reason } : {}),
        message,
      },
    });
  }

  /** Drop the deny rules. */
  clearDenials(): void {
    this.denials.length = 0;
  }

  /** The webhook denial that applies to a write, if any. */
  denial(verb: string, resource: string, namespace: string | undefined): Denial | undefined {
    if (!WRITE_VERBS.has(verb)) return undefined;
    return this.denials.find(({ rule }) => matches(rule, verb, resource, namespace))?.denial;
  }

  /** The fault to inject into this request, if any. */
  draw(request: RequestRecord): Fault | undefined {
    const index = this.queued.findIndex((queued) => !queued.only || queued.only(request));
    if (index >= 0) return this.queued.splice(index, 1)[0]!.fault;
    if (this.rate <= 0 || this.random() >= this.rate) return undefined;
    const kinds: Fault[] = ['error', 'throttle', 'reset'];
    return kinds[Math.floor(this.random() * kinds.length)];
  }

  isForbidden(verb: string, resource: string, namespace: string | undefined): boolean {
    return this.forbidden.some((rule) => matches(rule, verb, resource, namespace));
  }

  /** Requests per method, e.g. `{ GET: 12, PATCH: 30 }`. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { method } of this.requests) counts[method] = (counts[method] ?? 0) + 1;
    return counts;
  }

  clearLog(): void {
    this.requests.length = 0;
  }
}
