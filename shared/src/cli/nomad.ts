// `--target nomad` for render, apply, status and destroy: the same spec as a Nomad job, sent through
// Nomad's HTTP API. Address and token as the nomad CLI reads them (NOMAD_ADDR, NOMAD_TOKEN) or options.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { StackPlan } from '../stack/plan-model.js';
import type { StackStatus } from '../stack/status-model.js';
import { NomadApiError, NomadClient } from '../nomad/ops/client.js';
import {
  applyNomadJob,
  NomadWaveFailedError,
  type NomadApplyResult,
  type NomadRollout,
  type NomadWaveResult,
} from '../nomad/ops/apply.js';
import { destroyNomadJob } from '../nomad/ops/destroy.js';
import { planNomadJob } from '../nomad/ops/plan.js';
import { getNomadStatus, NomadJobNotFoundError, type NomadStackRef } from '../nomad/ops/status.js';
import { NomadNotReadyError, waitForNomadJob } from '../nomad/ops/wait.js';
import { renderNomad } from '../nomad/render/index.js';
import type { LokiStack } from '../spec/schema.js';
import { describePreflight } from '../stack/upgrade.js';
import { UsageError, type CliIo } from './io.js';
import type { Options } from './options.js';
import { formatEndpoints, formatStatus } from './format-status.js';

export const TARGET_OPTION = {
  target: { type: 'string', short: 't', default: 'kubernetes' },
} as const satisfies Options;

export const NOMAD_OPTIONS = {
  'nomad-addr': { type: 'string' },
  'nomad-token': { type: 'string' },
  'nomad-region': { type: 'string' },
} as const satisfies Options;

export const TARGET_HELP = `  -t, --target TARGET    kubernetes (default) or nomad`;

export const NOMAD_HELP = `      --nomad-addr URL   Nomad HTTP API (target nomad). Default: $NOMAD_ADDR, then http://127.0.0.1:4646
      --nomad-token TOKEN  ACL token (target nomad). Default: $NOMAD_TOKEN (preferred: options show in ps)
      --nomad-region NAME  Nomad region (target nomad). Default: $NOMAD_REGION, then the agent's`;

export type Target = 'kubernetes' | 'nomad';

export function parseTarget(text: string | undefined): Target {
  if (text === undefined || text === 'kubernetes' || text === 'nomad') return text ?? 'kubernetes';
  throw new UsageError(`--target must be kubernetes or nomad, not "${text}"`);
}

type NomadValues = { 'nomad-addr'?: string; 'nomad-token'?: string; 'nomad-region'?: string };

/** Nomad options given with the Kubernetes target are a mistake worth saying. */
export function rejectNomadOptions(values: NomadValues): void {
  const given = Object.keys(NOMAD_OPTIONS).filter((option) => values[option as keyof NomadValues] !== undefined);
  if (given.length > 0) throw new UsageError(`--${given[0]} needs --target nomad`);
}

/** Kubernetes-only options given with --target nomad are a mistake worth saying, too. */
export function rejectKubernetesOptions(values: Record<string, unknown>, options: string[]): void {
  const given = ['kubeconfig', 'context', ...options].find(
    (option) => values[option] !== undefined && values[option] !== false,
  );
  if (given) throw new UsageError(`--${given} is not available with --target nomad`);
}

function clientFrom(values: NomadValues): NomadClient {
  try {
    return new NomadClient({
      ...(values['nomad-addr'] ? { address: values['nomad-addr'] } : {}),
      ...(values['nomad-token'] ? { token: values['nomad-token'] } : {}),
      ...(values['nomad-region'] ? { region: values['nomad-region'] } : {}),
    });
  } catch (error) {
    if (error instanceof NomadApiError) throw new UsageError(error.message);
    throw error;
  }
}

const refOf = (stack: LokiStack): NomadStackRef => ({
  name: stack.metadata.name,
  namespace: stack.spec.nomad.namespace,
});

export async function renderNomadFiles(stack: LokiStack, outputDir: string | undefined, io: CliIo): Promise<number> {
  const rendered = renderNomad(stack);
  if (!outputDir) {
    io.stdout(rendered.hcl);
    return 0;
  }
  const directory = resolve(io.cwd, outputDir);
  await mkdir(directory, { recursive: true });
  const files = [`${rendered.id}.nomad.hcl`, 'prometheus-scrape.yaml'];
  await writeFile(join(directory, files[0]!), rendered.hcl);
  await writeFile(join(directory, files[1]!), rendered.scrapeConfig);
  io.stderr(`wrote ${files.join(' and ')} to ${directory}\n`);
  return 0;
}

/** What registering the job would change, as Nomad plans it. */
export function planOnNomad(stack: LokiStack, values: NomadValues): Promise<StackPlan> {
  return planNomadJob(clientFrom(values), stack);
}

interface NomadApplyOutput {
  /** Absent when a rollout in waves stopped at a failing wave. */
  apply?: NomadApplyResult;
  status?: StackStatus;
  /** A rollout in waves that stopped: the waves registered, the last one failed. */
  rollout?: NomadRollout;
}

const describeNomadWave = (wave: NomadWaveResult) =>
  `wave ${wave.number}/${wave.total} ${wave.groups.join(', ')}: ${wave.result === 'unchanged' ? 'unchanged' : `job version ${wave.version} ${wave.result}`} in ${(wave.durationMs / 1000).toFixed(1)}s`;

