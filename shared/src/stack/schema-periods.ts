// Loki's schema periods (`schema_config.configs`): which index store and schema version hold the logs of
// each day. A period once in effect can never change or go: Loki would no longer find what it wrote under
// it. A new one can only be appended, dated far enough ahead that every Loki process has it before it starts.
// Pure: the render-time rules (issues of a spec's list, judged at `now`) and the apply-time rules (the list
// about to be applied against the live stack's). Browser-safe apart from the yaml parser.
import { parse } from 'yaml';
import { SpecError, type SpecIssue } from '../errors.js';
import type { LokiStack } from '../spec/schema.js';
import type { StackStatus } from './status-model.js';

export const SCHEMA_STORES = ['tsdb', 'boltdb-shipper'] as const;
export type SchemaStore = (typeof SCHEMA_STORES)[number];
export const SCHEMA_VERSIONS = ['v11', 'v12', 'v13'] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];

/** The versions each store takes (as the Loki Operator allows them: tsdb came with v12). */
export const VERSIONS_OF_STORE: Record<SchemaStore, readonly SchemaVersion[]> = {
  tsdb: ['v12', 'v13'],
  'boltdb-shipper': ['v11', 'v12', 'v13'],
};

/** The first Loki release that reads each version ([major, minor]); every 3.x reads them all. */
const LOKI_SINCE: Record<SchemaVersion, [number, number]> = { v11: [2, 0], v12: [2, 3], v13: [2, 9] };

export interface SchemaPeriod {
  /** First day of the period (UTC), YYYY-MM-DD. */
  from: string;
  store: SchemaStore;
  version: SchemaVersion;
  indexPrefix: string;
}

/** First day of the one period a spec without `spec.schemas` renders. Never change it: a stack applied runs it. */
export const SCHEMA_FROM = '2024-04-01';
export const DEFAULT_INDEX_PREFIX = 'index_';
export const DEFAULT_SCHEMA_PERIODS: readonly SchemaPeriod[] = [
  { from: SCHEMA_FROM, store: 'tsdb', version: 'v13', indexPrefix: DEFAULT_INDEX_PREFIX },
];

/** The periods a stack renders: `spec.schemas`, or the one period of a spec without it. */
export function stackSchemaPeriods(stack: LokiStack): readonly SchemaPeriod[] {
  return stack.spec.schemas ?? DEFAULT_SCHEMA_PERIODS;
}

/** A new period must start at least this far ahead: every Loki process must have it before it starts. */
export const SCHEMA_MIN_LEAD_MS = 2 * 3_600_000;
/** A new period nearer than this needs the explicit flag: every Loki pod rolls, and must be done before it starts. */
export const SCHEMA_SAFE_LEAD_MS = 24 * 3_600_000;

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is a real calendar date written YYYY-MM-DD. */
export function isSchemaDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** Midnight UTC of a period's first day, in ms. */
export const startOf = (period: { from: string }) => Date.parse(`${period.from}T00:00:00Z`);
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The first day whose midnight UTC is more than 24 h after `now`: a period dated then needs no flag. */
export function nextSafeSchemaDate(now: Date = new Date()): string {
  return dateOf(Math.floor((now.getTime() + SCHEMA_SAFE_LEAD_MS) / DAY_MS) * DAY_MS + DAY_MS);
}

/** The period in effect at `now` (the newest started), and the one after it, if any. */
export function activeSchemaPeriod<T extends { from: string }>(
  periods: readonly T[],
  now: Date = new Date(),
): { active?: T; next?: T } {
  const started = periods.filter((period) => startOf(period) <= now.getTime());
  const active = started[started.length - 1];
  const next = periods.find((period) => startOf(period) > now.getTime());
  return { ...(active ? { active } : {}), ...(next ? { next } : {}) };
}

type PeriodBrief = Pick<SchemaPeriod, 'from' | 'store' | 'version'>;
const brief = (period: PeriodBrief): PeriodBrief => ({
  from: period.from,
  store: period.store,
  version: period.version,
});

/** The `schema` of a status: the live period in effect and the next one; nothing when unknown. */
export function schemaStatusOf(periods: readonly PeriodBrief[] | undefined, now?: Date): Pick<StackStatus, 'schema'> {
  const { active, next } = periods ? activeSchemaPeriod(periods, now) : {};
  return active ? { schema: { active: brief(active), ...(next ? { next: brief(next) } : {}) } } : {};
}

