// One deploy, whoever asks for it (the CLI's apply --wait --smoke, the Action's deploy, the scaffolder's
// loki:stack:deploy): apply; then, within the same deadline, wait until every component is ready and push and
// read back a test line. The CLI and the Action do it all under the stack's lock; the scaffolder applies in a
// checkpoint of its own and verifies after it.
import type { LokiStack } from '../../spec/schema.js';
import { actionCounts, applyStack, type AppliedWave, type ApplyOptions, type ApplyResult } from './apply.js';
import type { Connection } from './connection.js';
import { preflightUpgrade, type PreflightOptions } from './preflight.js';
import { checkRules, describeRules, type RulesReport } from './rules-check.js';
import { declaresRules } from '../../stack/rule-files.js';
import { waveName } from '../../stack/waves.js';
import { until } from './retry.js';
import { smokeOptionsOf, smokeTest, type SmokeResult } from './smoke.js';
import type { StackStatus } from '../../stack/status-model.js';
import { NotReadyError, waitForStack } from './wait.js';
import { CLI_OPTION_NAMES } from './option-names.js';
import { SmokeTestError } from './smoke.js';

/** However much of the deadline the wait used, the smoke test gets this long: a push and a query take their time. */
export const SMOKE_MIN_MS = 30_000;
/** From the moment the wait says ready, Loki usually takes well under a second: look again soon, not in a second. */
const SMOKE_INTERVAL_MS = 250;
/** The wait always looks at least once. */
const WAIT_MIN_MS = 1000;

export type DeployPhase = 'apply' | 'wait' | 'rules' | 'smoke test';

/** Told as a phase begins; the function it returns is told how the phase ended: its summary, or undefined when it failed. */
export type PhaseListener = (phase: DeployPhase) => ((summary: string | undefined) => void) | void;

export interface VerifyOptions {
  /** Wait until every component is ready (a NotReadyError with a diagnosis if it does not get there in time). */
  wait?: boolean;
  /** After the wait, check that the ruler loaded every declared rule group (a RulesNotLoadedError if not). @default true */
  rules?: boolean;
  /** Then push a log line and read it back (a SmokeTestError if it cannot); implies `wait`. */
  smoke?: boolean;
  /** When the whole deploy must be over (a Date.now() value). */
  deadline: number;
  signal?: AbortSignal;
  /** Told when a component's ready count changes, e.g. "ingester 2/3 ready". */
  onProgress?: (line: string) => void;
  onPhase?: PhaseListener;
}

export interface Verified {
  /** The status the wait ended with. */
  status?: StackStatus;
  /** When the last pod became ready, by the cluster's clock (epoch ms, whole seconds). */
  readyAt?: number;
  smoke?: SmokeResult;
  /** With declared rules: the ruler's account of them after the wait. */
  rules?: RulesReport;
}

/** Runs `work` as `phase`, telling `onPhase` when it begins and how it ends. */
export async function inPhase<P extends string, T>(
  phase: P,
  onPhase: ((phase: P) => ((summary: string | undefined) => void) | void) | undefined,
  work: () => Promise<T>,
  summary: (value: T) => string,
): Promise<T> {
  const end = onPhase?.(phase);
  try {
    const value = await work();
    end?.(summary(value));
    return value;
  } catch (error) {
    end?.(undefined);
    throw error;
  }
}

/** The wait and the smoke test of an applied stack, as asked. */
export async function verifyStack(connection: Connection, stack: LokiStack, options: VerifyOptions): Promise<Verified> {
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  const verified: Verified = {};
  if (options.wait || options.smoke) {
    options.signal?.throwIfAborted();
    const waited = await inPhase(
      'wait',
      options.onPhase,
      () =>
        waitForStack(connection, ref, {
          timeoutMs: Math.max(options.deadline - Date.now(), WAIT_MIN_MS),
          signal: options.signal,
          onProgress: options.onProgress,
        }),
      ({ status }) => status.condition.message,
    );
    verified.status = waited.status;
    if (waited.readyAt) verified.readyAt = waited.readyAt;
    if (declaresRules(stack) && options.rules !== false)
      verified.rules = await inPhase(
        'rules',
        options.onPhase,
        () => checkRules(connection, stack, { deadline: Math.max(options.deadline, Date.now() + WAIT_MIN_MS) }),
        describeRules,
      );
  }
  if (options.smoke) {
    options.signal?.throwIfAborted();
    verified.smoke = await inPhase(
      'smoke test',
      options.onPhase,
      () =>
        smokeTest(connection, ref, {
          timeoutMs: Math.max(options.deadline - Date.now(), SMOKE_MIN_MS),
          intervalMs: SMOKE_INTERVAL_MS,
          ...smokeOptionsOf(stack),
        }),
      (smoke) =>
        `passed${smoke.through === 'gateway' ? ' through the gateway' : ''}: the line was read back ${smoke.latencyMs} ms after its push`,
    );
  }
  return verified;
}

