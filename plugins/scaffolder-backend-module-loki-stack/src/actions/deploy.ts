// loki:stack:deploy — apply, wait until ready, optionally smoke-test; in a dry run (the scaffolder's, or input
// dryRun), the plan of loki:stack:plan instead: a server-side dry run that changes nothing. The apply runs in a checkpoint, so a retried task does not apply again (which is why
// the wait is not part of the apply's locked run, as it is for the CLI and the Action).
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  actionCounts,
  applyStack,
  ClusterError,
  getStackStatus,
  planSummary,
  stackEndpoints,
  until,
  verifyStack,
} from 'loki-microservices';
import type { PermissionsService } from '@backstage/backend-plugin-api';
import type { JsonValue } from '@backstage/types';
import { CLUSTER_INPUT, type Clusters } from './clusters.js';
import { DEPLOY_EXAMPLES } from './deploy.examples.js';
import { reportingFailures } from './failures.js';
import { inputParser, SCAFFOLDER_OPTION_NAMES } from './input.js';
import { authorizeInitiator, lokiStackDeployPermission } from './permissions.js';
import { planInto } from './plan.js';
import { EXTERNAL_URL_OUTPUT, STACK_INPUT, stackFromInput, type Z } from './stack.js';
import { timeoutMs } from './timeout.js';

const INPUT = {
  ...CLUSTER_INPUT,
  ...STACK_INPUT,
  wait: (z: Z) =>
    z
      .boolean()
      .default(true)
      .describe('Wait until every component is ready; fail with a diagnosis if it does not get there in time.'),
  timeout: (z: Z) => z.string().default('10m').describe('How long to wait (and smoke-test), e.g. 90s, 10m.'),
  smokeTest: (z: Z) =>
    z
      .boolean()
      .default(false)
      .describe('After the wait, push a log line to the distributor and read it back through the query-frontend.'),
  adopt: (z: Z) =>
    z
      .boolean()
      .default(false)
      .describe(
        'Make existing objects of the names the stack renders, which loki-microservices did not create, part of the stack; without it, deploy refuses them and changes nothing.',
      ),
  dryRun: (z: Z) =>
    z
      .boolean()
      .default(false)
      .describe(
        'Change nothing: output the plan (what deploy would change, as loki:stack:plan does) instead of deploying. Fails, as deploy would, on a change the cluster refuses.',
      ),
};
const parseInput = inputParser(INPUT);

export function createDeployAction(options: { clusters: Clusters; permissions: PermissionsService }) {
  return createTemplateAction({
    id: 'loki:stack:deploy',
    description:
      'Deploys a Loki stack to a cluster by server-side apply, waits until every component is ready, and optionally pushes and queries a test line.',
    examples: DEPLOY_EXAMPLES,
    supportsDryRun: true,
    schema: {
      input: INPUT,
      output: {
        name: (z) => z.string().describe('The stack name.'),
        namespace: (z) => z.string().describe('The stack namespace.'),
        pushUrl: (z) => z.string().describe("In-cluster URL of Loki's push API (the distributor)."),
        queryUrl: (z) => z.string().describe('In-cluster URL of the query-frontend, a Grafana data source URL.'),
        ...EXTERNAL_URL_OUTPUT,
        status: (z) =>
          z
            .record(z.string(), z.custom<JsonValue>())
            .optional()
            .describe('The stack status (StackStatus); not in a dry run.'),
        plan: (z) =>
          z
            .record(z.string(), z.custom<JsonValue>())
            .optional()
            .describe("In a dry run (dryRun, or the scaffolder's): what deploy would change (StackPlan)."),
      },
    },
    async handler(ctx) {
      const input = parseInput(ctx.input);
      const stack = stackFromInput(input);
      const waitMs = timeoutMs(input.timeout);
      await authorizeInitiator(options.permissions, ctx, lokiStackDeployPermission);
      const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
      const connection = options.clusters.connect(input.cluster, ref.namespace);
      const where = `cluster ${input.cluster}`;
      const endpoints = stackEndpoints(stack);
      ctx.output('name', ref.name);
      ctx.output('namespace', ref.namespace);
      ctx.output('pushUrl', endpoints.push);
      ctx.output('queryUrl', endpoints.query);
      if (endpoints.external) {
        ctx.output('externalPushUrl', endpoints.external.push);
        ctx.output('externalQueryUrl', endpoints.external.query);
      }
      const onObject = (object: { kind: string; name: string; action: string }) =>
        ctx.logger.info(`${object.kind} ${object.name} ${object.action}`);
      const deadline = Date.now() + waitMs;
      const applyOptions = {
        adopt: input.adopt,
        optionNames: SCAFFOLDER_OPTION_NAMES,
        retry: until(deadline),
        onObject,
      };

      await reportingFailures(async () => {
        if (ctx.isDryRun || input.dryRun) {
          ctx.logger.info(
            `Dry run: server-side dry run of Loki ${stack.spec.version} stack ${ref.namespace}/${ref.name} on ${where}; nothing is changed`,
          );
          const plan = await planInto(ctx.logger, connection, stack, { adopt: input.adopt, deadline });
          ctx.output('plan', plan as unknown as Record<string, JsonValue>);
          ctx.logger.info(`Dry run: ${planSummary(plan)}`);
          // Deploy would stop on these before changing anything: so does its dry run.
          if (plan.blockers.length > 0)
            throw new ClusterError(
              `deploy would stop before changing anything: ${plan.blockers.map((blocker) => blocker.message).join('; ')}`,
              422,
              'Invalid',
            );
          return;
        }

        ctx.logger.info(
          `Deploying Loki ${stack.spec.version} stack ${ref.namespace}/${ref.name} (profile ${stack.spec.profile}) to ${where}`,
        );
        const applied = await ctx.checkpoint({
          key: `loki-stack-apply-${input.cluster}-${ref.namespace}-${ref.name}`,
          fn: async () => actionCounts(await applyStack(connection, stack, applyOptions)),
        });
        ctx.logger.info(`Applied: ${JSON.stringify(applied)}`);
        await verifyStack(connection, stack, {
          wait: input.wait,
          smoke: input.smokeTest,
          deadline,
          signal: ctx.signal,
          onProgress: (line) => ctx.logger.info(line),
          onPhase: (phase) => (summary) =>
            phase === 'smoke test' && summary && ctx.logger.info(`Smoke test ${summary}`),
        });
        const status = await getStackStatus(connection, ref);
        ctx.logger.info(`${status.condition.type}: ${status.condition.message}`);
        ctx.output('status', status as unknown as Record<string, JsonValue>);
      }).finally(() => connection.close());
    },
  });
}