/** The periods as the workloads carry them for status (their annotation): JSON, oldest first. */
export const schemaAnnotationOf = (periods: readonly SchemaPeriod[]) => JSON.stringify(periods.map(brief));

/** The periods of a workload's annotation; nothing when it is absent or not what apply writes. */
export function periodsOfAnnotation(text: string | undefined): PeriodBrief[] | undefined {
  if (!text) return undefined;
  try {
    const periods: unknown = JSON.parse(text);
    const valid =
      Array.isArray(periods) &&
      periods.every(
        (p: PeriodBrief) =>
          isSchemaDate(p?.from) && SCHEMA_STORES.includes(p.store) && SCHEMA_VERSIONS.includes(p.version),
      );
    return valid ? periods.map(brief) : undefined;
  } catch {
    return undefined;
  }
}

const describePeriod = (period: SchemaPeriod) =>
  `${period.version} (${period.store}, prefix "${period.indexPrefix}") from ${period.from}`;

/**
 * Render-time rules on a spec's periods: valid, unique and ascending dates, one in effect at `now`, versions
 * the store and the pinned Loki release take, the newest one tsdb with v13. Paths are `spec.schemas[i]…`.
 */
export function schemaPeriodIssues(
  periods: readonly SchemaPeriod[],
  lokiVersion: string,
  now: Date = new Date(),
): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const at = (index: number, field: keyof SchemaPeriod) => `spec.schemas[${index}].${field}`;
  const today = dateOf(now.getTime());
  const [major = 3, minor = 0] = lokiVersion.split('.').map(Number);
  periods.forEach((period, index) => {
    if (!isSchemaDate(period.from)) {
      issues.push({ path: at(index, 'from'), message: `must be a date written YYYY-MM-DD, not "${period.from}"` });
      return;
    }
    const previous = periods[index - 1];
    if (previous && isSchemaDate(previous.from) && period.from <= previous.from) {
      issues.push({
        path: at(index, 'from'),
        message:
          period.from === previous.from
            ? `${period.from} is also the date of spec.schemas[${index - 1}]: each period starts on its own day; remove one, or date this one later`
            : `must be after spec.schemas[${index - 1}].from (${previous.from}): list the periods oldest first`,
      });
    }
    const versions = VERSIONS_OF_STORE[period.store];
    if (!versions.includes(period.version)) {
      issues.push({
        path: at(index, 'version'),
        message: `${period.version} cannot be used with store ${period.store}: use ${versions.join(' or ')}`,
      });
    }
    const [sinceMajor, sinceMinor] = LOKI_SINCE[period.version];
    if (major < sinceMajor || (major === sinceMajor && minor < sinceMinor)) {
      issues.push({
        path: at(index, 'version'),
        message: `${period.version} needs Loki ${sinceMajor}.${sinceMinor} or later (spec.version is ${lokiVersion})`,
      });
    }
  });
  const datesValid = periods.every((period) => isSchemaDate(period.from));
  if (datesValid && periods.length > 0 && !periods.some((period) => period.from <= today)) {
    issues.push({
      path: at(0, 'from'),
      message: `no period is in effect now (today is ${today} UTC): the oldest period must start on or before today, so that Loki has a schema to write with`,
    });
  }
  const newest = periods[periods.length - 1];
  if (newest && newest.store !== 'tsdb') {
    issues.push({
      path: at(periods.length - 1, 'store'),
      message: `the newest period must use tsdb (Loki 3's index store): append a period with store: tsdb and version: v13 dated ${nextSafeSchemaDate(now)} or later`,
    });
  } else if (newest && newest.version !== 'v13') {
    issues.push({
      path: at(periods.length - 1, 'version'),
      message: `the newest period must use v13 (structured metadata needs it): append a period with version: v13 dated ${nextSafeSchemaDate(now)} or later`,
    });
  }
  return issues;
}

/** The schema periods of a Loki configuration (an object, or its YAML text, a Nomad template's included); undefined without any. */
export function schemaPeriodsOf(config: string | Record<string, unknown> | undefined): SchemaPeriod[] | undefined {
  if (config === undefined) return undefined;
  let object: unknown = config;
  if (typeof config === 'string') {
    // Only the top-level schema_config block: the rest of a Nomad template holds consul-template actions.
    const block = /^schema_config:[^\n]*\n(?:(?:[ \t][^\n]*|)\n)*/m.exec(
      config.endsWith('\n') ? config : `${config}\n`,
    );
    if (!block) return undefined;
    try {
      object = parse(block[0]);
    } catch {
      return undefined;
    }
  }
  const configs = (object as { schema_config?: { configs?: unknown } } | null)?.schema_config?.configs;
  if (!Array.isArray(configs)) return undefined;
  return configs.map((entry: Record<string, unknown>) => {
    const from = entry.from instanceof Date ? dateOf(entry.from.getTime()) : String(entry.from);
    const index = (entry.index ?? {}) as { prefix?: unknown };
    return {
      from,
      store: String(entry.store) as SchemaStore,
      version: String(entry.schema) as SchemaVersion,
      indexPrefix: String(index.prefix ?? ''),
    };
  });
}

