// Wait until every group of the job has its count of allocations running and healthy, with blocking
// queries on the job's allocations (an answer as soon as any allocation changes), a progress line per
// change, and on timeout or failure the status with the reason of every allocation that is not ready.
import { ClusterError } from '../../errors.js';
import type { StackStatus } from '../../stack/status-model.js';
import { assertStackRef } from '../../stack/names.js';
import type { Deployment } from './api-types.js';
import type { NomadClient } from './client.js';
import { nomadStatusOf, readNomadJob, type NomadStackRef } from './status.js';

export interface NomadWaitOptions {
  /** @default 600000 (10m) */
  timeoutMs?: number;
  /** A group failing (crash loop, unplaceable, unhealthy) this long with nothing ready ends the wait. @default 60000 */
  failAfterMs?: number;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * The job version to wait for (a wave of a rollout): ready only once its deployment is successful, failing
   * when it failed or when the job moved on to another version (auto_revert registered the stable one).
   */
  jobVersion?: number;
}

export class NomadNotReadyError extends ClusterError {
  constructor(
    readonly why: 'timeout' | 'failing',
    readonly status: StackStatus,
    elapsedMs: number,
    /** Nomad's word on the deployment, when it gave up on it. */
    readonly deployment?: string,
  ) {
    const what =
      why === 'timeout'
        ? `not ready after ${Math.round(elapsedMs / 1000)}s`
        : deployment
          ? `failing (deployment: ${deployment})`
          : 'failing';
    const problems = Object.values(status.components).flatMap((c) =>
      c.notReady.map(
        (p) => `  ${p.name}: ${p.state}${p.reason ? ` (${p.reason})` : ''}${p.message ? `: ${p.message}` : ''}`,
      ),
    );
    super(
      `Nomad job ${status.namespace}/${status.name} is ${what}: ${status.condition.message}${problems.length ? `\n${problems.join('\n')}` : ''}`,
    );
    this.name = 'NomadNotReadyError';
  }
}

export async function waitForNomadJob(
  client: NomadClient,
  ref: NomadStackRef,
  options: NomadWaitOptions = {},
): Promise<StackStatus> {
  assertStackRef(ref);
  const timeoutMs = options.timeoutMs ?? 600_000;
  const failAfterMs = options.failAfterMs ?? 60_000;
  const started = Date.now();
  let index = 0;
  let failingSince: number | undefined;
  const reported = new Map<string, string>();
  for (;;) {
    const remaining = timeoutMs - (Date.now() - started);
    const { state, index: next } = await readNomadJob(client, ref, {
      index,
      waitMs: Math.max(1000, Math.min(remaining, 10_000)),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    index = next;
    const status = nomadStatusOf(state);
    for (const [name, component] of Object.entries(status.components)) {
      const line = `${name} ${component.ready}/${component.desired} ready`;
      if (reported.get(name) !== line) options.onProgress?.(line);
      reported.set(name, line);
    }
    const elapsed = Date.now() - started;
    const version = options.jobVersion;
    if (version !== undefined && (state.job.Version ?? 0) !== version) {
      const deployment = await deploymentOf(client, ref, version, options.signal);
      const moved = `the job is at version ${state.job.Version ?? 0} now`;
      throw new NomadNotReadyError(
        'failing',
        status,
        elapsed,
        deployment ? `${deployment.StatusDescription ?? deployment.Status}; ${moved}` : moved,
      );
    }
    const deployment = state.deployment?.JobVersion === (state.job.Version ?? 0) ? state.deployment : null;
    if (status.condition.type === 'Ready') {
      // Every allocation healthy: with a version to wait for, its deployment must say so too.
      if (version === undefined || !deployment || deployment.Status === 'successful') return status;
      if ((deployment.Status === 'running' || deployment.Status === 'pending') && elapsed < timeoutMs) {
        await client.request('GET', `/v1/deployment/${encodeURIComponent(deployment.ID)}`, {
          namespace: ref.namespace,
          index: deployment.ModifyIndex ?? 0,
          waitMs: Math.max(1000, Math.min(timeoutMs - elapsed, 10_000)),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        index = 0;
        continue;
      }
    }
    const deploymentFailed =
      deployment?.Status === 'failed' || (version !== undefined && deployment?.Status === 'cancelled');
    failingSince = status.condition.type === 'Failed' ? (failingSince ?? Date.now()) : undefined;
    if (deploymentFailed)
      throw new NomadNotReadyError('failing', status, elapsed, deployment?.StatusDescription ?? 'failed');
    if (failingSince !== undefined && Date.now() - failingSince >= failAfterMs)
      throw new NomadNotReadyError('failing', status, elapsed);
    if (elapsed >= timeoutMs) throw new NomadNotReadyError('timeout', status, elapsed);
  }
}

/** The deployment of a job version (the latest one of that version). */
async function deploymentOf(
  client: NomadClient,
  ref: NomadStackRef,
  version: number,
  signal: AbortSignal | undefined,
): Promise<Deployment | undefined> {
  const { body } = await client.request<Deployment[] | null>(
    'GET',
    `/v1/job/${encodeURIComponent(ref.name)}/deployments`,
    { namespace: ref.namespace, ...(signal ? { signal } : {}) },
  );
  return (body ?? [])
    .filter((deployment) => deployment.JobVersion === version)
    .sort((a, b) => (b.CreateIndex ?? 0) - (a.CreateIndex ?? 0))[0];
}
