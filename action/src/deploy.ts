// deploy: apply, wait until ready, smoke-test, each in its log group and a row of the summary. The stack is
// recorded for the post step before the first object is sent, so that `cleanup` removes even a half-made one.
import * as core from '@actions/core';
import {
  connect,
  deployStack,
  describeAdoption,
  describeTimeline,
  describeWave,
  describeError,
  describeGeneratedSecret,
  getStackStatus,
  NotReadyError,
  renderKubernetes,
  SmokeTestError,
  type Connection,
  type DeployOptions,
  type RenderedStack,
  writeDiagnostics,
} from 'loki-microservices';
import { ACTION_OPTION_NAMES, type Inputs } from './inputs.js';
import { setStatusOutputs, stackTitle } from './outputs.js';
import { saveDeployedStack } from './state.js';
import { startForwarder, type ForwarderReady } from './forward.js';
import { addDiagnosis, addHeading, addLocalUrls, addPhases, addStatus, type Phase } from './summary.js';

/** The phases of a step, each a log group and a row of the summary. */
export function phaseLog() {
  // The runner started this process for the step: its start-up (Node, the bundle) is part of the user's wait.
  const phases: Phase[] = [
    { name: 'start-up', durationMs: Date.now() - performance.timeOrigin, result: 'Node and the Action loaded' },
  ];
  const begin = (name: string) => {
    const started = Date.now();
    core.startGroup(name);
    return (result: string) => {
      core.endGroup();
      phases.push({ name, durationMs: Date.now() - started, result });
    };
  };
  const timed = async <T>(name: string, work: () => Promise<T>, result: (value: T) => string): Promise<T> => {
    const end = begin(name);
    try {
      const value = await work();
      end(result(value));
      return value;
    } catch (error) {
      end('failed');
      throw error;
    }
  };
  return { phases, begin, timed };
}

type PhaseLog = ReturnType<typeof phaseLog>;

/** What every deployStack of the Action shares: its inputs, and a log group and summary row per phase and wave. */
export function deployOptions(
  inputs: Inputs,
  log: PhaseLog,
  prefix = '',
): Omit<DeployOptions, 'timeoutMs' | 'wait' | 'smoke'> {
  const { phases, begin } = log;
  return {
    credentials: inputs.credentials,
    adopt: inputs.adopt,
    allowDowngrade: inputs.allowDowngrade,
    allowSkip: inputs.allowSkip,
    optionNames: ACTION_OPTION_NAMES,
    startedAt: performance.timeOrigin,
    onObject: (object) => core.info(`${object.kind} ${object.name} ${object.action}`),
    onApplied: (result) => {
      for (const object of result.adopted) core.info(describeAdoption(object));
      for (const secret of result.secrets) core.info(describeGeneratedSecret(secret));
    },
    onPhase: (phase) => {
      const end = begin(`${prefix}${phase}`);
      return (summary) => end(summary ?? 'failed');
    },
    onProgress: (line) => core.info(line),
    // A rollout in waves: a row per wave, inside the apply phase.
    onWave: (wave) => {
      const name = `${prefix}apply: wave ${wave.number}/${wave.total} ${wave.components.join(', ')}`;
      const started = Date.now();
      core.info(`${name}: waiting until it is ready`);
      return (timing) =>
        void phases.push({
          name,
          durationMs: timing?.durationMs ?? Date.now() - started,
          result: timing ? describeWave(timing) : 'failed: the later waves were not changed',
        });
    },
  };
}

export async function deploy(inputs: Inputs): Promise<void> {
  const { stack } = inputs;
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  const connection = connect({ kubeconfig: inputs.kubeconfig, context: inputs.context });
  let timeline: string | undefined;
  const log = phaseLog();
  const { phases, timed } = log;

  core.info(
    `Loki ${stack.spec.version} stack ${ref.namespace}/${ref.name} (profile ${stack.spec.profile}) to ${connection.server}`,
  );
  saveDeployedStack(inputs);
  try {
    await timed('render', async () => renderKubernetes(stack, { credentials: inputs.credentials }), describeRendered);
    // The wait and the smoke test run while apply still holds the stack's lock: the deploy is one run.
    const deployed = await deployStack(connection, stack, {
      ...deployOptions(inputs, log),
      timeoutMs: inputs.timeoutMs,
      wait: inputs.wait,
      smoke: inputs.smokeTest,
    });
    if (deployed.smoke) core.setOutput('smoke-latency-ms', String(deployed.smoke.latencyMs));
    if (inputs.wait || inputs.smokeTest) timeline = describeTimeline(deployed.timeline, !!deployed.smoke);
  } catch (error) {
    await reportFailure(connection, inputs, phases, error);
    if (inputs.diagnostics !== 'never') await keepDiagnostics(connection, inputs);
    throw error;
  }
  await reportReady(connection, inputs, log, { title: stackTitle(stack), timeline });
}

