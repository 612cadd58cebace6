// upgrade-test: deploy Loki `upgrade-from`, push `upgrade-lines` lines, upgrade to the spec's version in waves,
// read every line back and smoke-test. The `upgrade` output and the job summary say how long each wave took,
// how many lines came back and which release notes the pre-flight found; a wave that does not get ready fails
// the step with its diagnosis (the later waves are left alone), and so do lines that do not come back.
import * as core from '@actions/core';
import {
  ClusterError,
  connect,
  deployStack,
  pushLines,
  readLines,
  smokeOptionsOf,
  smokeTest,
  type LinesRead,
  type PushedLines,
  type UpgradeCheck,
  type WaveTiming,
} from 'loki-microservices';
import { deployOptions, keepDiagnostics, phaseLog, reportFailure, reportReady } from './deploy.js';
import type { Inputs } from './inputs.js';
import { stackTitle } from './outputs.js';
import { saveDeployedStack } from './state.js';
import { addUpgrade, type UpgradeReport } from './summary.js';

/** However little of the timeout is left, pushing and reading the lines back get this long. */
const LINES_MIN_MS = 30_000;

export async function upgradeTest(inputs: Inputs): Promise<void> {
  const { stack } = inputs;
  const { from: before, lines: count } = inputs.upgrade!;
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  const connection = connect({ kubeconfig: inputs.kubeconfig, context: inputs.context });
  const deadline = Date.now() + inputs.timeoutMs;
  const remaining = (least = 1000) => Math.max(deadline - Date.now(), least);
  const log = phaseLog();
  const { phases, timed } = log;
  const from = before.spec.version;
  const to = stack.spec.version;
  const report: UpgradeReport = { from, to, lines: { pushed: 0, read: 0 }, waves: [], notes: [] };
  const smoke = async (phase: string) => {
    if (!inputs.smokeTest) return;
    await timed(
      phase,
      () =>
        smokeTest(connection, ref, { timeoutMs: remaining(LINES_MIN_MS), intervalMs: 250, ...smokeOptionsOf(stack) }),
      (result) => `passed: the line was read back ${result.latencyMs} ms after its push`,
    );
  };

  core.info(
    `upgrade test of stack ${ref.namespace}/${ref.name} (profile ${stack.spec.profile}) on ${connection.server}: Loki ${from}, ${count} lines, then Loki ${to} in waves`,
  );
  saveDeployedStack(inputs);
  let failedWave: { number: number; components: string[] } | undefined;
  try {
    await deployStack(connection, before, {
      ...deployOptions(inputs, log, `${from}: `),
      waves: 'never',
      timeoutMs: remaining(),
      wait: true,
      smoke: inputs.smokeTest,
    });
    const pushed: PushedLines = await timed(
      `push ${count} lines`,
      () => pushLines(connection, ref, count, { timeoutMs: remaining(LINES_MIN_MS), ...smokeOptionsOf(before) }),
      (result) => `${result.lines.length} lines accepted, ${result.selector}`,
    );
    report.lines.pushed = pushed.lines.length;
    const hooks = deployOptions(inputs, log, `${to}: `);
    const upgraded = await deployStack(connection, stack, {
      ...hooks,
      waves: 'always',
      timeoutMs: remaining(),
      wait: true,
      smoke: false,
      onUpgrade: (check: UpgradeCheck) => {
        report.notes = check.notes;
        core.info(`the pre-flight of Loki ${check.from} -> ${check.to} passed; ${check.notes.length} release notes`);
      },
      onWave: (wave) => {
        const end = hooks.onWave!(wave);
        return (timing: WaveTiming | undefined) => {
          if (timing) report.waves.push(waveOf(timing));
          else failedWave = { number: wave.number, components: wave.components };
          end?.(timing);
        };
      },
    });
    report.waves = (upgraded.timeline.waves ?? []).map(waveOf);
    const read: LinesRead = await timed(
      'read back',
      () => readLines(connection, ref, pushed, { timeoutMs: remaining(LINES_MIN_MS), ...smokeOptionsOf(stack) }),
      describeRead,
    );
    report.lines.read = read.read;
    if (read.read < read.pushed || !read.inOrder) {
      core.error(describeRead(read), { title: 'Loki upgrade test failed' });
      throw new ClusterError(
        `upgrade test from Loki ${from} to ${to}: read back ${read.read} of ${read.pushed} lines${read.read === read.pushed ? ', not in the order they were pushed' : ''}`,
      );
    }
    await smoke('smoke test');
  } catch (error) {
    if (failedWave) report.failedWave = failedWave;
    core.setOutput('upgrade', JSON.stringify(report));
    await reportFailure(connection, inputs, phases, error);
    addUpgrade(report);
    if (inputs.diagnostics !== 'never') await keepDiagnostics(connection, inputs);
    throw error;
  }
  core.setOutput('upgrade', JSON.stringify(report));
  await reportReady(connection, inputs, log, {
    title: `${stackTitle(stack)}: upgrade test`,
    sections: () => addUpgrade(report),
  });
}

const waveOf = (timing: WaveTiming) => ({
  number: timing.number,
  components: timing.components,
  durationMs: timing.durationMs,
});

/** "100/100 lines, in order". */
const describeRead = (read: LinesRead) =>
  `${read.read}/${read.pushed} lines${read.read === read.pushed ? (read.inOrder ? ', in order' : ', out of order') : ''}`;
