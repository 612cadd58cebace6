// Submit a stack's job as `nomad job run` does: Nomad parses the HCL (/v1/jobs/parse), then the job is
// registered (/v1/jobs). Registering an identical job changes nothing (same version, no deployment);
// `unchanged` is told by the job version before and after. The per-tenant overrides are not in the job: they
// go to the job's Nomad Variable first (runtime-variable.ts), so changing only them registers no new version.
//
// A new spec.version (or `waves: 'always'`) rolls out in waves, servers before clients (stack/waves.ts): the
// job is registered once per wave, with that wave's groups as rendered and every other group as the live job
// has it, and the wave's deployment must succeed before the next wave is registered. The live job's meta is
// kept until the last wave: Nomad merges the job's meta into every task's, so a new loki_version there would
// replace every allocation (the rendered groups repeat the job's meta, which masks it from then on). The last
// registration is the rendered job itself. A failing wave stops the rollout: auto_revert takes the wave's
// groups back to the last stable version, the later waves are never registered.
import { assertStackRef } from '../../stack/names.js';
import { MANAGER } from '../../stack/names.js';
import { renderNomad, type RenderedNomadJob } from '../render/index.js';
import type { LokiStack } from '../../spec/schema.js';
import { checkSchemaChange, schemaPeriodsOf, stackSchemaPeriods } from '../../stack/schema-periods.js';
import { runtimeConfig } from '../../stack/runtime-config.js';
import { checkUpgrade, type UpgradeCheck, type UpgradeRules } from '../../stack/upgrade.js';
import { nomadLokiConfig } from '../render/loki-config.js';
import type { NomadJob } from './api-types.js';
import { NomadApiError, type NomadClient } from './client.js';
import { writeRuntimeVariable, type RuntimeVariableAction } from './runtime-variable.js';
import { lokiConfigTemplateOf, type NomadStackRef } from './status.js';
import { NomadNotReadyError, waitForNomadJob, type NomadWaitOptions } from './wait.js';
import { wavesOf } from '../../stack/waves.js';
import type { StackStatus } from '../../stack/status-model.js';

export interface NomadApplyResult {
  jobId: string;
  namespace: string;
  action: 'created' | 'updated' | 'unchanged';
  /** Job version after the registration. */
  version: number;
  evalId: string;
  /** The overrides variable (`nomad/jobs/<job>`, item `runtime.yaml`): written only when it differed. */
  runtime: RuntimeVariableAction;
  /** A rollout in waves: from which Loki version to which, and each wave, each ready before the next. */
  rollout?: NomadRollout;
  /** The status the last wave's wait ended with (a rollout in waves only). */
  status?: StackStatus;
}

export interface NomadRollout {
  /** The live job's meta.loki_version. */
  from: string | undefined;
  to: string;
  /** The waves registered, in order (the last one failed when the rollout stopped). */
  waves: NomadWaveResult[];
}

export interface NomadWaveStart {
  /** 1-based, among the waves of the stack that Nomad runs. */
  number: number;
  total: number;
  /** The task groups (named by component) it rolls. */
  groups: string[];
}

export interface NomadWaveResult extends NomadWaveStart {
  /** The job version the wave registered (the same as before when it changed nothing). */
  version: number;
  /** `unchanged`: the registration made no new version, there was nothing to wait for. */
  result: 'ready' | 'unchanged' | 'failed';
  durationMs: number;
}

/** A wave of a rollout did not get ready: the rollout stopped there, the later waves were not registered. */
export class NomadWaveFailedError extends NomadNotReadyError {
  constructor(
    cause: NomadNotReadyError,
    readonly wave: NomadWaveResult,
    readonly rollout: NomadRollout,
    rollbackCommand: string,
  ) {
    super(cause.why, cause.status, wave.durationMs, cause.deployment);
    this.name = 'NomadWaveFailedError';
    const done = rollout.waves.filter((w) => w.number < wave.number && w.result !== 'unchanged');
    const back =
      rollout.from && rollout.from !== rollout.to
        ? `to go back: ${rollbackCommand} --set spec.version=${rollout.from}`
        : 'fix the cause and apply again';
    this.message = [
      `wave ${wave.number}/${wave.total} (${wave.groups.join(', ')}, job version ${wave.version}) failed; the rollout stopped, later waves were not registered`,
      cause.message,
      done.length > 0
        ? `waves ${done.map((w) => w.number).join(', ')} (${done.flatMap((w) => w.groups).join(', ')}) run the new job; Nomad's auto_revert takes wave ${wave.number} back to the last stable version`
        : `Nomad's auto_revert takes wave ${wave.number} back to the last stable version`,
      back,
    ].join('\n');
  }
}

