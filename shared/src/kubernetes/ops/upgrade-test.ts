// An upgrade test, whoever asks for it (the CLI's upgrade-test, the Action's command: upgrade-test), within one
// deadline: deploy Loki `from` (waited for, and smoke-tested if asked), push numbered lines, deploy `to` in waves
// (the pre-flight's release notes and each wave's time recorded), read every line back in order, and smoke-test.
// It fails with an UpgradeTestError that carries the report as far as it got.
import { ClusterError } from '../../errors.js';
import type { LokiStack } from '../../spec/schema.js';
import type { ReleaseNote } from '../../stack/loki-releases.js';
import { upgradeTestIssue, UpgradeRefusedError, type UpgradeCheck, type UpgradeRules } from '../../stack/upgrade.js';
import type { Connection } from './connection.js';
import { deployStack, inPhase, type DeployOptions, type WaveTiming } from './deploy.js';
import type { OptionNames } from './option-names.js';
import { pushLines, readLines, smokeOptionsOf, smokeTest } from './smoke.js';

/** However little of the deadline is left, pushing the lines, reading them back and the smoke test get this long. */
const LINES_MIN_MS = 30_000;
/** The deploys always look at least once. */
const DEPLOY_MIN_MS = 1000;
const SMOKE_INTERVAL_MS = 250;

export interface UpgradeTestReport {
  /** The Loki versions deployed first and upgraded to. */
  from: string;
  to: string;
  /** How many lines were pushed before the upgrade and read back after it; `inOrder`: all of them, in push order. */
  lines: { pushed: number; read: number; inOrder: boolean };
  /** The waves that got ready, in order. */
  waves: { number: number; components: string[]; durationMs: number }[];
  /** The wave that did not get ready (the later ones were left alone). */
  failedWave?: { number: number; components: string[] };
  /** The release-note items the upgrade's pre-flight found for this stack. */
  notes: ReleaseNote[];
}

/** What each of the two deploys is given besides its deadline: credentials, adopt, its progress hooks. */
export type UpgradeDeployOptions = Omit<
  DeployOptions,
  'timeoutMs' | 'wait' | 'smoke' | 'waves' | 'verifyEachWave' | 'onUpgrade' | keyof UpgradeRules | 'optionNames'
>;

/** Told as a step of the test begins ("push 100 lines", "read back", "smoke test"); the function it returns, how it ended. */
export type UpgradeStepListener = (step: string) => ((summary: string | undefined) => void) | void;

export interface UpgradeTestOptions extends UpgradeRules {
  /** How many lines to push before the upgrade (1 to MAX_LINES). */
  lines: number;
  /** How long the whole test may take. */
  timeoutMs: number;
  /** Smoke-test the first version once it is ready, and the upgraded stack at the end. @default false */
  smoke?: boolean;
  /** How refusals name the options that accept them. @default CLI_OPTION_NAMES */
  optionNames?: OptionNames;
  /** The options of the deploy of `version` (e.g. hooks that prefix their lines with it). */
  deploy?: (version: string) => UpgradeDeployOptions;
  /** Told of the upgrade's pre-flight once it passed, with the release notes that concern the stack. */
  onUpgrade?: (check: UpgradeCheck) => void;
  onStep?: UpgradeStepListener;
}

/** The upgrade test failed; `report` says how far it got. `cause`: the error that stopped it, none when lines were missing. */
export class UpgradeTestError extends ClusterError {
  constructor(
    message: string,
    readonly report: UpgradeTestReport,
    override readonly cause?: unknown,
  ) {
    const failure = cause instanceof ClusterError ? cause : undefined;
    super(message, failure?.code, failure?.reason);
    this.name = 'UpgradeTestError';
  }
}

/**
 * Deploys `from`, pushes `options.lines` lines, upgrades to `to` in waves, reads the lines back and smoke-tests.
 * A version change the rules refuse (or none) is an UpgradeRefusedError before anything is sent; any later failure
 * an UpgradeTestError with the report so far.
 */
