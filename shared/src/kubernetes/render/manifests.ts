// A rendered stack as files for GitOps: one YAML file per object, numbered in apply order, and a
// kustomization.yaml listing them, and the stack's other files (Prometheus). Used by `render -o DIR`, the
// Action's render command and Backstage, which confines them to its task's workspace (`within`).
import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { toYaml, type RenderedStack } from './index.js';

/**
 * Write the files into `directory` (created if needed); returns their names: objects, kustomization.yaml,
 * others. With `within`, nothing is written outside that directory (see writeFileWithin).
 */
export async function writeManifests(
  directory: string,
  rendered: RenderedStack,
  options: { within?: string } = {},
): Promise<string[]> {
  const write = (name: string, text: string) =>
    options.within
      ? writeFileWithin(options.within, join(directory, name), text)
      : writeFile(resolve(directory, name), text);
  if (options.within) await directoryWithin(options.within, directory);
  else await mkdir(directory, { recursive: true });
  const width = String(rendered.objects.length).length;
  const files = rendered.objects.map(
    (object, index) => `${String(index + 1).padStart(width, '0')}-${fileStem(object)}.yaml`,
  );
  await Promise.all(rendered.objects.map((object, index) => write(files[index]!, toYaml([object]))));
  const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files };
  await write('kustomization.yaml', stringify(kustomization));
  const extra = Object.entries(rendered.files);
  await Promise.all(extra.map(([name, text]) => write(name, text)));
  return [...files, 'kustomization.yaml', ...extra.map(([name]) => name)];
}

/**
 * Makes `path` (absolute, or relative to `root`) a directory inside `root`, creating what is missing. A path
 * that leaves `root`, or that passes through a symbolic link (which could point anywhere), is refused: the
 * directories are checked one by one with lstat, from the real path of `root`.
 */
export async function directoryWithin(root: string, path: string): Promise<string> {
  const base = await realpath(root);
  const inside = relative(resolve(root), resolve(root, path));
  if (inside.startsWith('..') || isAbsolute(inside)) throw new Error(`${path} is outside ${root}: refused`);
  let current = base;
  for (const part of inside.split(sep).filter(Boolean)) {
    current = join(current, part);
    const stat = await lstat(current).catch((error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? undefined : Promise.reject(error),
    );
    if (!stat)
      await mkdir(current).catch((error: NodeJS.ErrnoException) =>
        error.code === 'EEXIST' ? undefined : Promise.reject(error),
      );
    else if (stat.isSymbolicLink())
      throw new Error(
        `${relative(base, current)} in ${root} is a symbolic link: refused, as it could lead outside ${root}`,
      );
    else if (!stat.isDirectory()) throw new Error(`${relative(base, current)} in ${root} is not a directory`);
  }
  return current;
}

/** Writes a file inside `root` (see directoryWithin); a symbolic link in the file's place is refused, not followed. */
export async function writeFileWithin(root: string, path: string, text: string): Promise<void> {
  const target = resolve(root, path);
  const directory = await directoryWithin(root, dirname(target));
  const file = await open(
    join(directory, basename(target)),
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o644,
  ).catch((error: NodeJS.ErrnoException) =>
    Promise.reject(
      error.code === 'ELOOP'
        ? new Error(`${path} in ${root} is a symbolic link: refused, as it could lead outside ${root}`)
        : error,
    ),
  );
  try {
    await file.writeFile(text);
  } finally {
    await file.close();
  }
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
  const derived = rendered.derivedSecrets
    .filter((secret) => secret.madeBy === 'apply')
    .map(
      (secret) =>
        `${prefix}Secret ${secret.name} (keys ${secret.keys.join(', ')}) is not rendered: "loki-microservices apply" makes it at every apply.\n` +
        `${prefix}Without apply (GitOps), create it yourself: ${secret.description}.\n`,
    );
  return [...generated, ...derived].join('');
}
