// What `apply` would do on Nomad, in the StackPlan shape: the rendered job is parsed by Nomad and planned
// (POST /v1/job/:id/plan with Diff, the scheduler's dry run: nothing is registered), and Nomad's answer is
// told in Loki's terms. A task group per component: created, removed, updated in place, or its allocations
// replaced (how many, and why: the image, the Loki config keys, resources); groups Nomad could not place
// are blockers. The live job's Loki config is compared with the rendered one for the warnings only Loki
// knows. Template and env changes are named, never shown: they may carry credentials. The per-tenant
// overrides live in the job's Nomad Variable, not the job: a change to them is a `Variable` change naming the
// tenants (`overrides.<tenant>`), which rolls nothing.
import { parse } from 'yaml';
import { MANAGER, assertStackRef } from '../../stack/names.js';
import { changedPaths, lokiWarnings } from '../../stack/plan-loki.js';
import {
  isChange,
  PLAN_API_VERSION,
  type PlanBlocker,
  type PlannedChange,
  type PlannedRoll,
  type StackPlan,
} from '../../stack/plan-model.js';
import type { LokiStack } from '../../spec/schema.js';
import { TASK_PATHS } from '../render/common.js';
import { renderNomad } from '../render/index.js';
import type { AllocationMetric, NomadJob } from './api-types.js';
import { notOursMessage, parseRenderedJob } from './apply.js';
import { NomadApiError, type NomadClient } from './client.js';
import { plannedRuntimeVariable } from './runtime-variable.js';
import { placementMessage } from './status.js';
import { plannedWaves } from '../../stack/waves.js';

type DiffType = 'None' | 'Added' | 'Deleted' | 'Edited';

/** The parts of Nomad's JobPlanResponse (api/jobs.go) a plan reads; values (Old, New) only where not secret. */
interface FieldDiff {
  Type: DiffType;
  Name: string;
  Old?: string;
  New?: string;
}
interface ObjectDiff {
  Type: DiffType;
  Name: string;
  Fields?: FieldDiff[] | null;
  Objects?: ObjectDiff[] | null;
}
interface TaskGroupDiff extends ObjectDiff {
  Tasks?: ObjectDiff[] | null;
}
interface DesiredUpdates {
  Ignore?: number;
  Place?: number;
  Stop?: number;
  InPlaceUpdate?: number;
  DestructiveUpdate?: number;
}
export interface NomadJobPlanResponse {
  JobModifyIndex: number;
  Diff?: {
    Type: DiffType;
    Fields?: FieldDiff[] | null;
    Objects?: ObjectDiff[] | null;
    TaskGroups?: TaskGroupDiff[] | null;
  } | null;
  Annotations?: { DesiredTGUpdates?: Record<string, DesiredUpdates> | null } | null;
  FailedTGAllocs?: Record<string, AllocationMetric> | null;
  Warnings?: string;
}

/** A job as GET /v1/job/:id and /v1/jobs/parse give it, down to the templates. */
interface FullJob extends NomadJob {
  TaskGroups?: {
    Name: string;
    Count?: number;
    Meta?: Record<string, string> | null;
    Tasks?: { Name: string; Templates?: { DestPath?: string; EmbeddedTmpl?: string }[] | null }[] | null;
  }[];
}

const changed = <T extends { Type: DiffType }>(items: T[] | null | undefined): T[] =>
  (items ?? []).filter((item) => item.Type !== 'None');

