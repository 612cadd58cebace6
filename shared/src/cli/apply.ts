import { actionCounts, describeAdoption, describeGeneratedSecret, type ApplyResult } from '../kubernetes/ops/apply.js';
import { describeRecreation } from '../kubernetes/ops/recreate.js';
import {
  deployStack,
  describeTimeline,
  describeWave,
  type DeployResult,
  type DeployTimeline,
} from '../kubernetes/ops/deploy.js';
import { CLI_OPTION_NAMES } from '../kubernetes/ops/option-names.js';
import { describeRules, RulesNotLoadedError, type RulesReport } from '../kubernetes/ops/rules-check.js';
import { smokePassed, SmokeTestError, type SmokeResult } from '../kubernetes/ops/smoke.js';
import type { StackStatus } from '../stack/status-model.js';
import { NotReadyError } from '../kubernetes/ops/wait.js';
import { UpgradeNotReadyError } from '../kubernetes/ops/preflight.js';
import { describePreflight } from '../stack/upgrade.js';
import { UsageError, type CliIo, type Command } from './io.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import {
  applyToNomad,
  NOMAD_HELP,
  NOMAD_OPTIONS,
  parseTarget,
  rejectKubernetesOptions,
  rejectNomadOptions,
  TARGET_HELP,
  TARGET_OPTION,
} from './nomad.js';
import { loadStack, parseCommandLine, parseDuration, parseFormat, SPEC_HELP, SPEC_OPTIONS } from './options.js';
import { formatEndpoints } from './format-status.js';
import { deployProgress } from './deploy-progress.js';

const HELP = `Usage: loki-microservices apply [-f spec.yaml] [--set path=value ...] [--wait [--smoke]] [options]

Apply a Loki stack to the cluster by server-side apply (field manager loki-microservices), phase by phase,
then prune the objects of this stack that the spec no longer renders. Applying again changes nothing.
With --target nomad: Nomad parses the job and registers it (nomad job run); --wait until every group's
allocations are running and healthy.

Options:
${SPEC_HELP}
${TARGET_HELP}
${CLUSTER_HELP}
${NOMAD_HELP}
      --wait             Wait until every component is ready; on failure, print why
      --smoke            Then push a log line and read it back (implies --wait)
      --timeout DURATION How long apply, --wait and --smoke may take together, retries of an unreachable
                         API server included (default 10m)
      --waves            Roll the workloads out in waves for any change, not only a new spec.version
      --all-at-once      Roll every workload at once, even for a new spec.version. By default a new
                         spec.version rolls in waves, servers before clients (compactor, index-gateway,
                         ingester, pattern-ingester, query-scheduler, querier, query-frontend, ruler,
                         distributor, gateway),
                         each ready before the next is changed; a wave that fails stops the rollout.
                         With spec.zoneAwareness every change rolls in waves, one ingester zone each
      --verify-each-wave Smoke-test the stack after each wave
      --dry-run          Server-side dry run: the API server checks everything, nothing is stored
      --force-conflicts  Take over fields that another field manager owns
      --adopt            Make existing objects of the stack's names that this tool did not create (e.g. a
                         ServiceAccount made with kubectl) part of the stack; without it, apply refuses them
      --allow-near-schema
                         Accept a new schema period that starts in less than 24 h (every Loki pod
                         restarts now and must be done before it starts); see "schema next"
      --no-prune         Keep objects of this stack that the spec no longer renders
      --prune-volumes    Also prune PersistentVolumeClaims the spec no longer renders (their data is lost)
      --recreate-statefulsets
                         Make a StatefulSet change Kubernetes refuses in place (volume size…): delete the
                         StatefulSet leaving its pods running and create it again; a larger volume size also
                         expands each claim, if its StorageClass allows expansion (checked first)
      --migrate-zones    Replace the running ingester StatefulSets (spec.zoneAwareness switched on or off,
                         zones renamed): the new ones are created in waves; last, the old ingesters stop
                         one at a time (each flushes and leaves the ring) and their StatefulSets are
                         pruned; without it, apply refuses the change
      --allow-downgrade  Accept a spec.version of an older minor than the running Loki's
      --allow-skip       Accept a spec.version more than one minor newer than the running Loki's
  -o, --output FORMAT    text (default) or json, on standard output
  -h, --help             Show this help

Progress goes to standard error, the result to standard output.
Exit codes: 0 applied (and ready), 2 invalid spec or usage, 3 not ready, a declared rule group not loaded or failing,
or smoke test failed, 1 other error.
A new spec.version is checked before anything is sent: a refused version change (a downgrade, a skipped
minor, a key the new minor lacks) exits 2, a stack not fit for it (a failing pod, an ingester not ACTIVE) 3.
`;

