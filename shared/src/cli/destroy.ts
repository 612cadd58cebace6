import { destroyStack } from '../cluster/destroy.js';
import type { CliIo, Command } from './io.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import { loadStack, parseCommandLine, parseDuration, parseFormat, SPEC_HELP, SPEC_OPTIONS } from './options.js';

const HELP = `Usage: loki-microservices destroy [-f spec.yaml] [--set path=value ...] [--delete-volumes] [options]

Delete a Loki stack: every object that carries its instance and managed-by labels, in reverse apply order,
then wait until they are gone. Nothing else is touched, even in the same namespace. Volumes (and so the
data), with the generated credentials of the bundled object store, stay unless --delete-volumes; the namespace goes only if "apply" created it for this stack and it
is empty. Destroying a stack that does not exist succeeds and deletes nothing.

Options:
${SPEC_HELP}
${CLUSTER_HELP}
      --delete-volumes   Also delete the stack's PersistentVolumeClaims (their data is lost) and store credentials
      --no-wait          Return once the deletions are accepted
      --timeout DURATION How long to wait for the objects to go (default 5m)
  -o, --output FORMAT    text (default) or json, on standard output
  -h, --help             Show this help

Exit codes: 0 destroyed, 2 invalid spec or usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...CLUSTER_OPTIONS,
    'delete-volumes': { type: 'boolean' },
    'no-wait': { type: 'boolean' },
    timeout: { type: 'string', default: '5m' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['text', 'json'], 'text');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const stack = await loadStack(values, io);
  const connection = connectFrom(values, io);
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  io.stderr(`destroying stack ${ref.namespace}/${ref.name} on ${connection.server}\n`);
  const result = await destroyStack(connection, ref, {
    deleteVolumes: values['delete-volumes'],
    wait: !values['no-wait'],
    timeoutMs,
    onObject: (object) => io.stderr(`  ${object.kind} ${object.name} deleted\n`),
  });
  if (format === 'json') {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const lines = [`stack ${ref.namespace}/${ref.name}: ${result.deleted.length === 0 ? 'nothing to delete' : `${result.deleted.length} objects deleted`}`];
  for (const kept of result.kept) lines.push(`kept ${kept.kind} ${kept.name}: ${kept.why}`);
  if (result.namespaceDeleted) lines.push(`namespace ${ref.namespace} deleted (apply had created it for this stack)`);
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

export const command: Command = { help: HELP, run };
