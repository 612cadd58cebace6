// Whether a group's allocations can take a new version of the job in place, as Nomad's scheduler decides
// it (scheduler/util.go, tasksUpdated): a change to what a task runs (driver, user, config, env,
// artifacts, Vault, templates, the job's, group's and task's meta, resources, networks and ports,
// volumes and mounts, the ephemeral disk) replaces the allocation; anything else (count, update strategy,
// services and checks, constraints, restart and reschedule policies, kill timeout, logs…) is updated in place.
import { sameJson, type Json } from './json.js';

const groupOf = (job: Json, name: string): Json | undefined =>
  ((job.TaskGroups ?? []) as Json[]).find((group) => group.Name === name);

/** Ports by label: a reserved port's value counts, a dynamic one's does not (networkPortMap). */
function portMap(network: Json | undefined): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const port of network?.ReservedPorts ?? []) ports[port.Label] = port.Value;
  for (const port of network?.DynamicPorts ?? []) ports[port.Label] = -1;
  return ports;
}

function networksUpdated(a: Json[] | null | undefined, b: Json[] | null | undefined): boolean {
  const before = a ?? [];
  const after = b ?? [];
  if (before.length !== after.length) return true;
  return before.some((network, index) => {
    const other = after[index]!;
    return (
      (network.Mode ?? '') !== (other.Mode ?? '') ||
      (network.MBits ?? 0) !== (other.MBits ?? 0) ||
      !sameJson(portMap(network), portMap(other)) ||
      !sameJson(network.DNS ?? null, other.DNS ?? null)
    );
  });
}

const combinedMeta = (job: Json, group: Json, task: Json) => ({ ...job.Meta, ...group.Meta, ...task.Meta });
const empty = (value: unknown) =>
  value === undefined ||
  value === null ||
  (Array.isArray(value) && value.length === 0) ||
  (typeof value === 'object' && Object.keys(value as object).length === 0);
/** reflect.DeepEqual on the fields Nomad compares, with nil and empty alike (the API canonicalises them so). */
const same = (a: unknown, b: unknown) => (empty(a) && empty(b)) || sameJson(a, b);

/** True when the group's allocations must be replaced to run `after` (a destructive update). */
export function tasksUpdated(before: Json, after: Json, groupName: string): boolean {
  const a = groupOf(before, groupName);
  const b = groupOf(after, groupName);
  if (!a || !b) return true;
  const tasksA = (a.Tasks ?? []) as Json[];
  const tasksB = (b.Tasks ?? []) as Json[];
  if (tasksA.length !== tasksB.length) return true;
  if (!same(a.EphemeralDisk, b.EphemeralDisk)) return true;
  if (networksUpdated(a.Networks, b.Networks)) return true;
  if (!same(a.Volumes, b.Volumes)) return true;
  for (const taskA of tasksA) {
    const taskB = tasksB.find((task) => task.Name === taskA.Name);
    if (!taskB) return true;
    if (taskA.Driver !== taskB.Driver || (taskA.User ?? '') !== (taskB.User ?? '')) return true;
    for (const field of ['Config', 'Env', 'Artifacts', 'Vault', 'Templates', 'VolumeMounts', 'Lifecycle'])
      if (!same(taskA[field], taskB[field])) return true;
    if (!same(combinedMeta(before, a, taskA), combinedMeta(after, b, taskB))) return true;
    const resourcesA = (taskA.Resources ?? {}) as Json;
    const resourcesB = (taskB.Resources ?? {}) as Json;
    if (networksUpdated(resourcesA.Networks, resourcesB.Networks)) return true;
    for (const field of ['CPU', 'Cores', 'MemoryMB', 'MemoryMaxMB', 'Devices'])
      if (!same(resourcesA[field], resourcesB[field])) return true;
  }
  return false;
}
