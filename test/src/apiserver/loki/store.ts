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

export class TenantStore {
  readonly #streams = new Map<string, StoredStream>();
  #entryCount = 0;

  get entryCount(): number {
    return this.#entryCount;
  }

  streams(): Iterable<LogStream> {
    return this.#streams.values();
  }

  append(labels: LabelPairs, entries: readonly LogEntry[]): void {
    const key = formatLabels(labels);
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      stream = { labels, entries: [], seen: new Set() };
      this.#streams.set(key, stream);
    }
    for (const entry of entries) {
      const identity = `${entry.ns}\u0000${entry.line}`;
      if (stream.seen.has(identity)) continue;
      stream.seen.add(identity);
      stream.entries.push(entry);
      this.#entryCount += 1;
    }
  }
}
