/** Where a command reads and writes: the real process streams, or buffers in tests. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads standard input to the end (for `-f -`). */
  stdin: () => Promise<string>;
  cwd: string;
}

/** Bad command-line usage: exit code 2, like an invalid spec. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A subcommand: its --help text, and what it does. Returns the exit code. */
export interface Command {
  help: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}