/**
 * A stack that came up: the status outputs, the local URLs when asked, and the job summary (its heading, the
 * sections of the command, the status, the URLs, the phases); the diagnostics too when always wanted.
 */
export async function reportReady(
  connection: Connection,
  inputs: Inputs,
  log: ReturnType<typeof phaseLog>,
  summary: { title: string; sections?: () => void; timeline?: string },
): Promise<void> {
  const { stack } = inputs;
  const status = await getStackStatus(connection, { name: stack.metadata.name, namespace: stack.metadata.namespace });
  setStatusOutputs(status);
  const local =
    inputs.expose === 'port-forward'
      ? await log.timed(
          'port-forward',
          () => expose(inputs),
          () => 'listening',
        )
      : undefined;
  addHeading(summary.title, status);
  summary.sections?.();
  addStatus(status);
  if (local) addLocalUrls(local);
  addPhases(log.phases, summary.timeline);
  if (summary.timeline) core.info(summary.timeline);
  if (inputs.diagnostics === 'always') await keepDiagnostics(connection, inputs);
}

/** The diagnostics files, for an upload-artifact step; failing to write them must not hide why deploy failed. */
export async function keepDiagnostics(connection: Connection, inputs: Inputs): Promise<void> {
  try {
    const files = await writeDiagnostics(connection, inputs.stack, inputs.diagnosticsDir);
    core.setOutput('diagnostics-dir', inputs.diagnosticsDir);
    core.info(`${files.length} diagnostics files written to ${inputs.diagnosticsDir}`);
  } catch (error) {
    core.warning(`could not write the diagnostics to ${inputs.diagnosticsDir}: ${describeError(error)}`);
  }
}

/** Local URLs for later steps, served by a forwarder that outlives this step. */
export async function expose(inputs: Inputs): Promise<ForwarderReady> {
  const local = await startForwarder(inputs.stack, { kubeconfig: inputs.kubeconfig, context: inputs.context });
  core.setOutput('local-push-url', local.pushUrl);
  core.setOutput('local-query-url', local.queryUrl);
  core.info(`later steps reach the stack at ${local.pushUrl} (push) and ${local.queryUrl} (query)`);
  return local;
}

/** What render produced, one kind per line (the log) and as counts (the summary). */
export function describeRendered(rendered: RenderedStack): string {
  const counts = new Map<string, number>();
  for (const object of rendered.objects) counts.set(object.kind!, (counts.get(object.kind!) ?? 0) + 1);
  for (const [kind, count] of counts)
    core.info(
      `${count} ${kind}: ${rendered.objects
        .filter((o) => o.kind === kind)
        .map((o) => o.metadata!.name)
        .join(', ')}`,
    );
  return `${rendered.objects.length} objects`;
}

/** The summary and annotations of a deploy that did not work: what is not ready and why. */
export async function reportFailure(
  connection: Connection,
  inputs: Inputs,
  phases: Phase[],
  error: unknown,
): Promise<void> {
  const title = stackTitle(inputs.stack);
  if (error instanceof NotReadyError) {
    setStatusOutputs(error.status);
    addHeading(title, error.status);
    addStatus(error.status);
    addPhases(phases);
    addDiagnosis(error.diagnosis);
    for (const component of error.diagnosis.components) {
      const pods = component.pods.map(
        (pod) =>
          `${pod.name}: ${pod.state}${pod.reason ? ` (${pod.reason})` : ''}${pod.message ? ` ${pod.message}` : ''}`,
      );
      core.error(
        `${component.name} ${component.ready}/${component.desired} ready${pods.length > 0 ? `; ${pods.join('; ')}` : ''}`,
        { title: `Loki ${component.name} not ready` },
      );
    }
    return;
  }
  // Apply or smoke test failed: show the stack as it is, if it can be read.
  const status = await getStackStatus(connection, {
    name: inputs.stack.metadata.name,
    namespace: inputs.stack.metadata.namespace,
  }).catch(() => undefined);
  if (status) {
    setStatusOutputs(status);
    addHeading(title, status);
    addStatus(status);
  } else addHeading(title);
  addPhases(phases);
  if (error instanceof SmokeTestError) core.error(error.message, { title: 'Loki smoke test failed' });
}
