// The commands besides deploy: render (no cluster), status (read only) and destroy.
import * as core from '@actions/core';
import {
  connect,
  credentialsSecretNameOf,
  destroyStack,
  generatedSecretsNote,
  getStackStatus,
  renderKubernetes,
  withStorageCredentials,
  writeManifests,
} from 'loki-microservices';
import { ACTION_OPTION_NAMES, type Inputs } from './inputs.js';
import { setStatusOutputs, stackTitle } from './outputs.js';
import { addHeading, addStatus } from './summary.js';

export async function render(inputs: Inputs): Promise<void> {
  const { stack } = inputs;
  // Credentials are never written to files: the manifests reference their Secret, made by deploy or by you.
  const rendered = renderKubernetes(withStorageCredentials(stack, inputs.credentials));
  const files = await writeManifests(inputs.outputDir, rendered);
  core.info(`wrote ${files.length} files to ${inputs.outputDir}`);
  const notes = generatedSecretsNote(rendered, '');
  if (notes) core.notice(notes.trim(), { title: 'Secret not rendered' });
  if (Object.keys(inputs.credentials).length > 0) {
    const secret = credentialsSecretNameOf(stack);
    core.notice(
      `The credential inputs are not written to the manifests; they reference the Secret ${secret}, which deploy creates from them. Create it yourself when applying these files another way.`,
      { title: 'Secret not rendered' },
    );
  }
  core.setOutput('manifests', inputs.outputDir);
  addHeading(`${stackTitle(stack)}: rendered`);
  core.summary.addRaw(
    `${files.length} files in <code>${inputs.outputDir}</code> (Loki ${stack.spec.version}, profile ${stack.spec.profile})`,
    true,
  );
}

export async function status(inputs: Inputs): Promise<void> {
  const { stack } = inputs;
  const connection = connect({ kubeconfig: inputs.kubeconfig, context: inputs.context });
  const current = await getStackStatus(connection, { name: stack.metadata.name, namespace: stack.metadata.namespace });
  setStatusOutputs(current);
  core.info(`${current.condition.type} (${current.condition.reason}): ${current.condition.message}`);
  if (current.condition.type !== 'Ready')
    core.warning(`${stackTitle(stack)} is ${current.condition.type}: ${current.condition.message}`);
  addHeading(stackTitle(stack), current);
  addStatus(current);
}

export async function destroy(inputs: Inputs): Promise<void> {
  const { stack } = inputs;
  const connection = connect({ kubeconfig: inputs.kubeconfig, context: inputs.context });
  const ref = { name: stack.metadata.name, namespace: stack.metadata.namespace };
  const result = await core.group('destroy', () =>
    destroyStack(connection, ref, {
      deleteVolumes: inputs.deleteVolumes,
      timeoutMs: inputs.timeoutMs,
      optionNames: ACTION_OPTION_NAMES,
      onObject: (object) => core.info(`${object.kind} ${object.name} deleted`),
    }),
  );
  addHeading(`${stackTitle(stack)}: destroyed`);
  core.summary.addRaw(
    result.deleted.length === 0 ? 'Nothing to delete.' : `${result.deleted.length} objects deleted.`,
    true,
  );
  if (result.kept.length > 0)
    core.summary.addList(result.kept.map((kept) => `kept ${kept.kind} ${kept.name}: ${kept.why}`));
  if (result.namespaceDeleted)
    core.summary.addRaw(
      `Namespace <code>${ref.namespace}</code> deleted (deploy had created it for this stack).`,
      true,
    );
}
