// Run the bundled Action as the GitHub runner does: a child process of `node` (20 here, or GitHub's 24),
// every input as INPUT_<NAME> with action.yml's defaults filled in, file commands for outputs, state and
// the job summary, and saved state handed to the post step as STATE_<name>.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = new URL('../../../', import.meta.url).pathname;
export const ACTION_YML = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post: string; 'post-if': string };
};

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

export interface RunOptions {
  inputs?: Record<string, string>;
  /** `main` (default) or `post`. */
  step?: 'main' | 'post';
  /** State saved by the main step, for the post step. */
  state?: Record<string, string>;
  /** The node binary. @default this process's (Node 20) */
  node?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export function runAction(options: RunOptions = {}): Promise<ActionRun> {
  const directory = mkdtempSync(join(tmpdir(), 'action-run-'));
  const files = {
    GITHUB_OUTPUT: join(directory, 'output'),
    GITHUB_STATE: join(directory, 'state'),
    GITHUB_STEP_SUMMARY: join(directory, 'summary'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const inputs = {
    ...Object.fromEntries(Object.entries(ACTION_YML.inputs).map(([name, input]) => [name, input.default ?? ''])),
    ...options.inputs,
  };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: directory,
    RUNNER_TEMP: directory,
    GITHUB_ACTIONS: 'true',
    ...files,
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
    ...Object.fromEntries(Object.entries(options.state ?? {}).map(([name, value]) => [`STATE_${name}`, value])),
    ...options.env,
  };
  const entry = join(ROOT, options.step === 'post' ? ACTION_YML.runs.post : ACTION_YML.runs.main);
  return new Promise((resolve) => {
    execFile(
      options.node ?? process.execPath,
      [entry],
      { env, cwd: options.cwd ?? directory, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
          outputs: readFileCommand(files.GITHUB_OUTPUT),
          state: readFileCommand(files.GITHUB_STATE),
          summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
        });
      },
    );
  });
}

/** `name<<DELIMITER\nvalue\nDELIMITER` entries, as @actions/core writes them. */
function readFileCommand(file: string): Record<string, string> {
  const text = readFileSync(file, 'utf8');
  const values: Record<string, string> = {};
  for (const match of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) values[match[1]!] = match[3]!;
  return values;
}
