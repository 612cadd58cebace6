// Submit a stack's job as `nomad job run` does: Nomad parses the HCL (/v1/jobs/parse), then the job is
// registered (/v1/jobs). Registering an identical job changes nothing (same version, no deployment);
// `unchanged` is told by the job version before and after. The per-tenant overrides are not in the job: they
// go to the job's Nomad Variable first (runtime-variable.ts), so changing only them registers no new version.
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
import { lokiConfigTemplateOf } from './status.js';

export interface NomadApplyResult {
  jobId: string;
  namespace: string;
  action: 'created' | 'updated' | 'unchanged';
  /** Job version after the registration. */
  version: number;
  evalId: string;
  /** The overrides variable (`nomad/jobs/<job>`, item `runtime.yaml`): written only when it differed. */
  runtime: RuntimeVariableAction;
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
    };
  } catch (error) {
    if (error instanceof NomadApiError && error.code === 404) return undefined;
    throw error;
  }
}
