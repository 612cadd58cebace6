// A rendered stack as files for GitOps: one YAML file per object, numbered in apply order, and a
// kustomization.yaml listing them, and the stack's other files (Prometheus). Used by `render -o DIR`, the Action's render command and Backstage.
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { toYaml, type RenderedStack } from './kubernetes/index.js';

/** Write the files into `directory` (created if needed); returns their names: objects, kustomization.yaml, others. */
export async function writeManifests(directory: string, rendered: RenderedStack): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  const width = String(rendered.objects.length).length;
  const files = rendered.objects.map((object, index) => `${String(index + 1).padStart(width, '0')}-${fileStem(object)}.yaml`);
  await Promise.all(rendered.objects.map((object, index) => writeFile(resolve(directory, files[index]!), toYaml([object]))));
  const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files };
  await writeFile(resolve(directory, 'kustomization.yaml'), stringify(kustomization));
  const extra = Object.entries(rendered.files);
  await Promise.all(extra.map(([name, text]) => writeFile(resolve(directory, name), text)));
  return [...files, 'kustomization.yaml', ...extra.map(([name]) => name)];
}

function fileStem(object: KubernetesObject): string {
  return `${object.kind!.toLowerCase()}-${object.metadata!.name}`;
}

/** Tell GitOps users which Secrets they must provide themselves (apply makes them); one line each, `prefix`ed. */
export function generatedSecretsNote(rendered: RenderedStack, prefix: string): string {
  const generated = rendered.generatedSecrets.map(
    (secret) =>
      `${prefix}Secret ${secret.namespace}/${secret.name} (keys ${secret.keys.join(', ')}) is not rendered: ` +
      `"loki-microservices apply" creates it with random values if it does not exist.\n` +
      `${prefix}Without apply (GitOps), create it yourself or name your own with ${secret.instead}.\n`,
  );
  const derived = rendered.derivedSecrets.filter((secret) => secret.madeBy === 'apply').map(
    (secret) =>
      `${prefix}Secret ${secret.name} (keys ${secret.keys.join(', ')}) is not rendered: "loki-microservices apply" makes it at every apply.\n` +
      `${prefix}Without apply (GitOps), create it yourself: ${secret.description}.\n`,
  );
  return [...generated, ...derived].join('');
}