export interface NomadApplyOptions extends UpgradeRules {
  /** The time the schema periods are judged at. @default the current time */
  now?: Date;
  /** Accept a new schema period that starts in less than 24 h (every Loki task restarts before it). @default false */
  allowSchemaWithin24h?: boolean;
  /** How the message names that option. @default '--allow-near-schema' */
  allowNearSchemaOption?: string;
  /** How refusals of a version change name the options that accept them. @default the CLI's flags */
  upgradeOptionNames?: { allowDowngrade?: string; allowSkip?: string };
  /** Told of a version change that passed its pre-flight, with the release notes that concern the stack. */
  onUpgrade?: (check: UpgradeCheck) => void;
  /**
   * `upgrade`: in waves when spec.version differs from the live job's; `always`: in waves for any change;
   * `never`: one registration. @default 'upgrade'
   */
  waves?: 'upgrade' | 'always' | 'never';
  /** How each wave's wait is done (its timeout, progress lines). */
  wait?: Omit<NomadWaitOptions, 'jobVersion'>;
  /** Told as a wave begins; the function it returns is told how the wave ended. */
  onWave?: (wave: NomadWaveStart) => ((result: NomadWaveResult) => void) | void;
  /** The command that applies the stack again, for the way back of a failing wave. @default 'loki-microservices apply --target nomad' */
  rollbackCommand?: string;
}

export async function applyNomadJob(
  client: NomadClient,
  stack: LokiStack,
  options: NomadApplyOptions = {},
): Promise<NomadApplyResult> {
  assertStackRef({ name: stack.metadata.name, namespace: stack.spec.nomad.namespace });
  const rendered = renderNomad(stack);
  const namespace = rendered.namespace;
  const before = await currentVersion(client, rendered.id, namespace);
  if (before && before.managedBy !== MANAGER) throw new NomadApiError(notOursMessage(rendered), 409);
  // The live job's schema periods may only be appended to: checked before anything is sent.
  checkSchemaChange(schemaPeriodsOf(before?.lokiConfig), stackSchemaPeriods(stack), options.now, {
    allowWithin24h: options.allowSchemaWithin24h,
    allowOption: options.allowNearSchemaOption ?? '--allow-near-schema',
  });
  // A change of Loki version (the live job's meta.loki_version): the version rules, the keys and the release
  // notes, as on Kubernetes; the ring and the allocations' health are not checked here.
  const upgrade = checkUpgrade(
    before?.lokiVersion,
    stack,
    { config: nomadLokiConfig(stack), runtime: runtimeConfig(stack) },
    options,
    options.upgradeOptionNames ?? { allowDowngrade: '--allow-downgrade', allowSkip: '--allow-skip' },
  );
  if (upgrade) options.onUpgrade?.(upgrade);
  const job = await parseRenderedJob(client, rendered);
  // Before the job, so that new allocations find the overrides at once.
  const runtime = await writeRuntimeVariable(client, stack);
  const mode = options.waves ?? 'upgrade';
  const live = before && !before.stopped ? before.job : undefined;
  if (live && (mode === 'always' || (mode === 'upgrade' && before?.lokiVersion !== stack.spec.version))) {
    const rollout = await rollOutInWaves(client, stack, live, job, options);
    const last = rollout.waves.at(-1);
    const version = last?.version ?? before!.version;
    return {
      jobId: rendered.id,
      namespace,
      action: rollout.waves.every((wave) => wave.result === 'unchanged') ? 'unchanged' : 'updated',
      version,
      evalId: rollout.evalId,
      runtime,
      rollout: { from: rollout.from, to: rollout.to, waves: rollout.waves },
      ...(rollout.status ? { status: rollout.status } : {}),
    };
  }
  const registered = await client.request<{ EvalID: string }>('POST', '/v1/jobs', {
    namespace,
    body: { Job: job },
  });
  const after = await currentVersion(client, rendered.id, namespace);
  const version = after?.version ?? 0;
  const action =
    before === undefined ? 'created' : before.version === version && !before.stopped ? 'unchanged' : 'updated';
  return { jobId: rendered.id, namespace, action, version, evalId: registered.body.EvalID, runtime };
}