export async function planNomadJob(client: NomadClient, stack: LokiStack): Promise<StackPlan> {
  assertStackRef({ name: stack.metadata.name, namespace: stack.spec.nomad.namespace });
  const rendered = renderNomad(stack);
  const { namespace } = rendered;
  const live = await liveJob(client, rendered.id, namespace);
  const base: Pick<StackPlan, 'apiVersion' | 'kind' | 'name' | 'namespace' | 'target'> = {
    apiVersion: PLAN_API_VERSION,
    kind: 'StackPlan',
    name: rendered.id,
    namespace,
    target: 'nomad',
  };
  if (live && live.Meta?.managed_by !== MANAGER) {
    // Apply refuses it: nothing else to say.
    const blockers = [{ kind: 'Job', name: rendered.id, message: notOursMessage(rendered) }];
    return { ...base, hasChanges: false, changes: [], rolls: [], blockers, warnings: [] };
  }
  const job = (await parseRenderedJob(client, rendered)) as FullJob;
  const { body: plan } = await client.request<NomadJobPlanResponse>(
    'POST',
    `/v1/job/${encodeURIComponent(rendered.id)}/plan`,
    { namespace, body: { Job: job, Diff: true, PolicyOverride: false } },
  );
  const desired = plan.Annotations?.DesiredTGUpdates ?? {};
  const configKeys = live ? changedPaths(lokiConfigOf(live), lokiConfigOf(job)) : [];

  const changes: PlannedChange[] = [];
  const rolls: PlannedRoll[] = [];
  // Written before the job, so listed first.
  const runtime = await plannedRuntimeVariable(client, stack);
  if (runtime.action !== 'unchanged') {
    const impact = runtime.action === 'created' ? 'create' : 'in-place';
    changes.push({ kind: 'Variable', name: runtime.path, impact, fields: runtime.tenants });
  }
  const diff = plan.Diff;
  const jobMeta = changed(diff?.Fields)
    .map((field) => field.Name)
    .filter((name) => name.startsWith('Meta['));
  if (diff?.Type === 'Added' || !live) changes.push({ kind: 'Job', name: rendered.id, impact: 'create', fields: [] });
  else {
    const fields = [...changed(diff?.Fields).map((field) => field.Name), ...objectPaths('', diff?.Objects)];
    if (fields.length > 0) changes.push({ kind: 'Job', name: rendered.id, impact: 'in-place', fields });
  }
  for (const group of diff?.TaskGroups ?? []) {
    const updates = desired[group.Name] ?? {};
    const destructive = updates.DestructiveUpdate ?? 0;
    // A stopped job's groups are placed again.
    if (group.Type === 'Added' || ((!live || live.Stop) && group.Type !== 'Deleted')) {
      changes.push({ kind: 'TaskGroup', name: group.Name, impact: 'create', fields: [] });
      continue;
    }
    if (group.Type === 'Deleted') {
      changes.push({ kind: 'TaskGroup', name: group.Name, impact: 'prune', fields: [] });
      continue;
    }
    // An unchanged group's allocations are updated in place to the new job version: nothing to tell.
    if (group.Type === 'None' && destructive === 0) continue;
    changes.push({
      kind: 'TaskGroup',
      name: group.Name,
      impact: destructive > 0 ? 'rolls' : 'in-place',
      fields: groupPaths(group),
    });
    if (destructive > 0) {
      rolls.push({
        component: group.Name,
        workload: group.Name,
        // Nomad's first evaluation replaces max_parallel allocations and leaves the others to the
        // deployment (counted as ignored): apply replaces them all.
        pods: destructive + (updates.Ignore ?? 0),
        reasons: rollReasons(group, configKeys, jobMetaUnder(job, group.Name, jobMeta)),
      });
    }
  }
  const blockers: PlanBlocker[] = Object.entries(plan.FailedTGAllocs ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, metric]) => ({
      kind: 'TaskGroup',
      name: group,
      message: `Nomad cannot place task group "${group}": ${placementMessage(metric, (metric.CoalescedFailures ?? 0) + 1)}`,
    }));
  const warnings =
    live && !live.Stop
      ? lokiWarnings(
          { config: lokiConfigOf(live), ingesters: ingestersOf(live) },
          { config: lokiConfigOf(job), ingesters: ingestersOf(job) },
        )
      : [];
  return {
    ...base,
    hasChanges: changes.some(isChange),
    changes,
    rolls,
    ...plannedWaves(stack, rolls),
    blockers,
    warnings,
  };
}

async function liveJob(client: NomadClient, id: string, namespace: string): Promise<FullJob | undefined> {
  try {
    return (await client.request<FullJob>('GET', `/v1/job/${encodeURIComponent(id)}`, { namespace })).body;
  } catch (error) {
    if (error instanceof NomadApiError && error.code === 404) return undefined;
    throw error;
  }
}

/**
 * The changed fields under a list of object diffs, as paths (`Update.MaxParallel`). A template is named by
 * its destination and an env variable by its name, never by their contents.
 */
