// loki:stack:render — the stack as files in the workspace, for GitOps: the spec (loki-stack.yaml) and the
// manifests (manifests/, one file per object and a kustomization.yaml). Contacts no cluster.
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  generatedSecretsNote,
  renderKubernetes,
  stackEndpoints,
  writeFileWithin,
  writeManifests,
} from 'loki-microservices';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { reportingFailures } from './failures.js';
import { RENDER_EXAMPLES } from './render.examples.js';
import { inputParser } from './input.js';
import { EXTERNAL_URL_OUTPUT, specDocumentOf, STACK_INPUT, stackFromInput, type Z } from './stack.js';

const INPUT = {
  ...STACK_INPUT,
  targetPath: (z: Z) =>
    z.string().default('./loki').describe('Directory in the workspace to write to. Default: ./loki.'),
};
const parseInput = inputParser(INPUT);

export function createRenderAction() {
  return createTemplateAction({
    id: 'loki:stack:render',
    description:
      'Renders a Loki stack into the workspace: its spec (loki-stack.yaml) and Kubernetes manifests (manifests/ with a kustomization.yaml), for GitOps.',
    examples: RENDER_EXAMPLES,
    supportsDryRun: true,
    schema: {
      input: INPUT,
      output: {
        specPath: (z) => z.string().describe('The spec file, relative to the workspace.'),
        manifestsPath: (z) => z.string().describe('The manifests directory, relative to the workspace.'),
        files: (z) => z.array(z.string()).describe('Every file written, relative to the workspace.'),
        pushUrl: (z) => z.string().describe("In-cluster URL of Loki's push API (the distributor), once deployed."),
        queryUrl: (z) =>
          z.string().describe('In-cluster URL of the query-frontend (a Grafana data source URL), once deployed.'),
        ...EXTERNAL_URL_OUTPUT,
      },
    },
    async handler(ctx) {
      const input = parseInput(ctx.input);
      const stack = stackFromInput(input);
      const target = resolveSafeChildPath(ctx.workspacePath, input.targetPath);
      const rendered = renderKubernetes(stack);
      const inWorkspace = (path: string) => relative(ctx.workspacePath, path);
      const specFile = join(target, 'loki-stack.yaml');
      const manifests = join(target, 'manifests');
      // A symbolic link planted in the workspace (by an earlier step, or a fetched repository) must not lead the
      // files out of it.
      const written = await reportingFailures(async () => {
        await writeFileWithin(ctx.workspacePath, specFile, stringify(specDocumentOf(input)));
        return writeManifests(manifests, rendered, { within: ctx.workspacePath });
      });
      ctx.logger.info(
        `Rendered Loki ${stack.spec.version} stack ${stack.metadata.namespace}/${stack.metadata.name} (profile ${stack.spec.profile}): ${rendered.objects.length} objects in ${inWorkspace(manifests)}`,
      );
      const note = generatedSecretsNote(rendered, '');
      if (note) ctx.logger.info(note.trim());
      ctx.output('specPath', inWorkspace(specFile));
      ctx.output('manifestsPath', inWorkspace(manifests));
      const endpoints = stackEndpoints(stack);
      ctx.output('pushUrl', endpoints.push);
      ctx.output('queryUrl', endpoints.query);
      if (endpoints.external) {
        ctx.output('externalPushUrl', endpoints.external.push);
        ctx.output('externalQueryUrl', endpoints.external.query);
      }
      ctx.output('files', [inWorkspace(specFile), ...written.map((file) => inWorkspace(join(manifests, file)))]);
    },
  });
}
