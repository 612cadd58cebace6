import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process, with `files` written to a fresh working directory. */
export async function runCli(
  argv: string[],
  files: Record<string, string> = {},
  stdin = '',
): Promise<CliResult & { cwd: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'loki-cli-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(cwd, name), content);
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    stdin: async () => stdin,
    cwd,
  });
  return { code, stdout, stderr, cwd };
}