function objectPaths(prefix: string, objects: ObjectDiff[] | null | undefined): string[] {
  return changed(objects).flatMap((object) => {
    const path = `${prefix}${object.Name}`;
    if (object.Type !== 'Edited') return [path];
    if (object.Name === 'Template') {
      const destination = object.Fields?.find((field) => field.Name === 'DestPath');
      return [`${path}[${destination?.New || destination?.Old || '?'}]`];
    }
    const fields = changed(object.Fields).map((field) => `${path}.${field.Name}`);
    const nested = objectPaths(`${path}.`, object.Objects);
    return fields.length + nested.length > 0 ? [...fields, ...nested] : [path];
  });
}

function groupPaths(group: TaskGroupDiff): string[] {
  return [
    ...changed(group.Fields).map((field) => field.Name),
    ...objectPaths('', group.Objects),
    ...changed(group.Tasks).flatMap((task) => {
      const prefix = `Tasks[${task.Name}].`;
      return [...changed(task.Fields).map((field) => `${prefix}${field.Name}`), ...objectPaths(prefix, task.Objects)];
    }),
  ];
}

/** The changed job meta fields (`Meta[key]`) a group does not override with a meta of its own. */
const jobMetaUnder = (job: FullJob, groupName: string, jobMeta: string[]) => {
  const meta = job.TaskGroups?.find((group) => group.Name === groupName)?.Meta ?? {};
  return jobMeta.filter((field) => !(field.slice('Meta['.length, -1) in meta));
};

/** Why a group's allocations are replaced, in Loki's terms. */
function rollReasons(group: TaskGroupDiff, configKeys: string[], jobMeta: string[]): string[] {
  const reasons = new Set<string>();
  for (const task of changed(group.Tasks)) {
    for (const object of changed(task.Objects)) {
      if (object.Name === 'Config') {
        const image = changed(object.Fields).find((field) => field.Name === 'image');
        if (image) reasons.add(`image: ${image.Old} → ${image.New}`);
        const other = changed(object.Fields).filter((field) => field.Name !== 'image');
        if (other.length > 0) reasons.add(`task config: ${other.map((field) => field.Name).join(', ')}`);
      } else if (object.Name === 'Template') {
        const destination = object.Fields?.find((field) => field.Name === 'DestPath');
        const path = destination?.New || destination?.Old;
        if (path === TASK_PATHS.configFile) {
          reasons.add(configKeys.length > 0 ? `config: ${configKeys.join(', ')}` : 'config: template text');
        } else reasons.add(`template: ${path ?? '?'}`);
      } else if (object.Name === 'Resources') {
        const fields = changed(object.Fields).map((field) => `${field.Name} ${field.Old || '-'} → ${field.New || '-'}`);
        reasons.add(`resources: ${fields.join(', ')}`);
      } else reasons.add(`${object.Name.toLowerCase()} changed`);
    }
    for (const field of changed(task.Fields)) {
      const env = /^Env\[(.*)\]$/.exec(field.Name);
      reasons.add(env ? `env: ${env[1]}` : `task: ${field.Name}`);
    }
  }
  for (const field of changed(group.Fields)) if (field.Name.startsWith('Meta[')) reasons.add(`group: ${field.Name}`);
  for (const object of changed(group.Objects))
    if (object.Name !== 'Update' && object.Name !== 'Service') reasons.add(`group: ${object.Name}`);
  // The job's meta is part of every task's (under the group's): a change to it replaces the allocations.
  for (const name of jobMeta) reasons.add(`job: ${name}`);
  if (reasons.size === 0) reasons.add('task group changed');
  return [...reasons];
}

/** The Loki config a job's tasks run: the YAML of the config template, consul-template actions left out. */
function lokiConfigOf(job: FullJob): Record<string, unknown> {
  const template = (job.TaskGroups ?? [])
    .flatMap((group) => group.Tasks ?? [])
    .flatMap((task) => task.Templates ?? [])
    .find((candidate) => candidate.DestPath === TASK_PATHS.configFile);
  if (!template?.EmbeddedTmpl) return {};
  const yaml = template.EmbeddedTmpl.split('\n')
    .filter((line) => !/^\s*\{\{-?[^}]*\}\}\s*$/.test(line))
    .join('\n')
    .replace(/\{\{-?[^}]*\}\}/g, '');
  try {
    const config: unknown = parse(yaml);
    return typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const ingestersOf = (job: FullJob) => job.TaskGroups?.find((group) => group.Name === 'ingester')?.Count ?? 0;
