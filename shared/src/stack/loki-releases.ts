// The items of Loki's release notes and upgrade guide (https://grafana.com/docs/loki/latest/setup/upgrade/ and
// release-notes/v3-<minor>) that an upgrade of a stack rendered here may have to know about, per minor they
// arrive in. Each has a predicate on the rendered configuration and the spec: an upgrade prints only those that
// concern its stack. Information, never a refusal. Items about the Helm chart, ksonnet, the operator, Promtail
// or features this tool never configures are left out; a new minor gets its items here when it is supported.
import type { LokiStack } from '../spec/schema.js';

export interface ReleaseNote {
  /** The minor it arrives in, e.g. "3.7". */
  minor: string;
  /** A stable key, for tests and for machines reading the JSON output. */
  id: string;
  text: string;
  /** Where to read more. */
  link: string;
}

export interface ReleaseNoteContext {
  /** The rendered Loki configuration (the target platform's). */
  config: Record<string, unknown>;
  stack: LokiStack;
}

interface ReleaseItem extends ReleaseNote {
  concerns: (context: ReleaseNoteContext) => boolean;
}

const notes = (minor: string) => `https://grafana.com/docs/loki/latest/release-notes/v${minor.replace('.', '-')}/`;
const section = (config: Record<string, unknown>, key: string) => (config[key] ?? {}) as Record<string, unknown>;

export const LOKI_RELEASE_ITEMS: readonly ReleaseItem[] = [
  {
    minor: '3.5',
    id: 'delete-requests-sqlite',
    text: 'the compactor can keep delete requests in SQLite (compactor.delete_request_store_db_type, #16437); this stack keeps the default store, which 3.4 reads too',
    link: notes('3.5'),
    concerns: ({ config }) => section(config, 'compactor').retention_enabled === true,
  },
  {
    minor: '3.6',
    id: 'distributor-max-recv-msg-size',
    text: 'distributors refuse a push whose uncompressed size is over distributor.max_recv_msg_size, 100 MB by default (#16915): clients sending larger batches must send smaller ones',
    link: 'https://grafana.com/docs/loki/latest/setup/upgrade/',
    concerns: () => true,
  },
  {
    minor: '3.6',
    id: 'ui-moved-to-plugin',
    text: "Loki's web UI moved to the Grafana plugin grafana-lokioperational-app (#19390): Loki keeps the APIs it reads, not the pages",
    link: notes('3.6'),
    concerns: ({ stack }) => stack.spec.gateway.enabled,
  },
  {
    minor: '3.7',
    id: 'parsed-labels-keep-structured-metadata',
    text: 'BREAKING: labels a query parser extracts (| json, | logfmt) no longer override structured metadata of the same name (#19991): queries relying on that see the structured metadata value',
    link: notes('3.7'),
    concerns: ({ config }) => section(config, 'limits_config').allow_structured_metadata !== false,
  },
  {
    minor: '3.7',
    id: 'deletion-markers-object-storage',
    text: 'the compactor can keep chunk deletion markers in object storage instead of its local disk (compactor.deletion_marker_object_store_prefix, #19689)',
    link: notes('3.7'),
    concerns: ({ config }) => section(config, 'compactor').retention_enabled === true,
  },
];

/** The items of the minors after `fromMinor` up to `toMinor` (e.g. 3.5 → 3.7: those of 3.6 and 3.7) that concern this stack. */
export function releaseNotesBetween(fromMinor: number, toMinor: number, context: ReleaseNoteContext): ReleaseNote[] {
  return LOKI_RELEASE_ITEMS.filter((item) => {
    const minor = Number(item.minor.split('.')[1]);
    return minor > fromMinor && minor <= toMinor && item.concerns(context);
  }).map(({ minor, id, text, link }) => ({ minor, id, text, link }));
}