/** A change of schema periods that would lose or hide data: nothing was sent. Exit code 2, like any spec error. */
export class SchemaChangeError extends SpecError {
  constructor(issues: SpecIssue[]) {
    super(issues);
    this.name = 'SchemaChangeError';
  }
}

export interface SchemaChangeOptions {
  /** Accept a new period that starts in less than 24 h (but at least 2 h from now). @default false */
  allowWithin24h?: boolean;
  /** How messages name that option; without it, they do not advise it. */
  allowOption?: string;
}

/**
 * Apply-time rules: every live period in effect (or starting within 2 h) stays, unchanged; no new period starts
 * within 2 h, and one within 24 h needs `allowWithin24h`. Returns the issues, paths naming the spec's fields.
 */
export function schemaChangeIssues(
  live: readonly SchemaPeriod[],
  next: readonly SchemaPeriod[],
  now: Date = new Date(),
  options: SchemaChangeOptions = {},
): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const safeDate = nextSafeSchemaDate(now);
  const fixed = (period: SchemaPeriod) => startOf(period) < now.getTime() + SCHEMA_MIN_LEAD_MS;
  for (const period of live.filter(fixed)) {
    const index = next.findIndex((candidate) => candidate.from === period.from);
    const mine = next[index];
    if (!mine) {
      issues.push({
        path: 'spec.schemas',
        message: `must keep the period ${describePeriod(period)}: it is in effect on the live stack and holds its logs. Put it back as it is, and add a new period dated ${safeDate} or later instead`,
      });
      continue;
    }
    for (const field of ['store', 'version', 'indexPrefix'] as const) {
      if (mine[field] !== period[field]) {
        issues.push({
          path: `spec.schemas[${index}].${field}`,
          message: `is "${period[field]}" on the live stack, where the period from ${period.from} is in effect: keep "${period[field]}", and add a new period dated ${safeDate} or later instead`,
        });
      }
    }
  }
  const same = (a: SchemaPeriod, b: SchemaPeriod) =>
    a.from === b.from && a.store === b.store && a.version === b.version && a.indexPrefix === b.indexPrefix;
  next.forEach((period, index) => {
    // Live already (as it is, or changed: then said above): not a new period.
    if (live.some((old) => same(old, period) || (fixed(old) && old.from === period.from))) return;
    const lead = startOf(period) - now.getTime();
    if (lead < SCHEMA_MIN_LEAD_MS) {
      issues.push({
        path: `spec.schemas[${index}].from`,
        message: `${period.from} is ${lead <= 0 ? 'already past' : 'less than 2 h away'} and no live period starts then: Loki would read the logs already written under it with the wrong schema. Add a new period dated ${safeDate} or later instead`,
      });
    } else if (lead < SCHEMA_SAFE_LEAD_MS && !options.allowWithin24h) {
      issues.push({
        path: `spec.schemas[${index}].from`,
        message: `${period.from} starts in less than 24 h: every Loki pod restarts with it and must be done before midnight UTC. Date it ${safeDate} or later${options.allowOption ? `, or re-run with ${options.allowOption} to go ahead` : ''}`,
      });
    }
  });
  return issues;
}

/** Throws SchemaChangeError when `next` cannot replace the live periods (none live: a new stack, anything goes). */
export function checkSchemaChange(
  live: readonly SchemaPeriod[] | undefined,
  next: readonly SchemaPeriod[],
  now: Date = new Date(),
  options: SchemaChangeOptions = {},
): void {
  if (!live || live.length === 0) return;
  const issues = schemaChangeIssues(live, next, now, options);
  if (issues.length > 0) throw new SchemaChangeError(issues);
}

/** A period as YAML to append to `spec.schemas`. */
export function schemaPeriodYaml(period: SchemaPeriod): string {
  return [
    `- from: "${period.from}"`,
    `  store: ${period.store}`,
    `  version: ${period.version}`,
    `  indexPrefix: ${period.indexPrefix}`,
    '',
  ].join('\n');
}
