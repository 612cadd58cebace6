// One tenant's log data: streams keyed by their canonical label set, each holding its entries. An entry
// whose stream, timestamp and line are already stored is dropped, as Loki's ingesters and queriers
// drop duplicates (the first one's structured metadata is the one kept).
import { formatLabels, type LabelPairs } from './labels.js';

export interface LogEntry {
  /** Nanoseconds since the epoch. */
  readonly ns: bigint;
  readonly line: string;
  readonly structuredMetadata: LabelPairs;
}

export interface LogStream {
  readonly labels: LabelPairs;
  readonly entries: readonly LogEntry[];
}

interface StoredStream extends LogStream {
  readonly entries: LogEntry[];
  readonly seen: Set<string>;
}

/** What makes an entry a duplicate: its timestamp and line (in its stream). */
const identityOf = (entry: LogEntry) => `${entry.ns}\u0000${entry.line}`;

export class TenantStore {
  readonly #streams = new Map<string, StoredStream>();
  #entryCount = 0;

  get entryCount(): number {
    return this.#entryCount;
  }

  streams(): Iterable<LogStream> {
    return this.#streams.values();
  }

  /** Forgets the newest `count` entries of every stream (what an ingester without its WAL loses when it restarts). */
  loseNewest(count: number): void {
    for (const stream of this.#streams.values()) {
      const lost = stream.entries.splice(Math.max(stream.entries.length - count, 0));
      for (const entry of lost) stream.seen.delete(identityOf(entry));
      this.#entryCount -= lost.length;
    }
  }

  append(labels: LabelPairs, entries: readonly LogEntry[]): void {
    const key = formatLabels(labels);
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      stream = { labels, entries: [], seen: new Set() };
      this.#streams.set(key, stream);
    }
    for (const entry of entries) {
      const identity = identityOf(entry);
      if (stream.seen.has(identity)) continue;
      stream.seen.add(identity);
      stream.entries.push(entry);
      this.#entryCount += 1;
    }
  }
}
