// loki:stack:plan — what loki:stack:deploy would change, without changing anything: the core's plan (a
// server-side dry run compared with the live objects), as outputs a later step or the task's output page can
// show. Changes the cluster refuses are in the plan's blockers; the step itself succeeds.
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { formatPlanText, planStack, planSummary, until, type Connection, type LokiStack } from 'loki-microservices';
import type { LoggerService, PermissionsService } from '@backstage/backend-plugin-api';
import type { JsonValue } from '@backstage/types';
import { CLUSTER_INPUT, type Clusters } from './clusters.js';
import { reportingFailures } from './failures.js';
import { inputParser, SCAFFOLDER_OPTION_NAMES } from './input.js';
import { authorizeInitiator, lokiStackDeployPermission } from './permissions.js';
import { PLAN_EXAMPLES } from './plan.examples.js';
import { STACK_INPUT, stackFromInput, type Z } from './stack.js';
import { timeoutMs } from './timeout.js';

const INPUT = {
  ...CLUSTER_INPUT,
  ...STACK_INPUT,
  timeout: (z: Z) =>
    z.string().default('2m').describe('How long to retry an unreachable API server, e.g. 90s, 2m. Default: 2m.'),
  adopt: (z: Z) =>
    z
      .boolean()
      .default(false)
      .describe('Plan as loki:stack:deploy with adopt: true would (objects of the stack names it did not create).'),
};
const parseInput = inputParser(INPUT);

/** The plan of `stack` on `connection`, in the task log: the text plan, a line each. */
export async function planInto(
  logger: LoggerService,
  connection: Connection,
  stack: LokiStack,
  options: { adopt: boolean; deadline: number },
) {
  const plan = await planStack(connection, stack, {
    adopt: options.adopt,
    optionNames: SCAFFOLDER_OPTION_NAMES,
    retry: until(options.deadline),
  });
  for (const line of formatPlanText(plan).trimEnd().split('\n')) logger.info(line);
  for (const warning of plan.warnings) logger.warn(`${warning.code}: ${warning.message}`);
  return plan;
}

export function createPlanAction(options: { clusters: Clusters; permissions: PermissionsService }) {
  return createTemplateAction({
    id: 'loki:stack:plan',
    description:
      'Shows what loki:stack:deploy would change, without changing anything: every changed object with its impact, the pods that would roll and why, changes the cluster refuses and Loki-level warnings.',
    examples: PLAN_EXAMPLES,
    supportsDryRun: true,
    schema: {
      input: INPUT,
      output: {
        plan: (z) =>
          z
            .record(z.string(), z.custom<JsonValue>())
            .describe('The plan (StackPlan, apiVersion loki-microservices/v1alpha1), see the plan contract.'),
        hasChanges: (z) => z.boolean().describe('Whether deploy would change anything.'),
        summary: (z) =>
          z.string().describe('One line: how many changes of each impact, and how many pods roll; "no changes".'),
      },
    },
    async handler(ctx) {
      const input = parseInput(ctx.input);
      const stack = stackFromInput(input);
      const waitMs = timeoutMs(input.timeout);
      await authorizeInitiator(options.permissions, ctx, lokiStackDeployPermission);
      const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
      const connection = options.clusters.connect(input.cluster, ref.namespace);
      await reportingFailures(async () => {
        ctx.logger.info(
          `Planning Loki ${stack.spec.version} stack ${ref.namespace}/${ref.name} on cluster ${input.cluster}; nothing is changed`,
        );
        const plan = await planInto(ctx.logger, connection, stack, {
          adopt: input.adopt,
          deadline: Date.now() + waitMs,
        });
        ctx.output('plan', plan as unknown as Record<string, JsonValue>);
        ctx.output('hasChanges', plan.hasChanges);
        ctx.output('summary', planSummary(plan));
      }).finally(() => connection.close());
    },
  });
}
