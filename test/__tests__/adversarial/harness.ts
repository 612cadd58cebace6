// What the adversarial suites share: the CLI run as users run it (a child process, a kubeconfig file, a home
// without ~/.kube/config), and every line any run printed, kept to look for credentials in.
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningApiServer } from '../../src/apiserver/index.js';

const BIN = fileURLToPath(new URL('../../../shared/bin/loki-microservices.js', import.meta.url));
const HOME = mkdtempSync(join(tmpdir(), 'adversarial-home-'));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Everything printed by any run of this test file. */
export const printed: string[] = [];

/** Runs the CLI against `running` (its kubeconfig appended, unless `kubeconfig: false`); `started` sees the process. */
export function cli(
  running: RunningApiServer | undefined,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; started?: (child: ChildProcess) => void } = {},
): Promise<CliResult> {
  const { KUBECONFIG: _ignored, ...inherited } = process.env;
  const withConfig = running ? [...args, '--kubeconfig', running.kubeconfigPath] : args;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...withConfig],
      { env: { ...inherited, HOME, ...options.env }, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        printed.push(stdout, stderr);
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    options.started?.(child);
  });
}

/** `--set` for the stack's namespace. */
export const inNamespace = (namespace: string) => ['--set', `metadata.namespace=${namespace}`];
