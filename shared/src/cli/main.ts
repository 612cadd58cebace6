// The CLI adapter: parse the command line, call the core, print the result. Exit codes: 0 ok,
// 2 invalid input (spec or usage; nothing was contacted), 1 anything else.
import { SpecError } from '../errors.js';
import { VERSION } from '../version.js';
import { UsageError, type CliIo } from './io.js';
import { RENDER_HELP, render } from './render.js';

const HELP = `loki-microservices ${VERSION}: Grafana Loki 3.x in microservices mode from one validated spec.

Usage: loki-microservices <command> [options]

Commands:
  render    Print the Kubernetes manifests of a stack (or write them to a directory)

Run "loki-microservices <command> --help" for the options of a command.
Global options: --help, --version
`;

const COMMANDS: Record<string, { run: (args: string[], io: CliIo) => Promise<void>; help: string }> = {
  render: { run: render, help: RENDER_HELP },
};

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    io.stderr(`error: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(entry.help);
    return 0;
  }
  try {
    await entry.run(args, io);
    return 0;
  } catch (error) {
    if (error instanceof SpecError) {
      io.stderr(`error: the stack spec is invalid (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):\n`);
      for (const issue of error.issues) io.stderr(`  ${issue.path}: ${issue.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\nRun "loki-microservices ${command} --help" for usage.\n`);
      return 2;
    }
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