export interface DeployOptions
  extends
    Omit<ApplyOptions, 'retry' | 'thenWhileLocked' | 'waves' | 'checkFirst'>,
    Omit<VerifyOptions, 'deadline'>,
    PreflightOptions {
  /**
   * Roll the workloads out in waves, servers before clients (waves.ts), each wave waited for before the next:
   * `upgrade` when spec.version differs from the live workloads' version, `always` for any change, `never` all at
   * once. A wave that does not get ready stops the rollout (a NotReadyError naming the wave and the way back).
   * With spec.zoneAwareness, `upgrade` acts as `always`: the ingesters roll one zone at a time.
   * @default 'upgrade'
   */
  waves?: 'upgrade' | 'always' | 'never';
  /** Smoke-test the stack after each wave too (a SmokeTestError stops the rollout). */
  verifyEachWave?: boolean;
  /** Told as a wave begins ("wave 3/9: ingester") and how it ended. */
  onWave?: (wave: AppliedWave) => ((timing: WaveTiming | undefined) => void) | void;
  /** How long the apply, the wait and the smoke test may take together. */
  timeoutMs: number;
  /** Told of the apply's result as soon as it is done, before the wait. */
  onApplied?: (result: ApplyResult) => void;
  /** Where the timeline starts (a Date.now() value): the process's start, for a tool that wants its start-up counted. */
  startedAt?: number;
}

export interface DeployResult extends Verified {
  apply: ApplyResult;
  timeline: DeployTimeline;
  /** When the change rolled out in waves: from which Loki version (null: unknown) to which. */
  rollout?: { from: string | null; to: string };
}

/** One wave of a rollout: its components, when its workloads were applied and when the stack was ready again. */
export interface WaveTiming {
  number: number;
  /** How many waves the rollout has. */
  of: number;
  components: string[];
  /** The zone of a zone-aware ingester's wave. */
  zone?: string;
  /** ISO times: the wave's workloads applied, and every pod ready again (as the wait saw it). */
  startedAt: string;
  readyAt: string;
  durationMs: number;
  /** Whether the wave changed its workloads (an unchanged wave is only checked). */
  changed: boolean;
}

/**
 * Where the time to a queryable stack went: the cluster's share (pods starting, by the kubelet's clock, and Loki's
 * own push-to-read latency) and the tool's (its start-up, its requests, noticing the pods, the smoke test's own
 * requests). Milliseconds; the cluster's clock counts whole seconds.
 */
export interface DeployTimeline {
  /** From `startedAt` to the end of the deploy (with the smoke test: the first successful query). */
  totalMs: number;
  /** From `startedAt` to the end of the apply. */
  appliedMs: number;
  /** From the end of the apply to the last pod becoming ready. */
  podsMs?: number;
  /** From the last pod becoming ready to the wait seeing it. */
  noticedMs?: number;
  /** The smoke test's push-to-read latency. */
  readBackMs?: number;
  /** The waves of a rollout in waves, in order (the apply's share includes them). */
  waves?: WaveTiming[];
  /** Everything but the pods and Loki's read-back: the tool's own share. */
  toolMs: number;
}

