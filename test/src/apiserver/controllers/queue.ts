// The controllers' work queue: changes and timers name objects to reconcile; each named object is
// reconciled at most once per tick however many changes named it (as client-go's work queue coalesces),
// and writes made during a tick are seen in the next one. `idle` lets a test wait until the simulated
// cluster has nothing left to do soon, instead of sleeping.

interface Waiter {
  horizonMs: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class WorkQueue {
  private pending = new Map<string, () => number | undefined>();
  private readonly timers = new Map<string, { due: number; handle: ReturnType<typeof setTimeout> }>();
  private flushing: ReturnType<typeof setImmediate> | undefined;
  private waiters: Waiter[] = [];
  private failure: { error: unknown } | undefined;
  private stopped = false;
  /** Asynchronous work controllers started (certificate signing) that has not finished. */
  private inFlight = 0;

  /**
   * Reconcile `key` in the next tick. `work` returns how many ms later it wants to run again (0: the
   * tick after this one), or undefined for never; the answer replaces any wake-up asked for before.
   */
  add(key: string, work: () => number | undefined): void {
    if (this.stopped) return;
    this.pending.set(key, work);
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** Resolves when nothing is queued and no timer is due within `horizonMs`; rejects if a reconcile threw. */
  idle(horizonMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ horizonMs, resolve, reject });
      setImmediate(() => this.settleWaiters());
    });
  }

  /**
   * Asynchronous work a reconcile started: idle waits for it, and once it is done `key` is reconciled again
   * (a rejection fails the next idle, as a reconcile that throws does).
   */
  track(key: string, work: () => number | undefined, promise: Promise<unknown>): void {
    this.inFlight++;
    promise.then(
      () => {
        this.inFlight--;
        this.add(key, work);
        this.settleWaiters();
      },
      (error: unknown) => {
        this.inFlight--;
        this.failure ??= { error };
        this.settleWaiters();
      },
    );
  }

  stop(): void {
    this.stopped = true;
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    this.pending.clear();
    for (const { handle } of this.timers.values()) clearTimeout(handle);
    this.timers.clear();
    this.settleWaiters();
  }

  start(): void {
    this.stopped = false;
  }

  private flush(): void {
    this.flushing = undefined;
    const batch = this.pending;
    this.pending = new Map();
    for (const [key, work] of batch) {
      try {
        this.wakeLater(key, work, work());
      } catch (error) {
        this.failure ??= { error };
      }
    }
    this.settleWaiters();
  }

  private wakeLater(key: string, work: () => number | undefined, delayMs: number | undefined): void {
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing.handle);
    this.timers.delete(key);
    if (delayMs === undefined || this.stopped) return;
    if (delayMs <= 0) {
      this.add(key, work);
      return;
    }
    const handle = setTimeout(() => {
      this.timers.delete(key);
      this.add(key, work);
      this.settleWaiters();
    }, delayMs);
    // A back-off minutes long must not keep the process alive once nothing else does.
    handle.unref();
    this.timers.set(key, { due: Date.now() + delayMs, handle });
  }

  private settleWaiters(): void {
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
      return;
    }
    if (this.pending.size > 0 || this.flushing || this.inFlight > 0) return;
    const now = Date.now();
    const dues = [...this.timers.values()].map((timer) => timer.due);
    this.waiters = this.waiters.filter((waiter) => {
      const busy = dues.some((due) => due <= now + waiter.horizonMs);
      if (!busy) waiter.resolve();
      return busy;
    });
  }
}
