// What the kubelet needs from Secrets before a pod's containers can run: the Secret of each Secret volume
// (and the keys its items name), unless the volume is optional; the Secrets and keys a container's
// environment refers to (env secretKeyRef, envFrom secretRef), unless optional. The messages are the
// kubelet's. ConfigMaps and projected volumes are not checked.
import type { KubeObject, Store } from '../store.js';
import type { Container, Pod, Volume } from './objects.js';

export type SecretVolume = Volume & { secret: NonNullable<Volume['secret']> };

export const secretVolumes = (pod: Pod) =>
  (pod.spec.volumes ?? []).filter((volume): volume is SecretVolume => Boolean(volume.secret));
const dataOf = (secret: KubeObject | undefined) => (secret?.data ?? {}) as Record<string, string>;

/** The FailedMount message for the first Secret volume that cannot be set up, or undefined when all can. */
export function mountFailure(store: Store, pod: Pod): string | undefined {
  for (const volume of secretVolumes(pod)) {
    const { secretName, optional, items } = volume.secret;
    const secret = store.get('Secret', pod.metadata.namespace, secretName);
    if (!secret && optional) continue;
    const failure = !secret
      ? `secret "${secretName}" not found`
      : items?.find((item) => !(item.key in dataOf(secret)) && !optional)?.key;
    if (failure)
      return `MountVolume.SetUp failed for volume "${volume.name}" : ${secret ? `references non-existent secret key: ${failure}` : failure}`;
  }
  return undefined;
}

/** Why the kubelet cannot build a container's environment (CreateContainerConfigError), or undefined. */
export function environmentError(store: Store, namespace: string, container: Container): string | undefined {
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef;
    if (ref && !ref.optional && !store.get('Secret', namespace, ref.name)) return `secret "${ref.name}" not found`;
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (!ref || ref.optional) continue;
    const secret = store.get('Secret', namespace, ref.name);
    if (!secret) return `secret "${ref.name}" not found`;
    if (!(ref.key in dataOf(secret))) return `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`;
  }
  return undefined;
}

/** Whether the pod needs this Secret (a volume or a container's environment names it). */
export function usesSecret(pod: Pod, name: string): boolean {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  return (
    secretVolumes(pod).some((volume) => volume.secret.secretName === name) ||
    containers.some(
      (c) =>
        (c.envFrom ?? []).some((source) => source.secretRef?.name === name) ||
        (c.env ?? []).some((v) => v.valueFrom?.secretKeyRef?.name === name),
    )
  );
}

/** The files of a Secret volume: one per key (or per item), as the kubelet writes them. */
export function secretVolumeFiles(volume: SecretVolume, secret: KubeObject | undefined): Record<string, Buffer> {
  const data = dataOf(secret);
  const entries = volume.secret.items
    ? volume.secret.items.filter((item) => item.key in data).map((item) => [item.path, data[item.key]!] as const)
    : Object.entries(data);
  return Object.fromEntries(entries.map(([path, value]) => [path, Buffer.from(value, 'base64')]));
}
