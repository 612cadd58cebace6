// `expose: port-forward`: the deploy step starts the forwarder (forwarder.ts) as a detached process, waits
// until it listens, and hands its local URLs to later steps; the post step stops it. Its pid and log file
// travel in the Action's state.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as core from '@actions/core';
import { describeError, type LokiStack } from 'loki-microservices';

export const FORWARDER_ENV = 'LOKI_MICROSERVICES_FORWARDER';
const STATE_KEY = 'forwarder';
/** Long enough for a slow runner to load the bundle and list the pods once. */
const START_TIMEOUT_MS = 60_000;

export interface ForwarderConfig {
  kubeconfig?: string;
  context?: string;
  /** Where the forwarder writes its URLs once it listens. */
  readyFile: string;
}

export interface ForwarderReady {
  pushUrl: string;
  queryUrl: string;
}

interface RunningForwarder {
  pid: number;
  logFile: string;
}

export async function startForwarder(
  stack: LokiStack,
  cluster: { kubeconfig?: string; context?: string },
): Promise<ForwarderReady> {
  const directory = process.env.RUNNER_TEMP ?? process.cwd();
  const name = `loki-forwarder-${stack.metadata.namespace}-${stack.metadata.name}-${process.pid}`;
  const logFile = join(directory, `${name}.log`);
  const config: ForwarderConfig = { ...cluster, readyFile: join(directory, `${name}.json`) };
  const log = openSync(logFile, 'a');
  // Beside the entry the runner started (this code itself may sit in a shared chunk).
  const entry = join(dirname(process.argv[1]!), 'forwarder.js');
  const child = spawn(process.execPath, [entry], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, [FORWARDER_ENV]: JSON.stringify({ ...config, stack }) },
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (!existsSync(config.readyFile)) {
      if (exited !== undefined) throw new Error(`the forwarder stopped (exit ${exited}): ${lastLines(logFile)}`);
      if (Date.now() > deadline) throw new Error(`the forwarder did not listen within ${START_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.unref();
  core.saveState(STATE_KEY, JSON.stringify({ pid: child.pid!, logFile } satisfies RunningForwarder));
  return JSON.parse(readFileSync(config.readyFile, 'utf8')) as ForwarderReady;
}

/** The post step: stop the forwarder the deploy step left running, if any, and show its log when it failed. */
export async function stopForwarder(): Promise<void> {
  const saved = core.getState(STATE_KEY);
  if (!saved) return;
  const { pid, logFile } = JSON.parse(saved) as RunningForwarder;
  if (!alive(pid)) {
    core.warning(`the port-forward for later steps had stopped before the end of the job: ${lastLines(logFile)}`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  core.info(`port-forward for later steps stopped (its log: ${logFile})`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function lastLines(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.trim());
    return lines.slice(-3).join(' / ') || 'no output';
  } catch (error) {
    return describeError(error);
  }
}
