import { smokeOptionsOf, smokePassed, smokeTest, SmokeTestError } from '../kubernetes/ops/smoke.js';
import type { CliIo, Command } from './io.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import { loadStack, parseCommandLine, parseDuration, parseFormat, SPEC_HELP, SPEC_OPTIONS } from './options.js';

const HELP = `Usage: loki-microservices smoke [-f spec.yaml] [--set path=value ...] [--timeout 2m] [-o text|json]

Push a unique log line to the stack's distributor and read it back through its query-frontend, through the
API server's service proxy (no port-forward needed), retrying until it works or time runs out.
Multi-tenant stacks (spec.auth.enabled) are tested as spec.auth.tenant. With spec.gateway, through the
gateway instead, over a port-forward to a gateway pod, as a tenant with its password from the passwords
Secret; the gateway must first refuse a push without credentials.

Options:
${SPEC_HELP}
${CLUSTER_HELP}
      --timeout DURATION Give up after this long (default 2m)
  -o, --output FORMAT    text (default) or json, on standard output
  -h, --help             Show this help

Exit codes: 0 passed, 3 failed, 2 invalid spec or usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...CLUSTER_OPTIONS,
    timeout: { type: 'string', default: '2m' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['text', 'json'], 'text');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const stack = await loadStack(values, io);
  const connection = connectFrom(values, io);
  io.stderr(`smoke test of stack ${stack.metadata.namespace}/${stack.metadata.name} through ${connection.server}\n`);
  try {
    const result = await smokeTest(
      connection,
      { name: stack.metadata.name, namespace: stack.metadata.namespace },
      { timeoutMs, ...smokeOptionsOf(stack) },
    );
    io.stdout(format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : `${smokePassed(result)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof SmokeTestError)) throw error;
    io.stderr(`error: ${error.message}\n`);
    return 3;
  }
}

export const command: Command = { help: HELP, run };
