import { destroyStack } from '../kubernetes/ops/destroy.js';
import type { CliIo, Command } from './io.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import {
  destroyOnNomad,
  NOMAD_HELP,
  NOMAD_OPTIONS,
  parseTarget,
  rejectKubernetesOptions,
  rejectNomadOptions,
  TARGET_HELP,
  TARGET_OPTION,
} from './nomad.js';
import { loadStack, parseCommandLine, parseDuration, parseFormat, SPEC_HELP, SPEC_OPTIONS } from './options.js';
import { UsageError } from './io.js';

const HELP = `Usage: loki-microservices destroy [-f spec.yaml] [--set path=value ...] [--delete-volumes] [options]

Delete a Loki stack: every object that carries its instance and managed-by labels, in reverse apply order,
then wait until they are gone. Nothing else is touched, even in the same namespace. Volumes (and so the
data), with the generated credentials of the bundled object store, stay unless --delete-volumes; the namespace goes only if "apply" created it for this stack and it
is empty. Destroying a stack that does not exist succeeds and deletes nothing.
With --target nomad: stop (deregister) the job if loki-microservices made it; --purge also forgets it.
CSI volumes are never deleted; data on ephemeral disks goes with the allocations, as always on Nomad.

Options:
${SPEC_HELP}
${TARGET_HELP}
${CLUSTER_HELP}
${NOMAD_HELP}
      --purge            Target nomad: purge the job (nomad job stop -purge)
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
    ...TARGET_OPTION,
    ...CLUSTER_OPTIONS,
    ...NOMAD_OPTIONS,
    purge: { type: 'boolean' },
    'delete-volumes': { type: 'boolean' },
    'no-wait': { type: 'boolean' },
    timeout: { type: 'string', default: '5m' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['text', 'json'], 'text');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  const target = parseTarget(values.target);
  if (target === 'kubernetes') {
    rejectNomadOptions(values);
    if (values.purge) throw new UsageError('--purge needs --target nomad');
  } else {
    if (values['delete-volumes'])
      throw new UsageError(
        '--delete-volumes is for Kubernetes: on Nomad, CSI volumes are yours to delete (nomad volume delete)',
      );
    rejectKubernetesOptions(values, ['no-wait']);
  }
  const stack = await loadStack(values, io);
  if (target === 'nomad') return destroyOnNomad(stack, { ...values, json: format === 'json' }, io);
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
  const lines = [
    `stack ${ref.namespace}/${ref.name}: ${result.deleted.length === 0 ? 'nothing to delete' : `${result.deleted.length} objects deleted`}`,
  ];
  for (const kept of result.kept) lines.push(`kept ${kept.kind} ${kept.name}: ${kept.why}`);
  if (result.namespaceDeleted) lines.push(`namespace ${ref.namespace} deleted (apply had created it for this stack)`);
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

export const command: Command = { help: HELP, run };