interface ApplyOutput {
  /** Absent when a rollout in waves stopped before the apply was over. */
  apply?: ApplyResult;
  status?: StackStatus;
  smoke?: SmokeResult;
  /** With declared rules: the rule groups the ruler loaded, and those it did not. */
  rules?: RulesReport;
  /** Where the time went, from the process's start (with --wait or --smoke, or a rollout in waves). */
  timeline?: DeployTimeline;
  /** A rollout in waves: from which Loki version to which (the waves are in the timeline). */
  rollout?: DeployResult['rollout'];
}

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...TARGET_OPTION,
    ...CLUSTER_OPTIONS,
    ...NOMAD_OPTIONS,
    wait: { type: 'boolean' },
    smoke: { type: 'boolean' },
    timeout: { type: 'string', default: '10m' },
    'dry-run': { type: 'boolean' },
    'force-conflicts': { type: 'boolean' },
    adopt: { type: 'boolean' },
    'allow-near-schema': { type: 'boolean' },
    'no-prune': { type: 'boolean' },
    'prune-volumes': { type: 'boolean' },
    'recreate-statefulsets': { type: 'boolean' },
    'migrate-zones': { type: 'boolean' },
    'allow-downgrade': { type: 'boolean' },
    'allow-skip': { type: 'boolean' },
    waves: { type: 'boolean' },
    'all-at-once': { type: 'boolean' },
    'verify-each-wave': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['text', 'json'], 'text');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const wait = values.wait || values.smoke;
  if (values['dry-run'] && wait)
    throw new UsageError('--wait and --smoke need a real apply: drop --dry-run, or drop them');
  if (values['no-prune'] && values['prune-volumes'])
    throw new UsageError('--prune-volumes contradicts --no-prune: choose one');
  if (values.waves && values['all-at-once']) throw new UsageError('--waves contradicts --all-at-once: choose one');
  if (values['migrate-zones'] && values['all-at-once'])
    throw new UsageError('--migrate-zones rolls in waves (the old ingesters go last): drop --all-at-once');
  if (values['verify-each-wave'] && values['all-at-once'])
    throw new UsageError('--verify-each-wave needs waves: drop --all-at-once');
  if (values['dry-run'] && (values.waves || values['verify-each-wave']))
    throw new UsageError('--waves and --verify-each-wave need a real apply: drop --dry-run, or drop them');
  const target = parseTarget(values.target);
  if (target === 'kubernetes') rejectNomadOptions(values);
  else
    rejectKubernetesOptions(values, [
      'smoke',
      'dry-run',
      'force-conflicts',
      'adopt',
      'no-prune',
      'prune-volumes',
      'recreate-statefulsets',
      'migrate-zones',
      'verify-each-wave',
    ]);
  const stack = await loadStack(values, io);
  if (target === 'nomad')
    return applyToNomad(
      stack,
      {
        ...values,
        timeoutMs,
        json: format === 'json',
        allowNearSchema: values['allow-near-schema'],
        allowDowngrade: values['allow-downgrade'],
        allowSkip: values['allow-skip'],
      },
      io,
    );
  const connection = connectFrom(values, io);
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  io.stderr(
    `applying stack ${ref.namespace}/${ref.name} to ${connection.server}${values['dry-run'] ? ' (server-side dry run)' : ''}\n`,
  );
  const output = {} as ApplyOutput;
  const print = () => io.stdout(format === 'json' ? `${JSON.stringify(output, null, 2)}\n` : textOf(output, ref));
  try {
    const deployed = await deployStack(connection, stack, {
      startedAt: performance.timeOrigin,
      dryRun: values['dry-run'],
      forceConflicts: values['force-conflicts'],
      adopt: values.adopt,
      allowSchemaWithin24h: values['allow-near-schema'],
      prune: !values['no-prune'],
      pruneVolumes: values['prune-volumes'],
      recreateStatefulSets: values['recreate-statefulsets'],
      migrateZones: values['migrate-zones'],
      allowDowngrade: values['allow-downgrade'],
      allowSkip: values['allow-skip'],
      onUpgrade: (check) => io.stderr(`${describePreflight(check).join('\n')}\n`),
      timeoutMs,
      wait,
      smoke: values.smoke,
      waves: values['all-at-once'] ? 'never' : values.waves ? 'always' : 'upgrade',
      verifyEachWave: values['verify-each-wave'],
      optionNames: {
        ...CLI_OPTION_NAMES,
        applyCommand: `loki-microservices apply${values.file && values.file !== '-' ? ` -f ${values.file}` : ''}${(
          values.set ?? []
        )
          .filter((set) => !set.startsWith('spec.version='))
          .map((set) => ` --set ${set}`)
          .join('')}`,
      },
      ...deployProgress(io, stack),
      onApplied: (applied) => (output.apply = applied),
    });
    Object.assign(output, {
      status: deployed.status,
      rules: deployed.rules,
      smoke: deployed.smoke,
      rollout: deployed.rollout,
    });
    if (wait || deployed.rollout) output.timeline = deployed.timeline;
  } catch (error) {
    // Refused before anything was sent: there is no result to print.
    if (error instanceof UpgradeNotReadyError) {
      io.stderr(`error: ${error.message}\n`);
      return 3;
    }
    if (!(error instanceof NotReadyError || error instanceof SmokeTestError || error instanceof RulesNotLoadedError))
      throw error;
    if (error instanceof NotReadyError) output.status = error.status;
    if (error instanceof RulesNotLoadedError) output.rules = error.report;
    print();
    io.stderr(`error: ${error.message}\n`);
    return 3;
  }
  print();
  return 0;
}

