import { resolve } from 'node:path';
import { writeDiagnostics } from '../kubernetes/ops/diagnostics.js';
import { until } from '../kubernetes/ops/retry.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import { UsageError, type CliIo, type Command } from './io.js';
import { loadStack, parseCommandLine, parseDuration, SPEC_HELP, SPEC_OPTIONS } from './options.js';

const HELP = `Usage: loki-microservices diagnose [-f spec.yaml] [--set path=value ...] -o DIR

Write what it takes to find out why a stack does not work to DIR, for a person or a CI artifact: status.json,
the rendered manifests, the events about the stack, and per pod its object, its events and the log of each
container (and of the instance before its last restart). Everything written is redacted.

Options:
${SPEC_HELP}
${CLUSTER_HELP}
  -o, --output-dir DIR   Directory to write to (created if needed)
      --timeout DURATION Give up after this long, retries of an unreachable API server included (default 2m)
  -h, --help             Show this help

Exit codes: 0 written, 2 invalid spec or usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...CLUSTER_OPTIONS,
    'output-dir': { type: 'string', short: 'o' },
    timeout: { type: 'string', default: '2m' },
  });
  if (!values['output-dir']) throw new UsageError('-o DIR is required: the directory to write the diagnostics to');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const stack = await loadStack(values, io);
  const connection = connectFrom(values, io);
  const directory = resolve(io.cwd, values['output-dir']);
  try {
    const files = await writeDiagnostics(connection, stack, directory, { retry: until(Date.now() + timeoutMs) });
    io.stdout(`${files.length} files written to ${directory}\n`);
    return 0;
  } finally {
    connection.close();
  }
}

export const command: Command = { help: HELP, run };
