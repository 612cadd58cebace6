// loki:stack:destroy — the core's destroy: only objects carrying this stack's labels, volumes kept unless
// deleteVolumes, the namespace only if deploy created it and nothing else is left in it.
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { InputError } from '@backstage/errors';
import { destroyStack, stackRefProblems } from 'loki-microservices';
import { CLUSTER_INPUT, type Clusters } from './clusters.js';
import { DESTROY_EXAMPLES } from './destroy.examples.js';
import { reportingFailures } from './failures.js';
import { timeoutMs } from './timeout.js';

export function createDestroyAction(options: { clusters: Clusters }) {
  return createTemplateAction({
    id: 'loki:stack:destroy',
    description: "Deletes a Loki stack: only the objects carrying its labels; volumes stay unless deleteVolumes; the namespace only if it was created for the stack and is empty.",
    examples: DESTROY_EXAMPLES,
    schema: {
      input: {
        ...CLUSTER_INPUT,
        name: (z) => z.string().default('loki').describe('Stack name.'),
        namespace: (z) => z.string().default('loki').describe('Stack namespace.'),
        deleteVolumes: (z) => z.boolean().default(false).describe('Also delete the volume claims (the data) and the bundled store\'s credentials.'),
        timeout: (z) => z.string().default('5m').describe('How long to wait for the deletions, e.g. 90s, 5m.'),
      },
      output: {
        deleted: (z) => z.array(z.string()).describe('Kind/name of every object deleted.'),
        kept: (z) => z.array(z.string()).describe('Kind/name and why, of every object of the stack kept.'),
        namespaceDeleted: (z) => z.boolean().describe('Whether the namespace was deleted too.'),
      },
    },
    async handler(ctx) {
      const ref = { name: ctx.input.name, namespace: ctx.input.namespace };
      const problems = stackRefProblems(ref).map((problem) => `input ${problem.path === 'metadata.name' ? 'name' : 'namespace'}: ${problem.message}`);
      if (problems.length > 0) throw new InputError(problems.join('; '));
      const waitMs = timeoutMs(ctx.input.timeout);
      const connection = options.clusters.connect(ctx.input.cluster);
      await reportingFailures(async () => {
        ctx.logger.info(`Destroying Loki stack ${ref.namespace}/${ref.name}${ctx.input.deleteVolumes ? ', volumes included' : ''}`);
        const result = await destroyStack(connection, ref, {
          deleteVolumes: ctx.input.deleteVolumes,
          timeoutMs: waitMs,
          onObject: (object) => ctx.logger.info(`${object.kind} ${object.name} deleted`),
        });
        for (const kept of result.kept) ctx.logger.info(`kept ${kept.kind} ${kept.name}: ${kept.why}`);
        ctx.output('deleted', result.deleted.map((object) => `${object.kind}/${object.name}`));
        ctx.output('kept', result.kept.map((object) => `${object.kind}/${object.name}: ${object.why}`));
        ctx.output('namespaceDeleted', result.namespaceDeleted);
      }).finally(() => connection.close());
    },
  });
}
