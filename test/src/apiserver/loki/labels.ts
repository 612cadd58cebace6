// Label sets as Loki holds them: name-sorted pairs with empty values dropped (what syntax.ParseLabels
// makes of a pushed stream), printed in Prometheus' `{a="1", b="2"}` form, which is also the stream's
// identity and the order Loki sorts result streams by.

export type LabelPairs = readonly (readonly [name: string, value: string])[];

/** Loki's `limits_config.discover_service_name` default (pkg/validation/limits.go). */
export const DEFAULT_SERVICE_NAME_DISCOVERY: readonly string[] = [
  'service',
  'app',
  'application',
  'app_name',
  'name',
  'app_kubernetes_io_name',
  'container',
  'container_name',
  'k8s_container_name',
  'component',
  'workload',
  'job',
  'k8s_job_name',
];

const SERVICE_NAME = 'service_name';
const UNKNOWN_SERVICE = 'unknown_service';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

export function canonicalLabels(pairs: Iterable<readonly [string, string]>): LabelPairs {
  return [...pairs].filter(([, value]) => value !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function formatLabels(labels: LabelPairs): string {
  return `{${labels.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}}`;
}

/** A label's value, '' when absent: Prometheus matcher semantics. */
export function labelValue(labels: LabelPairs, name: string): string {
  return labels.find(([candidate]) => candidate === name)?.[1] ?? '';
}

/**
 * Loki's push parser adds `service_name` to a stream that lacks it: the value of the first label in
 * `discovery` that the stream has, else `unknown_service`. An empty list turns this off.
 */
export function withServiceName(labels: LabelPairs, discovery: readonly string[]): LabelPairs {
  if (discovery.length === 0 || labels.some(([name]) => name === SERVICE_NAME)) return labels;
  const discovered = discovery.map((name) => labelValue(labels, name)).find((value) => value !== '');
  return canonicalLabels([...labels, [SERVICE_NAME, discovered ?? UNKNOWN_SERVICE]]);
}
