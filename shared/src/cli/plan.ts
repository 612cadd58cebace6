import { until } from '../kubernetes/ops/retry.js';
import { planStack } from '../kubernetes/ops/plan.js';
import { formatPlanMarkdown, formatPlanText } from '../stack/plan-format.js';
import type { StackPlan } from '../stack/plan-model.js';
import type { CliIo, Command } from './io.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import {
  NOMAD_HELP,
  NOMAD_OPTIONS,
  parseTarget,
  planOnNomad,
  rejectKubernetesOptions,
  rejectNomadOptions,
  TARGET_HELP,
  TARGET_OPTION,
} from './nomad.js';
import { loadStack, parseCommandLine, parseDuration, parseFormat, SPEC_HELP, SPEC_OPTIONS } from './options.js';

/** `--detailed-exitcode`: the plan has changes (Terraform's 2 is taken by invalid input here). */
export const CHANGES_EXIT_CODE = 4;

const HELP = `Usage: loki-microservices plan [-f spec.yaml] [--set path=value ...] [-o text|json|markdown] [options]

Show what apply would change, in Loki's terms, without changing anything: every object apply would create,
prune, keep, change in place or change so that its pods roll (which components, how many pods, and why:
the Loki config keys that changed, the image, resources, certificates), updates the platform refuses
(immutable StatefulSet fields) and Loki-level warnings (schema, replication factor, object store, ingesters
scaled down, retention shortened, multi-tenancy toggled).
On Kubernetes each object is sent as a server-side dry run with the field manager loki-microservices;
with --target nomad, Nomad plans the job (nomad job plan).

Options:
${SPEC_HELP}
${TARGET_HELP}
${CLUSTER_HELP}
${NOMAD_HELP}
      --timeout DURATION Give up after this long, retries of an unreachable API server included (default 2m)
      --adopt            Plan as apply --adopt would (objects of the stack's names this tool did not create)
      --force-conflicts  Plan as apply --force-conflicts would
      --prune-volumes    Plan as apply --prune-volumes would (volumes the spec no longer renders are deleted)
      --recreate-statefulsets
                         Plan as apply --recreate-statefulsets would (StatefulSets recreated, claims expanded)
      --migrate-zones    Plan as apply --migrate-zones would (the running ingester StatefulSets replaced)
      --detailed-exitcode  Exit ${CHANGES_EXIT_CODE} when there are changes
  -o, --output FORMAT    text (default), json (a StackPlan, apiVersion loki-microservices/v1alpha1) or
                         markdown (for a job summary or a pull-request comment)
  -h, --help             Show this help

Exit codes: 0 planned (no changes, or changes without --detailed-exitcode), ${CHANGES_EXIT_CODE} changes (with
--detailed-exitcode), 2 invalid spec or usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...TARGET_OPTION,
    ...CLUSTER_OPTIONS,
    ...NOMAD_OPTIONS,
    timeout: { type: 'string', default: '2m' },
    adopt: { type: 'boolean' },
    'force-conflicts': { type: 'boolean' },
    'prune-volumes': { type: 'boolean' },
    'recreate-statefulsets': { type: 'boolean' },
    'migrate-zones': { type: 'boolean' },
    'detailed-exitcode': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['text', 'json', 'markdown'], 'text');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const target = parseTarget(values.target);
  if (target === 'kubernetes') rejectNomadOptions(values);
  else
    rejectKubernetesOptions(values, [
      'adopt',
      'force-conflicts',
      'prune-volumes',
      'recreate-statefulsets',
      'migrate-zones',
    ]);
  const stack = await loadStack(values, io);
  let plan: StackPlan;
  if (target === 'nomad') plan = await planOnNomad(stack, values);
  else {
    const connection = connectFrom(values, io);
    io.stderr(`planning stack ${stack.metadata.namespace}/${stack.metadata.name} on ${connection.server}\n`);
    plan = await planStack(connection, stack, {
      adopt: values.adopt,
      forceConflicts: values['force-conflicts'],
      pruneVolumes: values['prune-volumes'],
      recreateStatefulSets: values['recreate-statefulsets'],
      migrateZones: values['migrate-zones'],
      retry: until(Date.now() + timeoutMs),
    });
  }
  io.stdout(
    format === 'json'
      ? `${JSON.stringify(plan, null, 2)}\n`
      : format === 'markdown'
        ? formatPlanMarkdown(plan)
        : formatPlanText(plan),
  );
  return values['detailed-exitcode'] && plan.hasChanges ? CHANGES_EXIT_CODE : 0;
}

export const command: Command = { help: HELP, run };