export async function upgradeTest(
  connection: Connection,
  from: LokiStack,
  to: LokiStack,
  options: UpgradeTestOptions,
): Promise<UpgradeTestReport> {
  const rules = {
    allowDowngrade: options.allowDowngrade,
    allowSkip: options.allowSkip,
    optionNames: options.optionNames,
  };
  const issue = upgradeTestIssue(from.spec.version, to.spec.version, rules, options.optionNames);
  if (issue) throw new UpgradeRefusedError([issue]);
  const ref = { name: to.metadata.name, namespace: to.metadata.namespace };
  const deadline = Date.now() + options.timeoutMs;
  const remaining = (least: number) => Math.max(deadline - Date.now(), least);
  const report: UpgradeTestReport = {
    from: from.spec.version,
    to: to.spec.version,
    lines: { pushed: 0, read: 0, inOrder: false },
    waves: [],
    notes: [],
  };
  try {
    await deployStack(connection, from, {
      ...options.deploy?.(from.spec.version),
      ...rules,
      waves: 'never',
      timeoutMs: remaining(DEPLOY_MIN_MS),
      wait: true,
      smoke: options.smoke,
    });
    const pushed = await inPhase(
      `push ${options.lines} lines`,
      options.onStep,
      () => pushLines(connection, ref, options.lines, { timeoutMs: remaining(LINES_MIN_MS), ...smokeOptionsOf(from) }),
      (result) => `${result.lines.length} lines accepted, ${result.selector}`,
    );
    report.lines.pushed = pushed.lines.length;
    const hooks = options.deploy?.(to.spec.version) ?? {};
    const upgraded = await deployStack(connection, to, {
      ...hooks,
      ...rules,
      waves: 'always',
      timeoutMs: remaining(DEPLOY_MIN_MS),
      wait: true,
      smoke: false,
      onUpgrade: (check) => {
        report.notes = check.notes;
        options.onUpgrade?.(check);
      },
      onWave: (wave) => {
        const end = hooks.onWave?.(wave);
        return (timing: WaveTiming | undefined) => {
          if (timing) report.waves.push(waveOf(timing));
          else report.failedWave = { number: wave.number, components: wave.components };
          end?.(timing);
        };
      },
    });
    report.waves = (upgraded.timeline.waves ?? []).map(waveOf);
    const read = await inPhase(
      'read back',
      options.onStep,
      () => readLines(connection, ref, pushed, { timeoutMs: remaining(LINES_MIN_MS), ...smokeOptionsOf(to) }),
      describeLinesRead,
    );
    report.lines = { pushed: read.pushed, read: read.read, inOrder: read.inOrder };
    if (read.read < read.pushed || !read.inOrder)
      throw new UpgradeTestError(
        `upgrade test from Loki ${report.from} to ${report.to}: read back ${read.read} of ${read.pushed} lines${read.read === read.pushed ? ', not in the order they were pushed' : ''}`,
        report,
      );
    if (options.smoke)
      await inPhase(
        'smoke test',
        options.onStep,
        () =>
          smokeTest(connection, ref, {
            timeoutMs: remaining(LINES_MIN_MS),
            intervalMs: SMOKE_INTERVAL_MS,
            ...smokeOptionsOf(to),
          }),
        (result) => `passed: the line was read back ${result.latencyMs} ms after its push`,
      );
  } catch (error) {
    if (error instanceof UpgradeTestError) throw error;
    throw new UpgradeTestError(error instanceof Error ? error.message : String(error), report, error);
  }
  return report;
}

const waveOf = (timing: WaveTiming) => ({
  number: timing.number,
  components: timing.components,
  durationMs: timing.durationMs,
});

/** "100/100 lines, in order". */
export const describeLinesRead = (lines: { read: number; pushed: number; inOrder: boolean }) =>
  `${lines.read}/${lines.pushed} lines${lines.read === lines.pushed ? (lines.inOrder ? ', in order' : ', out of order') : ''}`;