export async function applyToNomad(
  stack: LokiStack,
  values: NomadValues & {
    wait?: boolean;
    timeoutMs: number;
    json: boolean;
    allowNearSchema?: boolean;
    allowDowngrade?: boolean;
    allowSkip?: boolean;
    /** Roll out in waves for any change. */
    waves?: boolean;
    /** Register the job once, even for a new spec.version. */
    'all-at-once'?: boolean;
    file?: string;
    set?: string[];
  },
  io: CliIo,
): Promise<number> {
  const client = clientFrom(values);
  const ref = refOf(stack);
  io.stderr(`registering Nomad job ${ref.namespace}/${ref.name} at ${client.address}\n`);
  const output: NomadApplyOutput = {};
  const print = () => io.stdout(values.json ? `${JSON.stringify(output, null, 2)}\n` : applyText(output, ref));
  const rollbackCommand = `loki-microservices apply --target nomad${values.file && values.file !== '-' ? ` -f ${values.file}` : ''}${(
    values.set ?? []
  )
    .filter((set) => !set.startsWith('spec.version='))
    .map((set) => ` --set ${set}`)
    .join('')}`;
  try {
    output.apply = await applyNomadJob(client, stack, {
      allowSchemaWithin24h: values.allowNearSchema,
      allowDowngrade: values.allowDowngrade,
      allowSkip: values.allowSkip,
      onUpgrade: (check) => io.stderr(`${describePreflight(check).join('\n')}\n`),
      waves: values['all-at-once'] ? 'never' : values.waves ? 'always' : 'upgrade',
      wait: { timeoutMs: values.timeoutMs, onProgress: (line) => io.stderr(`  ${line}\n`) },
      rollbackCommand,
      onWave: (wave) => {
        io.stderr(`wave ${wave.number}/${wave.total}: ${wave.groups.join(', ')}, waiting until it is ready\n`);
        return (result) => io.stderr(`${describeNomadWave(result)}\n`);
      },
    });
  } catch (error) {
    if (!(error instanceof NomadWaveFailedError)) throw error;
    Object.assign(output, { status: error.status, rollout: error.rollout });
    print();
    io.stderr(`error: ${error.message}\n`);
    return 3;
  }
  const applied = output.apply;
  io.stderr(`  overrides variable nomad/jobs/${applied.jobId} ${applied.runtime}\n`);
  io.stderr(`  job ${applied.jobId} ${applied.action} (version ${applied.version})\n`);
  if (applied.status) output.status = applied.status;
  if (values.wait) {
    io.stderr('waiting until every group is running and healthy\n');
    try {
      output.status = await waitForNomadJob(client, ref, {
        timeoutMs: values.timeoutMs,
        onProgress: (line) => io.stderr(`  ${line}\n`),
      });
    } catch (error) {
      if (!(error instanceof NomadNotReadyError)) throw error;
      output.status = error.status;
      print();
      io.stderr(`error: ${error.message}\n`);
      return 3;
    }
  }
  print();
  return 0;
}

function applyText({ apply, status, rollout }: NomadApplyOutput, ref: NomadStackRef): string {
  const lines = apply
    ? [
        `Nomad job ${apply.namespace}/${apply.jobId}: ${apply.action}, version ${apply.version}, evaluation ${apply.evalId}`,
        `Overrides (Nomad Variable nomad/jobs/${apply.jobId}, item runtime.yaml): ${apply.runtime}`,
      ]
    : [`Nomad job ${ref.namespace}/${ref.name}: the rollout in waves stopped`];
  const waves = apply?.rollout ?? rollout;
  if (waves)
    lines.push(
      `rolled out in waves from Loki ${waves.from ?? 'unknown'} to ${waves.to}:`,
      ...waves.waves.map((wave) => `  ${describeNomadWave(wave)}`),
    );
  if (status) lines.push(`${status.condition.type}: ${status.condition.message}`, ...formatEndpoints(status));
  return `${lines.join('\n')}\n`;
}

export async function nomadStatus(
  stack: LokiStack,
  values: NomadValues,
  format: 'table' | 'json' | 'yaml',
  io: CliIo,
): Promise<number> {
  let status: StackStatus;
  try {
    status = await getNomadStatus(clientFrom(values), refOf(stack));
  } catch (error) {
    if (!(error instanceof NomadJobNotFoundError)) throw error;
    io.stderr(`${error.message}\n`);
    return 3;
  }
  io.stdout(
    format === 'json'
      ? `${JSON.stringify(status, null, 2)}\n`
      : format === 'yaml'
        ? stringify(status)
        : formatStatus(status, Date.now()),
  );
  return status.condition.type === 'Ready' ? 0 : 3;
}

export async function destroyOnNomad(
  stack: LokiStack,
  values: NomadValues & { purge?: boolean; json: boolean },
  io: CliIo,
): Promise<number> {
  const client = clientFrom(values);
  const ref = refOf(stack);
  io.stderr(`stopping Nomad job ${ref.namespace}/${ref.name} at ${client.address}\n`);
  const result = await destroyNomadJob(client, ref, { purge: values.purge === true });
  if (values.json) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const what = result.stopped
    ? `stopped${result.purged ? ` and purged${result.runtimeRemoved ? ', overrides variable removed' : ''}` : ''}`
    : 'nothing to stop';
  io.stdout(`Nomad job ${ref.namespace}/${ref.name}: ${what}; CSI volumes are never deleted\n`);
  return 0;
}
