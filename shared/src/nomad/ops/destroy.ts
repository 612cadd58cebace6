// Deregister a stack's job, as `nomad job stop` does; only a job our renderer made (meta.managed_by).
// Nomad stops the allocations; CSI volumes are never touched (the user created them); the data on
// ephemeral disks goes with the allocations, as Nomad always does. `purge` also removes the job's history.
import { assertStackRef } from '../../stack/names.js';
import { MANAGER } from '../../stack/names.js';
import type { NomadJob } from './api-types.js';
import { NomadApiError, type NomadClient } from './client.js';
import type { NomadStackRef } from './status.js';

export interface NomadDestroyResult {
  jobId: string;
  namespace: string;
  /** False when there was nothing running to stop (no such job, or already stopped): nothing was done. */
  stopped: boolean;
  purged: boolean;
}

export async function destroyNomadJob(
  client: NomadClient,
  ref: NomadStackRef,
  options: { purge?: boolean } = {},
): Promise<NomadDestroyResult> {
  assertStackRef(ref);
  const path = `/v1/job/${encodeURIComponent(ref.name)}`;
  const result = { jobId: ref.name, namespace: ref.namespace, stopped: false, purged: false };
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
  return { ...result, stopped: true, purged: options.purge === true };
}
