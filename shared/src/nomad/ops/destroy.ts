// Deregister a stack's job, as `nomad job stop` does; only a job our renderer made (meta.managed_by).
// Nomad stops the allocations; CSI volumes are never touched (the user created them); the data on
// ephemeral disks goes with the allocations, as Nomad always does. `purge` also removes the job's history and
// the per-tenant overrides in the job's Nomad Variable (only that item when the variable holds others); a
// plain stop keeps them, so that running the job again serves the same overrides.
import { assertStackRef } from '../../stack/names.js';
import { MANAGER } from '../../stack/names.js';
import type { NomadJob } from './api-types.js';
import { NomadApiError, type NomadClient } from './client.js';
import { removeRuntimeVariable } from './runtime-variable.js';
import type { NomadStackRef } from './status.js';
import { runtimeVariablePath } from '../render/common.js';

export interface NomadDestroyResult {
  jobId: string;
  namespace: string;
  /** False when there was nothing running to stop (no such job, or already stopped): nothing was done. */
  stopped: boolean;
  purged: boolean;
  /** The overrides were removed from the job's Nomad Variable (purge only). */
  runtimeRemoved: boolean;
}

export async function destroyNomadJob(
  client: NomadClient,
  ref: NomadStackRef,
  options: { purge?: boolean } = {},
): Promise<NomadDestroyResult> {
  assertStackRef(ref);
  const path = `/v1/job/${encodeURIComponent(ref.name)}`;
  const result = { jobId: ref.name, namespace: ref.namespace, stopped: false, purged: false, runtimeRemoved: false };
  let job: NomadJob;
  try {
    job = (await client.request<NomadJob>('GET', path, { namespace: ref.namespace })).body;
  } catch (error) {
    if (error instanceof NomadApiError && error.code === 404) return result;
    throw error;
  }
  if (job.Meta?.managed_by !== MANAGER) {
    throw new NomadApiError(
      `job "${ref.name}" in Nomad namespace "${ref.namespace}" was not deployed by loki-microservices (no meta.managed_by): not stopping it`,
      409,
    );
  }
  if (job.Stop && !options.purge) return result;
  await client.request('DELETE', path, { namespace: ref.namespace, query: { purge: String(options.purge === true) } });
  const runtimeRemoved =
    options.purge === true && (await removeRuntimeVariable(client, runtimeVariablePath(ref.name), ref.namespace));
  return { ...result, stopped: true, purged: options.purge === true, runtimeRemoved };
}
