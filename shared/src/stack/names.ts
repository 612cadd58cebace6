// What a stack's name, its namespace and a configured cluster's name may be: the spec's rules, kept here so
// that the spec, every core function that talks to a cluster, and the catalog annotation apply the same
// ones. A name that could not come from a valid spec never reaches a request path ("..", "a/b", "%2e"
// would otherwise address other namespaces or the whole cluster). Browser-safe: no Node imports.
import { SpecError } from '../errors.js';
import { COMPONENTS } from '../spec/components.js';

/** Who made it: the field manager of every apply, `app.kubernetes.io/managed-by` and the Nomad job's meta. */
export const MANAGER = 'loki-microservices';

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// `<name>-query-scheduler-headless` is the longest object name of the components every stack runs; it must stay
// a DNS-1123 label. The pattern ingester's are longer: renderKubernetes asks a shorter name of stacks that run it.
export const LONGEST_SUFFIX = `-${COMPONENTS.queryScheduler.target}-headless`;
export const MAX_NAME_LENGTH = 63 - LONGEST_SUFFIX.length;

/** A cluster's name in Backstage's Kubernetes configuration: one path segment, no dots alone. */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export const isStackName = (name: unknown): boolean =>
  typeof name === 'string' && name.length <= MAX_NAME_LENGTH && DNS_LABEL.test(name);
export const isNamespaceName = (name: unknown): boolean =>
  typeof name === 'string' && name.length <= 63 && DNS_LABEL.test(name);
export const isClusterName = (name: unknown): boolean => typeof name === 'string' && CLUSTER_NAME.test(name);

export const STACK_NAME_RULE = `a DNS-1123 label of at most ${MAX_NAME_LENGTH} characters (lowercase letters, digits and "-", starting and ending with a letter or digit)`;
export const NAMESPACE_RULE =
  'a DNS-1123 label of at most 63 characters (lowercase letters, digits and "-", starting and ending with a letter or digit)';

/** What is wrong with a stack's name and namespace, by field (empty when both are valid). */
export function stackRefProblems(ref: { name: unknown; namespace: unknown }): { path: string; message: string }[] {
  const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value);
  return [
    ...(isStackName(ref.name)
      ? []
      : [{ path: 'metadata.name', message: `${shown(ref.name)} is not a stack name: must be ${STACK_NAME_RULE}` }]),
    ...(isNamespaceName(ref.namespace)
      ? []
      : [
          {
            path: 'metadata.namespace',
            message: `${shown(ref.namespace)} is not a namespace name: must be ${NAMESPACE_RULE}`,
          },
        ]),
  ];
}

/**
 * Refuse, before any request, a stack reference that no valid spec could hold: every core function that
 * builds a request path from one calls this, whoever called it.
 */
export function assertStackRef(ref: { name: unknown; namespace: unknown }): void {
  const problems = stackRefProblems(ref);
  if (problems.length > 0) throw new SpecError(problems);
}
