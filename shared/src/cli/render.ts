import { resolve } from 'node:path';
import { renderKubernetes, toYaml, type RenderedStack } from '../kubernetes/render/index.js';
import { generatedSecretsNote, writeManifests } from '../kubernetes/render/manifests.js';
import type { LokiStack } from '../spec/schema.js';
import { VERSION } from '../version.js';
import type { CliIo, Command } from './io.js';
import { parseTarget, renderNomadFiles, TARGET_HELP, TARGET_OPTION } from './nomad.js';
import { loadStack, parseCommandLine, SPEC_HELP, SPEC_OPTIONS } from './options.js';

const HELP = `Usage: loki-microservices render [-f spec.yaml] [--set path=value ...] [-t kubernetes|nomad] [-o DIR]

Print the Kubernetes manifests of a Loki stack as multi-document YAML, in apply order; with --target nomad,
the Nomad job (HCL2). Without -f, renders the default stack (profile demo, namespace loki). Nothing is contacted.

Options:
${SPEC_HELP}
${TARGET_HELP}
  -o, --output-dir DIR   Write one file per object and a kustomization.yaml to DIR instead (nomad:
                         <name>.nomad.hcl and prometheus-scrape.yaml)
  -h, --help             Show this help

Exit codes: 0 rendered, 2 invalid spec or usage, 1 other error.
`;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...TARGET_OPTION,
    'output-dir': { type: 'string', short: 'o' },
  });
  const target = parseTarget(values.target);
  const stack = await loadStack(values, io);
  if (target === 'nomad') return renderNomadFiles(stack, values['output-dir'], io);
  const rendered = renderKubernetes(stack);
  if (values['output-dir']) {
    const directory = resolve(io.cwd, values['output-dir']);
    const files = await writeManifests(directory, rendered);
    io.stderr(`wrote ${files.length} files to ${directory}\n${generatedSecretsNote(rendered, '')}`);
  } else {
    io.stdout(`${header(stack, rendered)}${toYaml(rendered.objects)}`);
  }
  return 0;
}

function header(stack: LokiStack, rendered: RenderedStack): string {
  const lines = [
    `# Loki ${stack.spec.version} microservices stack "${stack.metadata.name}" in namespace "${stack.metadata.namespace}" (profile ${stack.spec.profile}),`,
    `# rendered by loki-microservices ${VERSION}. Apply in this order (kubectl apply --server-side -f -).`,
  ];
  return `${lines.join('\n')}\n${generatedSecretsNote(rendered, '# ')}`;
}

export const command: Command = { help: HELP, run };