/** The timeline of a deploy from its moments (Date.now() values) and what the wait and the smoke test saw. */
export function deployTimeline(
  moments: { startedAt: number; appliedAt: number; endedAt: number },
  verified: Verified,
): DeployTimeline {
  const { startedAt, appliedAt, endedAt } = moments;
  const podsMs = verified.readyAt ? Math.max(verified.readyAt - appliedAt, 0) : undefined;
  const readBackMs = verified.smoke?.latencyMs;
  const totalMs = endedAt - startedAt;
  return {
    totalMs,
    appliedMs: appliedAt - startedAt,
    ...(podsMs !== undefined
      ? { podsMs, noticedMs: Math.max(endedAt - appliedAt - podsMs - (verified.smoke?.durationMs ?? 0), 0) }
      : {}),
    ...(readBackMs !== undefined ? { readBackMs } : {}),
    toolMs: Math.max(totalMs - (podsMs ?? 0) - (readBackMs ?? 0), 0),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** "queryable 41.2 s after the start: pods starting 36 s, Loki's read-back 0.8 s; this tool 4.4 s (11 %)". */
export function describeTimeline(timeline: DeployTimeline, queried: boolean): string {
  const cluster = [
    ...(timeline.podsMs !== undefined ? [`pods starting ${seconds(timeline.podsMs)}`] : []),
    ...(timeline.readBackMs !== undefined ? [`Loki's read-back ${seconds(timeline.readBackMs)}`] : []),
  ];
  const share = timeline.totalMs > 0 ? Math.round((100 * timeline.toolMs) / timeline.totalMs) : 0;
  return `${queried ? 'queryable' : 'ready'} ${seconds(timeline.totalMs)} after the start: ${cluster.length > 0 ? `${cluster.join(', ')}; ` : ''}this tool ${seconds(timeline.toolMs)} (${share} %)`;
}

/** Applies the stack, then, still holding its lock, waits and smoke-tests as asked: nothing else changes it meanwhile. */
export async function deployStack(
  connection: Connection,
  stack: LokiStack,
  options: DeployOptions,
): Promise<DeployResult> {
  const startedAt = options.startedAt ?? Date.now();
  const deadline = Date.now() + options.timeoutMs;
  const endApply = options.onPhase?.('apply');
  let applied = false;
  let deployed: DeployResult | undefined;
  const waves: WaveTiming[] = [];
  let rollout: DeployResult['rollout'];
  const waveMode = options.waves ?? 'upgrade';
  try {
    await applyStack(connection, stack, {
      ...options,
      retry: until(deadline),
      // A change of Loki version is checked before anything is sent (reads only, no lock), in apply's first round.
      checkFirst: () => preflightUpgrade(connection, stack, { ...options, retry: until(deadline) }),
      waves:
        waveMode === 'never'
          ? undefined
          : {
              when: waveMode,
              afterWave: async (wave) => {
                rollout = { from: wave.from, to: wave.to };
                const timing = await rollWave(connection, stack, wave, { ...options, deadline });
                waves.push(timing);
              },
            },
      thenWhileLocked: async (apply) => {
        applied = true;
        options.onApplied?.(apply);
        endApply?.(summarizeApply(apply));
        const appliedAt = Date.now();
        const verified = await verifyStack(connection, stack, { ...options, deadline });
        const timeline = deployTimeline({ startedAt, appliedAt, endedAt: Date.now() }, verified);
        deployed = {
          apply,
          ...verified,
          timeline: waves.length > 0 ? { ...timeline, waves } : timeline,
          ...(rollout ? { rollout } : {}),
        };
      },
    });
  } catch (error) {
    if (!applied) endApply?.(undefined);
    throw error;
  }
  return deployed!;
}

/**
 * One wave of a rollout, its workloads applied: wait until the stack is ready again (and smoke-test it, if asked);
 * on failure, the error names the wave, says the later waves were left alone, and how to roll back.
 */
async function rollWave(
  connection: Connection,
  stack: LokiStack,
  wave: AppliedWave,
  options: DeployOptions & { deadline: number },
): Promise<WaveTiming> {
  const started = new Date();
  const end = options.onWave?.(wave);
  try {
    await verifyStack(connection, stack, {
      deadline: options.deadline,
      signal: options.signal,
      onProgress: options.onProgress,
      wait: true,
      // The rules are checked once, after the last wave.
      rules: false,
      smoke: options.verifyEachWave,
    });
  } catch (error) {
    end?.(undefined);
    if (error instanceof NotReadyError || error instanceof SmokeTestError) {
      const names = options.optionNames ?? CLI_OPTION_NAMES;
      const later = wave.number < wave.total ? `; waves ${wave.number + 1} to ${wave.total} were not changed` : '';
      const back =
        wave.from && wave.from !== wave.to
          ? ` To roll back, apply Loki ${wave.from} again${names.applyCommand ? `: ${names.applyCommand} --set spec.version=${wave.from}` : ` (spec.version: ${wave.from})`}.`
          : '';
      error.message = `rollout to Loki ${wave.to} stopped at wave ${wave.number}/${wave.total} (${waveName(wave)})${later}.${back}\n${error.message}`;
    }
    throw error;
  }
  const readyAt = new Date();
  const timing: WaveTiming = {
    number: wave.number,
    of: wave.total,
    components: wave.components,
    ...(wave.zone ? { zone: wave.zone } : {}),
    startedAt: started.toISOString(),
    readyAt: readyAt.toISOString(),
    durationMs: readyAt.getTime() - started.getTime(),
    changed: wave.objects.some((object) => object.action !== 'unchanged'),
  };
  end?.(timing);
  return timing;
}

/** "wave 3/9 ingester: ready after 12.4 s" (or "unchanged"). */
export const describeWave = (timing: WaveTiming) =>
  `wave ${timing.number}/${timing.of} ${waveName(timing)}: ${timing.changed ? `ready after ${seconds(timing.durationMs)}` : 'unchanged'}`;

/** "37 objects: 12 created, 25 unchanged". */
function summarizeApply(result: ApplyResult): string {
  const counts = Object.entries(actionCounts(result)).filter(([, count]) => count > 0);
  return `${result.objects.length} objects: ${counts.map(([action, count]) => `${count} ${action}`).join(', ')}`;
}
