// Every timer of the simulation, unref'd so that it never keeps a process alive, grouped by owner (an
// allocation, a deployment) so that stopping one cancels what it had pending, and all cleared on close.

export class Timers {
  private readonly pending = new Map<NodeJS.Timeout, string>();
  private closed = false;
  /** Errors thrown by timer callbacks: a bug in the double, kept for tests rather than crashing the process. */
  readonly errors: Error[] = [];

  after(ms: number, run: () => void, owner = ''): void {
    if (this.closed) return;
    const handle = setTimeout(
      () => {
        this.pending.delete(handle);
        try {
          run();
        } catch (error) {
          this.errors.push(error as Error);
          console.error('nomad-api test double: a simulated step failed', error);
        }
      },
      Math.max(0, ms),
    );
    handle.unref();
    this.pending.set(handle, owner);
  }

  cancel(owner: string): void {
    for (const [handle, of] of this.pending) {
      if (of === owner) {
        clearTimeout(handle);
        this.pending.delete(handle);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const handle of this.pending.keys()) clearTimeout(handle);
    this.pending.clear();
  }
}
