// Names, ports, paths and sizes shared by every group of the Nomad job, defined once so that the job,
// its Loki config, the scrape config and the Traefik tags agree.
import { COMPONENTS, type ComponentName } from '../../spec/components.js';
import { parseQuantity } from '../../spec/quantity.js';
import type { LokiStack, Resources } from '../../spec/schema.js';
import { MANAGER } from '../../stack/names.js';

/** Port labels of each group's network: Nomad picks the numbers; tasks read them as NOMAD_PORT_<label>. */
export const PORT_LABELS = { http: 'http', grpc: 'grpc', gossip: 'gossip' } as const;

/** Files the templates write, relative to the task directory; runtimePath() says where the process sees them. */
export const TASK_PATHS = {
  configFile: 'local/config.yaml',
  runtimeConfigFile: 'local/runtime.yaml',
  credentialsEnv: 'secrets/object-store.env',
  gcsKeyFile: 'secrets/gcs/key.json',
  tlsDir: 'secrets/tls',
  rulesDir: 'local/rules',
} as const;

/** Where a task-relative path (`secrets/…`, `local/…`) is at run time, as a variable Loki or Nomad expands. */
export function runtimePath(taskPath: string): string {
  const [dir, ...rest] = taskPath.split('/');
  const variable = dir === 'secrets' ? 'NOMAD_SECRETS_DIR' : dir === 'local' ? 'NOMAD_TASK_DIR' : 'NOMAD_ALLOC_DIR';
  return `\${${variable}}/${rest.join('/')}`;
}

/** Mount point of the CSI volume of a stateful component (the Loki image owns /loki). */
export const CSI_DATA_DIR = '/loki';

export const jobId = (stack: LokiStack) => stack.metadata.name;
/**
 * The job's meta, repeated in every group's meta. Nomad gives a task the job's, group's and task's meta
 * merged (the group's winning over the job's) and replaces the allocations whose merged meta changes
 * (scheduler/util.go tasksUpdated): with the same keys in each group, a new loki_version in the job's meta
 * alone replaces nothing, so that a rollout in waves (ops/apply.ts) rolls a group only in its own wave.
 */
export const jobMeta = (stack: LokiStack) => ({
  managed_by: MANAGER,
  loki_version: stack.spec.version,
  profile: stack.spec.profile,
});
/**
 * The Nomad Variable holding the per-tenant overrides (item `runtime.yaml`): the job's own path. A task's
 * workload identity may read exactly `nomad/jobs`, `nomad/jobs/<job>`, `nomad/jobs/<job>/<group>` and
 * `nomad/jobs/<job>/<group>/<task>` without any policy (acl/acl.go matchingVariablesCapabilitySet;
 * https://developer.hashicorp.com/nomad/docs/concepts/variables#task-access-to-variables): exact paths, no
 * prefix, so a deeper `nomad/jobs/<job>/runtime` would need a policy. Other items (e.g. credentials the user
 * keeps there) are left alone.
 */
export const runtimeVariablePath = (jobId: string) => `nomad/jobs/${jobId}`;
/** Group and task name: the Loki target. */
export const groupName = (component: ComponentName) => COMPONENTS[component].target;
/** The HTTP service of a component, as registered in Consul or Nomad. */
export const serviceName = (stack: LokiStack, component: ComponentName) =>
  `${stack.metadata.name}-${COMPONENTS[component].target}`;
/** The gossip service every ring member registers when rings use memberlist (Nomad service discovery). */
export const memberlistServiceName = (stack: LokiStack) => `${stack.metadata.name}-memberlist`;

/** consul-template: the instances of a service in the catalog the job registers in, healthy or not. */
export const catalogLookup = (stack: LokiStack, service: string) =>
  stack.spec.nomad.serviceProvider === 'consul' ? `service "${service}|any"` : `nomadService "${service}"`;

/** Rings are kept in Consul KV when services live in Consul; with Nomad's own service discovery they gossip. */
export const usesMemberlist = (stack: LokiStack) => stack.spec.nomad.serviceProvider === 'nomad';

/** Nomad `resources`: CPU in MHz (1 core = 1000 MHz), memory reserved in MiB, and the memory hard cap. */
export function nomadResources(resources: Resources): { cpu: number; memory: number; memory_max?: number } {
  const cpu = Math.max(20, Math.round(parseQuantity(resources.requests?.cpu ?? '100m') * 1000));
  const memory = Math.max(32, mebibytes(resources.requests?.memory ?? '128Mi'));
  const limit = resources.limits?.memory ? mebibytes(resources.limits.memory) : undefined;
  return { cpu, memory, ...(limit && limit > memory ? { memory_max: limit } : {}) };
}

export const mebibytes = (quantity: string) => Math.ceil(parseQuantity(quantity) / 2 ** 20);
