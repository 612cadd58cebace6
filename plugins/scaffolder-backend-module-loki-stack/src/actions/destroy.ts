// loki:stack:destroy — the core's destroy: only objects carrying this stack's labels, volumes kept unless
// deleteVolumes, the namespace only if deploy created it and nothing else is left in it.
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { InputError } from '@backstage/errors';
import { destroyStack, stackRefProblems } from 'loki-microservices';
import type { PermissionsService } from '@backstage/backend-plugin-api';
import { CLUSTER_INPUT, type Clusters } from './clusters.js';
import { DESTROY_EXAMPLES } from './destroy.examples.js';
import { reportingFailures } from './failures.js';
import { inputParser, SCAFFOLDER_OPTION_NAMES } from './input.js';
import { authorizeInitiator, lokiStackDestroyPermission } from './permissions.js';
import type { Z } from './stack.js';
import { timeoutMs } from './timeout.js';

const INPUT = {
  ...CLUSTER_INPUT,
  name: (z: Z) => z.string().default('loki').describe('Stack name.'),
  namespace: (z: Z) => z.string().default('loki').describe('Stack namespace.'),
  deleteVolumes: (z: Z) =>
    z
      .boolean()
      .default(false)
      .describe("Also delete the volume claims (the data) and the bundled store's credentials."),
  timeout: (z: Z) => z.string().default('5m').describe('How long to wait for the deletions, e.g. 90s, 5m.'),
};
const parseInput = inputParser(INPUT);

export function createDestroyAction(options: { clusters: Clusters; permissions: PermissionsService }) {
  return createTemplateAction({
    id: 'loki:stack:destroy',
    description:
      'Deletes a Loki stack: only the objects carrying its labels; volumes stay unless deleteVolumes; the namespace only if it was created for the stack and is empty.',
    examples: DESTROY_EXAMPLES,
    schema: {
      input: INPUT,
      output: {
        deleted: (z) => z.array(z.string()).describe('Kind/name of every object deleted.'),
        kept: (z) => z.array(z.string()).describe('Kind/name and why, of every object of the stack kept.'),
        namespaceDeleted: (z) => z.boolean().describe('Whether the namespace was deleted too.'),
      },
    },
    async handler(ctx) {
      const input = parseInput(ctx.input);
      const ref = { name: input.name, namespace: input.namespace };
      const problems = stackRefProblems(ref).map(
        (problem) => `input ${problem.path === 'metadata.name' ? 'name' : 'namespace'}: ${problem.message}`,
      );
      if (problems.length > 0) throw new InputError(problems.join('; '));
      const waitMs = timeoutMs(input.timeout);
      await authorizeInitiator(options.permissions, ctx, lokiStackDestroyPermission);
      const connection = options.clusters.connect(input.cluster, ref.namespace);
      await reportingFailures(async () => {
        ctx.logger.info(
          `Destroying Loki stack ${ref.namespace}/${ref.name}${input.deleteVolumes ? ', volumes included' : ''}`,
        );
        const result = await destroyStack(connection, ref, {
          deleteVolumes: input.deleteVolumes,
          timeoutMs: waitMs,
          optionNames: SCAFFOLDER_OPTION_NAMES,
          onObject: (object) => ctx.logger.info(`${object.kind} ${object.name} deleted`),
        });
        for (const kept of result.kept) ctx.logger.info(`kept ${kept.kind} ${kept.name}: ${kept.why}`);
        ctx.output(
          'deleted',
          result.deleted.map((object) => `${object.kind}/${object.name}`),
        );
        ctx.output(
          'kept',
          result.kept.map((object) => `${object.kind}/${object.name}: ${object.why}`),
        );
        ctx.output('namespaceDeleted', result.namespaceDeleted);
      }).finally(() => connection.close());
    },
  });
}
