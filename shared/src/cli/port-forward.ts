import { forwardStack } from '../kubernetes/ops/forward.js';
import { smokeOptionsOf } from '../kubernetes/ops/smoke.js';
import type { LokiStack } from '../spec/schema.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import { UsageError, type CliIo, type Command } from './io.js';
import { loadStack, parseCommandLine, parseFormat, SPEC_HELP, SPEC_OPTIONS } from './options.js';

const HELP = `Usage: loki-microservices port-forward [-f spec.yaml] [--set path=value ...] [--push-port N] [--query-port N]

Forward local ports to the stack's push and query entry points (its gateway when it has one, else the
distributor and the query-frontend), through the API server as kubectl port-forward does, and print their
URLs. Each connection goes to a ready pod; when that pod goes away, the next connection goes to another.
Runs in the foreground until interrupted (Ctrl-C, SIGTERM).

Options:
${SPEC_HELP}
${CLUSTER_HELP}
      --address ADDRESS  Local address to listen on (default 127.0.0.1)
      --push-port N      Local port for pushes (default: a free one); with the gateway, queries use it too
      --query-port N     Local port for queries (default: a free one)
  -o, --output FORMAT    text (default) or json: one line {pushUrl, queryUrl, ports, gateway} once listening
  -h, --help             Show this help

Exit codes: 0 stopped by a signal, 2 invalid spec or usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...CLUSTER_OPTIONS,
    address: { type: 'string', default: '127.0.0.1' },
    'push-port': { type: 'string', default: '0' },
    'query-port': { type: 'string', default: '0' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['text', 'json'], 'text');
  const pushPort = parsePort(values['push-port'], '--push-port');
  const queryPort = parsePort(values['query-port'], '--query-port');
  const stack = await loadStack(values, io);
  const connection = connectFrom(values, io);
  const forward = await forwardStack(connection, stack, {
    address: values.address,
    pushPort,
    queryPort,
    onEvent: (line) => io.stderr(`${line}\n`),
  });
  const gateway = smokeOptionsOf(stack).gateway ?? null;
  const { pushUrl, queryUrl, ports } = forward;
  io.stdout(
    format === 'json'
      ? `${JSON.stringify({ pushUrl, queryUrl, ports, gateway })}\n`
      : describeForward(stack, pushUrl, queryUrl, gateway),
  );
  await stopSignal();
  await forward.close();
  connection.close();
  return 0;
}

function describeForward(
  stack: LokiStack,
  pushUrl: string,
  queryUrl: string,
  gateway: { user: string; passwordsSecret: string } | null,
): string {
  const { name, namespace } = stack.metadata;
  const lines = [
    `Forwarding to Loki stack ${namespace}/${name}${gateway ? ' through its gateway' : ''}; Ctrl-C to stop`,
    `push:  ${pushUrl}`,
    `query: ${queryUrl}`,
    ...(gateway
      ? [
          `basic auth: user ${gateway.user}, password in Secret ${namespace}/${gateway.passwordsSecret} (key ${gateway.user})`,
        ]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

function parsePort(text: string, option: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(`${option} must be a port number (0-65535), not "${text}"`);
  return port;
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export const command: Command = { help: HELP, run };
