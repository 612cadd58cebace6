// Knobs that make the double behave like a slow or flaky API server: latency per request, a seeded
// fraction of requests failing (500, 429 or a reset connection), one-shot failures for a test, access
// rules that answer 403, and a log of every request for assertions and benchmarks.

export type Fault = 'error' | 'throttle' | 'reset';

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  /** Set when a fault was injected instead of handling the request. */
  fault?: Fault;
  /** Until the response head was sent (for watches: until the stream started). */
  durationMs: number;
}

export interface AccessRule {
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection; omitted = any. */
  verb?: string;
  /** Plural resource name, e.g. `pods` (`pods/portforward` for port-forwards, verb `create`); omitted = any. */
  resource?: string;
  namespace?: string;
}

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

export class Faults {
  latencyMs = 0;
  private rate = 0;
  private random: () => number;
  private readonly queued: Fault[] = [];
  private readonly forbidden: AccessRule[] = [];
  readonly requests: RequestRecord[] = [];

  constructor(seed = 1) {
    this.random = seeded(seed);
  }

  /** Fail this fraction of requests (0..1), reproducibly from `seed`. */
  setFaultRate(rate: number, seed?: number): void {
    this.rate = rate;
    if (seed !== undefined) this.random = seeded(seed);
  }

  /** The next `count` requests fail this way (in addition to any fault rate). */
  failNext(fault: Fault, count = 1): void {
    for (let i = 0; i < count; i++) this.queued.push(fault);
  }

  /** Requests matching the rule answer 403 Forbidden. */
  forbid(rule: AccessRule): void {
    this.forbidden.push(rule);
  }

  allowAll(): void {
    this.forbidden.length = 0;
  }

  /** The fault to inject into the next request, if any. */
  draw(): Fault | undefined {
    const queued = this.queued.shift();
    if (queued) return queued;
    if (this.rate <= 0 || this.random() >= this.rate) return undefined;
    const kinds: Fault[] = ['error', 'throttle', 'reset'];
    return kinds[Math.floor(this.random() * kinds.length)];
  }

  isForbidden(verb: string, resource: string, namespace: string | undefined): boolean {
    return this.forbidden.some(
      (rule) => (!rule.verb || rule.verb === verb) && (!rule.resource || rule.resource === resource) && (!rule.namespace || rule.namespace === namespace),
    );
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
