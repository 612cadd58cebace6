// The runtime configuration file: per-tenant overrides (spec.overrides) in Loki's format
// (`overrides: {<tenant>: {<limits_config keys>}}`). Loki re-reads it every RUNTIME_CONFIG_PERIOD, so it lives
// beside the main config rather than in it: changing it restarts nothing. Platform-neutral, like loki-config.ts.
import { stringify } from 'yaml';
import type { LokiStack } from '../spec/schema.js';

/** How often Loki re-reads the runtime configuration file (`runtime_config.period`). */
export const RUNTIME_CONFIG_PERIOD = '10s';
/** Name of the runtime configuration file, in its ConfigMap and its directory. */
export const RUNTIME_CONFIG_FILE = 'runtime.yaml';

type Limits = LokiStack['spec']['limits'];
type TenantOverride = LokiStack['spec']['overrides'][string];
type StreamRetention = LokiStack['spec']['retentionStreams'][number];
type OtlpRule = { action: string; attributes?: string[] | undefined; regex?: string | undefined };

/** `spec.limits` fields and their `limits_config` keys. */
export const LIMIT_KEYS: Record<keyof Limits, string> = {
  ingestionRateMB: 'ingestion_rate_mb',
  ingestionBurstSizeMB: 'ingestion_burst_size_mb',
  maxGlobalStreamsPerUser: 'max_global_streams_per_user',
  maxQuerySeries: 'max_query_series',
  maxQueryParallelism: 'max_query_parallelism',
  maxEntriesLimitPerQuery: 'max_entries_limit_per_query',
  queryTimeout: 'query_timeout',
  rejectOldSamplesMaxAge: 'reject_old_samples_max_age',
};

/** The `limits_config` keys of the limits that are set. */
export function limitsConfig(limits: Partial<Limits>): Record<string, unknown> {
  return Object.fromEntries(
    (Object.keys(LIMIT_KEYS) as (keyof Limits)[])
      .filter((field) => limits[field] !== undefined)
      .map((field) => [LIMIT_KEYS[field], limits[field]]),
  );
}

/** `limits_config.retention_stream`. */
export function retentionStream(rules: StreamRetention[]): Record<string, unknown>[] {
  return rules.map(({ selector, priority, period }) => ({ selector, priority, period }));
}

function otlpRules(rules: OtlpRule[]): Record<string, unknown>[] {
  return rules.map(({ action, attributes, regex }) => ({
    action,
    ...(attributes ? { attributes } : {}),
    ...(regex !== undefined ? { regex } : {}),
  }));
}

function otlpConfig(otlp: NonNullable<TenantOverride['otlp']>): Record<string, unknown> {
  const { resourceAttributes, scopeAttributes, logAttributes } = otlp;
  return {
    ...(resourceAttributes
      ? {
          resource_attributes: {
            ...(resourceAttributes.ignoreDefaults !== undefined
              ? { ignore_defaults: resourceAttributes.ignoreDefaults }
              : {}),
            ...(resourceAttributes.attributesConfig
              ? { attributes_config: otlpRules(resourceAttributes.attributesConfig) }
              : {}),
          },
        }
      : {}),
    ...(scopeAttributes ? { scope_attributes: otlpRules(scopeAttributes) } : {}),
    ...(logAttributes ? { log_attributes: otlpRules(logAttributes) } : {}),
  };
}

/** One tenant's `limits_config` keys. */
export function tenantLimits(override: TenantOverride): Record<string, unknown> {
  const { retention, retentionStreams, otlp, ...limits } = override;
  return {
    ...limitsConfig(limits),
    ...(retention !== undefined ? { retention_period: retention } : {}),
    ...(retentionStreams ? { retention_stream: retentionStream(retentionStreams) } : {}),
    ...(otlp ? { otlp_config: otlpConfig(otlp) } : {}),
  };
}

/** The runtime configuration: `overrides` by tenant, `{}` when the spec has none. */
export function runtimeConfig(stack: LokiStack): { overrides: Record<string, Record<string, unknown>> } {
  return {
    overrides: Object.fromEntries(
      Object.entries(stack.spec.overrides).map(([tenant, override]) => [tenant, tenantLimits(override)]),
    ),
  };
}

/** The runtime configuration file's text, keys sorted so that it depends only on the spec. */
export function runtimeConfigText(stack: LokiStack): string {
  return stringify(runtimeConfig(stack), { lineWidth: 0, sortMapEntries: true, aliasDuplicateObjects: false });
}
