// upgrade-test: the core's upgradeTest (deploy Loki `upgrade-from`, push `upgrade-lines` lines, upgrade to the
// spec's version in waves, read every line back, smoke-test), presented: a log group and a summary row per phase
// and wave, the `upgrade` output and its part of the summary (each wave's time, the lines read back, the release
// notes of the pre-flight), on failure too, with the diagnosis of a wave that did not get ready.
import * as core from '@actions/core';
import {
  connect,
  describeLinesRead,
  upgradeTest as runUpgradeTest,
  UpgradeTestError,
  type UpgradeTestReport,
} from 'loki-microservices';
import { deployOptions, keepDiagnostics, phaseLog, reportFailure, reportReady } from './deploy.js';
import { ACTION_OPTION_NAMES, type Inputs } from './inputs.js';
import { stackTitle } from './outputs.js';
import { saveDeployedStack } from './state.js';
import { addUpgrade } from './summary.js';

export async function upgradeTest(inputs: Inputs): Promise<void> {
  const { stack } = inputs;
  const { from: before, lines } = inputs.upgrade!;
  const connection = connect({ kubeconfig: inputs.kubeconfig, context: inputs.context });
  const log = phaseLog();
  const { phases, begin } = log;
  const [from, to] = [before.spec.version, stack.spec.version];

  core.info(
    `upgrade test of stack ${stack.metadata.namespace}/${stack.metadata.name} (profile ${stack.spec.profile}) on ${connection.server}: Loki ${from}, ${lines} lines, then Loki ${to} in waves`,
  );
  saveDeployedStack(inputs);
  let report: UpgradeTestReport;
  try {
    report = await runUpgradeTest(connection, before, stack, {
      lines,
      timeoutMs: inputs.timeoutMs,
      smoke: inputs.smokeTest,
      allowDowngrade: inputs.allowDowngrade,
      allowSkip: inputs.allowSkip,
      optionNames: ACTION_OPTION_NAMES,
      deploy: (version) => deployOptions(inputs, log, `${version}: `),
      onUpgrade: (check) =>
        core.info(`the pre-flight of Loki ${check.from} -> ${check.to} passed; ${check.notes.length} release notes`),
      onStep: (step) => {
        const end = begin(step);
        return (summary) => end(summary ?? 'failed');
      },
    });
  } catch (error) {
    if (!(error instanceof UpgradeTestError)) throw error;
    // Lines that did not come back have no error of their own; a step that failed throws its own (a wave's diagnosis).
    const failure = error.cause ?? error;
    if (failure === error) core.error(describeLinesRead(error.report.lines), { title: 'Loki upgrade test failed' });
    core.setOutput('upgrade', JSON.stringify(error.report));
    await reportFailure(connection, inputs, phases, failure);
    addUpgrade(error.report);
    if (inputs.diagnostics !== 'never') await keepDiagnostics(connection, inputs);
    throw failure;
  }
  core.setOutput('upgrade', JSON.stringify(report));
  await reportReady(connection, inputs, log, {
    title: `${stackTitle(stack)}: upgrade test`,
    sections: () => addUpgrade(report),
  });
}
