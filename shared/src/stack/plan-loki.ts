// The Loki side of a plan, for any platform: which config keys a change touches, and the consequences of a
// config change that only someone who knows Loki would foresee (data left behind, hidden or deleted).
import { isDeepStrictEqual } from 'node:util';
import { parseDurationMs } from '../spec/quantity.js';
import type { PlanWarning } from './plan-model.js';

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The paths of the leaves that differ between two JSON values (`limits_config.ingestion_rate_mb`,
 * `schema_config.configs[1]`), objects and lists entered, in order.
 */
export function changedPaths(before: unknown, after: unknown, path = ''): string[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedPaths(before[key], after[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, index) => changedPaths(before[index], after[index], `${path}[${index}]`)).flat();
  }
  return [path];
}

/** What a plan compares between the live stack and the render: the Loki config and the ingesters' count. */
export interface LokiSide {
  config: Json;
  ingesters: number;
}

/** The consequences of going from the live Loki config to the rendered one that apply itself would not say. */
export function lokiWarnings(live: LokiSide, next: LokiSide): PlanWarning[] {
  return [
    schemaWarning(live.config, next.config),
    replicationWarning(live.config, next.config),
    storageWarning(live.config, next.config),
    ingesterWarning(live, next),
    retentionWarning(live.config, next.config),
    authWarning(live.config, next.config),
  ].filter((warning): warning is PlanWarning => warning !== undefined);
}

const at = (config: Json, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (isRecord(value) ? value[key] : undefined), config);

interface Period {
  from?: string;
  store?: string;
  schema?: string;
}
const periodsOf = (config: Json) => (at(config, 'schema_config.configs') ?? []) as Period[];
const describePeriod = (period: Period) => `${period.store} ${period.schema} from ${period.from}`;

function schemaWarning(live: Json, next: Json): PlanWarning | undefined {
  const before = periodsOf(live);
  const after = periodsOf(next);
  if (isDeepStrictEqual(before, after)) return undefined;
  const added = after.filter((period) => !before.some((old) => isDeepStrictEqual(old, period)));
  const removed = before.filter((period) => !after.some((now) => isDeepStrictEqual(now, period)));
  const parts = [
    ...added.map((period) => `adds ${describePeriod(period)}`),
    ...removed.map((period) => `removes ${describePeriod(period)}`),
  ];
  return {
    code: 'SchemaChanged',
    message: `the schema changes (${parts.join('; ')}): every Loki pod rolls and must run the new config before the new period starts; logs written under a period that is removed or changed become unreadable`,
  };
}

function replicationWarning(live: Json, next: Json): PlanWarning | undefined {
  const before = at(live, 'common.replication_factor');
  const after = at(next, 'common.replication_factor');
  if (before === after) return undefined;
  return {
    code: 'ReplicationFactorChanged',
    message: `the replication factor changes from ${before} to ${after}: streams written so far keep ${before} replica(s) until their chunks are flushed, and queries read them with the new factor's quorum`,
  };
}

/** The store type and its bucket or container fields (credentials are not compared, and never shown). */
function storageIdentity(config: Json): Json {
  const storage = (at(config, 'common.storage') ?? {}) as Json;
  return Object.fromEntries(
    Object.entries(storage).map(([type, settings]) => [
      type,
      isRecord(settings)
        ? Object.fromEntries(
            Object.entries(settings).filter(([key]) => /bucket|container|endpoint|region|account_name/.test(key)),
          )
        : settings,
    ]),
  );
}

function storageWarning(live: Json, next: Json): PlanWarning | undefined {
  const before = storageIdentity(live);
  const after = storageIdentity(next);
  if (isDeepStrictEqual(before, after)) return undefined;
  return {
    code: 'StorageChanged',
    message: `the object store changes (${changedPaths(before, after, 'common.storage').join(', ')}): existing data is not migrated, and logs stored so far are no longer readable from this stack`,
  };
}

function ingesterWarning(live: LokiSide, next: LokiSide): PlanWarning | undefined {
  if (next.ingesters >= live.ingesters) return undefined;
  const factor = Number(at(next.config, 'common.replication_factor') ?? 1);
  return {
    code: 'IngestersScaledDown',
    message:
      `ingesters scale down from ${live.ingesters} to ${next.ingesters}: the removed ones flush their chunks as they stop (their volumes are kept)` +
      (next.ingesters < factor ? `; with fewer ingesters than the replication factor (${factor}) pushes fail` : ''),
  };
}

const retentionMs = (config: Json) => {
  const period = at(config, 'limits_config.retention_period');
  return typeof period === 'string' ? parseDurationMs(period) : 0;
};

function retentionWarning(live: Json, next: Json): PlanWarning | undefined {
  const before = retentionMs(live);
  const after = retentionMs(next);
  // 0 keeps logs forever.
  if (after === 0 || (before !== 0 && after >= before)) return undefined;
  const period = at(next, 'limits_config.retention_period');
  const delay = at(next, 'compactor.retention_delete_delay') ?? '2h';
  return {
    code: 'RetentionShortened',
    message: `retention shortens from ${before === 0 ? 'forever' : at(live, 'limits_config.retention_period')} to ${period}: data older than ${period} is deleted after the compactor's delete delay (${delay})`,
  };
}

function authWarning(live: Json, next: Json): PlanWarning | undefined {
  const before = at(live, 'auth_enabled') === true;
  const after = at(next, 'auth_enabled') === true;
  if (before === after) return undefined;
  return {
    code: 'AuthToggled',
    message: after
      ? 'multi-tenancy turns on: logs pushed so far belong to tenant "fake" and are invisible to every other tenant'
      : 'multi-tenancy turns off: every request is tenant "fake", and the logs of every other tenant become invisible',
  };
}
