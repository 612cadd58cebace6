// The CLI adapter: parse the command line, call the core, print the result. Exit codes: 0 ok,
// 2 invalid input (spec or usage; nothing was contacted), 3 not ready or smoke test failed, 1 anything else.
import { SpecError } from '../errors.js';
import { describeError, redact } from '../redact.js';
import { VERSION } from '../version.js';
import { UsageError, type CliIo, type Command } from './io.js';

const HELP = `loki-microservices ${VERSION}: Grafana Loki 3.x in microservices mode from one validated spec.

Usage: loki-microservices <command> [options]

Commands:
  render    Print the Kubernetes manifests of a stack (or write them to a directory); --target nomad: the Nomad job
  plan      Show what apply would change, in Loki's terms (pods that roll and why, refusals, warnings)
  apply     Apply a stack by server-side apply; --wait until ready, --smoke to push and query a log line
  status    Show whether a stack is ready, per component (table, json or yaml)
  smoke     Push a log line to a stack and read it back
  upgrade-test  Deploy Loki --from, push log lines, upgrade to spec.version in waves, read every line back
  destroy   Delete a stack (volumes stay unless --delete-volumes)
  port-forward  Forward local ports to a stack's push and query entry points, and print their URLs
  diagnose  Write a stack's status, manifests, events and pod logs to a directory (a CI artifact)
  schema next  Print the schema period to append to spec.schemas, dated the first safe day

The cluster is found like kubectl finds it: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster.
With --target nomad, render, plan, apply, status and destroy work on a Nomad job ($NOMAD_ADDR, $NOMAD_TOKEN).
Exit codes: 0 ok, 2 invalid spec or usage, 3 not ready or smoke test failed, 1 other error.

Run "loki-microservices <command> --help" for the options of a command.
Global options: --help, --version
`;

// Loaded on use: render must not pay for loading the Kubernetes client.
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  render: () => import('./render.js'),
  plan: () => import('./plan.js'),
  apply: () => import('./apply.js'),
  status: () => import('./status.js'),
  smoke: () => import('./smoke.js'),
  'upgrade-test': () => import('./upgrade-test.js'),
  destroy: () => import('./destroy.js'),
  'port-forward': () => import('./port-forward.js'),
  diagnose: () => import('./diagnose.js'),
  schema: () => import('./schema.js'),
};

/** Runs one command. Everything it writes to standard error (progress, errors) passes the redaction layer. */
export async function main(argv: string[], given: CliIo): Promise<number> {
  const io: CliIo = { ...given, stderr: (text) => given.stderr(redact(text)) };
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    io.stderr(`error: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  const entry = (await load()).command;
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(entry.help);
    return 0;
  }
  try {
    return await entry.run(args, io);
  } catch (error) {
    if (error instanceof SpecError) {
      io.stderr(
        `error: the stack spec is invalid (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):\n`,
      );
      for (const issue of error.issues) io.stderr(`  ${issue.path}: ${issue.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\nRun "loki-microservices ${command} --help" for usage.\n`);
      return 2;
    }
    io.stderr(`error: ${describeError(error)}\n`);
    return 1;
  }
}