function textOf(output: ApplyOutput, ref: { name: string; namespace: string }): string {
  const { apply, status, smoke } = output;
  const lines: string[] = [];
  // A rollout that stopped at a wave never got to the end of the apply.
  if (apply) {
    const counts = Object.entries(actionCounts(apply)).map(([action, count]) => `${count} ${action}`);
    lines.push(
      `stack ${ref.namespace}/${ref.name}${apply.dryRun ? ' (dry run, nothing stored)' : ''}: ${apply.objects.length} objects, ${counts.join(', ')}`,
    );
    lines.push(...apply.adopted.map(describeAdoption));
    lines.push(...apply.secrets.map(describeGeneratedSecret));
    lines.push(...(apply.recreated ?? []).map(describeRecreation));
  }
  if (apply?.dryRun && apply.namespaceCreated) {
    lines.push(
      `namespace ${ref.namespace} does not exist yet: the API server checked the Namespace only; the other objects were not sent, as a dry run cannot create the namespace they need`,
    );
  }
  if (output.rollout)
    lines.push(
      `rolled out in waves from Loki ${output.rollout.from ?? 'unknown'} to ${output.rollout.to}:`,
      ...(output.timeline?.waves ?? []).map((wave) => `  ${describeWave(wave)}`),
    );
  if (status) lines.push(`${status.condition.type}: ${status.condition.message}`, ...formatEndpoints(status));
  if (output.rules) lines.push(describeRules(output.rules));
  if (smoke) lines.push(smokePassed(smoke));
  if (output.timeline) lines.push(describeTimeline(output.timeline, !!smoke));
  return `${lines.join('\n')}\n`;
}

export const command: Command = { help: HELP, run };