/** Registers `job` once per wave, waiting for each wave's deployment before the next. */
async function rollOutInWaves(
  client: NomadClient,
  stack: LokiStack,
  live: NomadJob,
  job: NomadJob,
  options: NomadApplyOptions,
): Promise<NomadRollout & { evalId: string; status?: StackStatus }> {
  const ref: NomadStackRef = { name: job.ID, namespace: job.Namespace ?? stack.spec.nomad.namespace };
  const rendered = job.TaskGroups ?? [];
  const lokiWaves = wavesOf(stack)
    .map((wave) => wave.components.filter((name) => rendered.some((group) => group.Name === name)))
    .filter((groups) => groups.length > 0);
  // The groups in no wave (the caches) go with the first: the Loki groups that use them come after.
  const inNoWave = rendered.map((group) => group.Name).filter((name) => !lokiWaves.flat().includes(name));
  const waves = lokiWaves.map((groups, index) => (index === 0 ? [...inNoWave, ...groups] : groups));
  const rollout: NomadRollout = { from: live.Meta?.loki_version, to: stack.spec.version, waves: [] };
  // The groups as they run: the live ones, each replaced by the rendered one in its wave.
  const running = new Map((live.TaskGroups ?? []).map((group) => [group.Name, group]));
  let version = live.Version ?? 0;
  let evalId = '';
  let status: StackStatus | undefined;
  for (const [index, groups] of waves.entries()) {
    const start: NomadWaveStart = { number: index + 1, total: waves.length, groups };
    const done = options.onWave?.(start);
    const started = Date.now();
    for (const group of rendered) if (groups.includes(group.Name)) running.set(group.Name, group);
    const lastWave = index === waves.length - 1;
    // Job-level fields from the rendered job, the live meta until the last wave; the last is the rendered job.
    const body: NomadJob = lastWave
      ? job
      : {
          ...job,
          Meta: live.Meta ?? null,
          // The rendered groups' order; a group the rendered job no longer has stays until the last wave.
          TaskGroups: [
            ...rendered.flatMap((group) => running.get(group.Name) ?? []),
            ...[...running.values()].filter((group) => !rendered.some((r) => r.Name === group.Name)),
          ],
        };
    const { body: registered } = await client.request<{ EvalID: string }>('POST', '/v1/jobs', {
      namespace: ref.namespace,
      body: { Job: body },
    });
    evalId = registered.EvalID;
    const after = (await currentVersion(client, ref.name, ref.namespace))?.version ?? version;
    const wave = (result: NomadWaveResult['result']): NomadWaveResult => ({
      ...start,
      version: after,
      result,
      durationMs: Date.now() - started,
    });
    if (after === version) {
      const unchanged = wave('unchanged');
      rollout.waves.push(unchanged);
      done?.(unchanged);
      continue;
    }
    version = after;
    try {
      status = await waitForNomadJob(client, ref, { ...options.wait, jobVersion: after });
    } catch (error) {
      if (!(error instanceof NomadNotReadyError)) throw error;
      const failed = wave('failed');
      rollout.waves.push(failed);
      done?.(failed);
      throw new NomadWaveFailedError(
        error,
        failed,
        rollout,
        options.rollbackCommand ?? 'loki-microservices apply --target nomad',
      );
    }
    const ready = wave('ready');
    rollout.waves.push(ready);
    done?.(ready);
  }
  return { ...rollout, evalId, ...(status ? { status } : {}) };
}

/** Why apply refuses a job of the same ID that loki-microservices did not deploy. */
export const notOursMessage = (rendered: RenderedNomadJob) =>
  `job "${rendered.id}" in Nomad namespace "${rendered.namespace}" exists and was not deployed by loki-microservices (no meta.managed_by): choose another metadata.name`;

/** The rendered job file as Nomad's API job, parsed by Nomad itself as `nomad job run` does. */
export async function parseRenderedJob(client: NomadClient, rendered: RenderedNomadJob): Promise<NomadJob> {
  const { body } = await client.request<NomadJob>('POST', '/v1/jobs/parse', {
    namespace: rendered.namespace,
    body: { JobHCL: rendered.hcl, Canonicalize: true },
  });
  return body;
}

async function currentVersion(
  client: NomadClient,
  id: string,
  namespace: string,
): Promise<
  | {
      version: number;
      stopped: boolean;
      managedBy: string | undefined;
      lokiConfig: string | undefined;
      lokiVersion: string | undefined;
      job: NomadJob;
    }
  | undefined
> {
  try {
    const { body } = await client.request<NomadJob>('GET', `/v1/job/${encodeURIComponent(id)}`, { namespace });
    return {
      version: body.Version ?? 0,
      stopped: body.Stop === true,
      managedBy: body.Meta?.managed_by,
      lokiConfig: lokiConfigTemplateOf(body),
      lokiVersion: body.Meta?.loki_version,
      job: body,
    };
  } catch (error) {
    if (error instanceof NomadApiError && error.code === 404) return undefined;
    throw error;
  }
}
