// `recreateStatefulSets`: a StatefulSet change Kubernetes refuses in place (immutable.ts) made by deleting the
// StatefulSet with propagationPolicy Orphan (its pods keep running, the garbage collector takes its
// ownerReference off them) and letting apply create it again: the StatefulSet controller adopts the pods by
// selector and rolls only those whose template revision differs. A larger volume size also expands each
// existing claim, which Kubernetes allows only when the claim's StorageClass has allowVolumeExpansion.
// Everything is checked (reads only) before anything is written.
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { MANAGER } from '../../stack/names.js';
import { parseQuantity } from '../../spec/quantity.js';
import type { Connection } from './connection.js';
import { recreateRefusals, sizeChanges } from './immutable.js';
import { notFoundAsUndefined } from './kinds.js';
import { withRetry, type RetryPolicy } from './retry.js';

/** A claim grown with its StatefulSet's new volume size. */
export interface ClaimExpansion {
  name: string;
  storageClass: string;
  from: string;
  to: string;
}

/** A StatefulSet deleted (its pods left running) and created again, and the claims expanded with it. */
export interface Recreation {
  name: string;
  /** The immutable fields that changed. */
  fields: string[];
  claims: ClaimExpansion[];
}

interface Claim extends KubernetesObject {
  spec?: { storageClassName?: string; resources?: { requests?: { storage?: string } } };
  status?: { phase?: string };
}

/** One line for the log about a recreated StatefulSet. */
export function describeRecreation(recreation: Recreation): string {
  const claims = recreation.claims.map((claim) => `${claim.name} ${claim.from} → ${claim.to}`);
  return (
    `StatefulSet ${recreation.name} recreated (its pods left running) for ${recreation.fields.join(', ')}` +
    (claims.length > 0 ? `; claims expanded: ${claims.join(', ')}` : '')
  );
}

/**
 * What recreating the StatefulSet would do, or why it cannot: the claims of each template whose size grows
 * (`<template>-<set>-<ordinal>`, listed by the set's selector labels, which they carry) must be bound and of a
 * StorageClass that allows expansion; a claim's class cannot change, so a new class reaches new claims only.
 */
export async function recreationOf(
  connection: Connection,
  rendered: KubernetesObject,
  live: KubernetesObject,
  fields: string[],
  retry: RetryPolicy,
): Promise<{ recreation?: Recreation; refusals: string[] }> {
  const name = rendered.metadata?.name ?? '';
  const namespace = live.metadata?.namespace ?? '';
  const refusals = recreateRefusals(rendered, live);
  if (refusals.length > 0) return { refusals };
  const templates = ((rendered as { spec?: { volumeClaimTemplates?: Claim[] } }).spec?.volumeClaimTemplates ??
    []) as Claim[];
  const classChanges = templates.filter((template) => template.spec?.storageClassName);
  const growing = sizeChanges(rendered, live);
  if (classChanges.length === 0 && growing.length === 0) return { recreation: { name, fields, claims: [] }, refusals };
  const selector = (live as { spec?: { selector?: { matchLabels?: Record<string, string> } } }).spec?.selector;
  const labelSelector = Object.entries(selector?.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const listed = await withRetry(
    `listing the claims of StatefulSet ${namespace}/${name}`,
    () => connection.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector }),
    retry,
  );
  const claimsOf = (template: string) =>
    (listed.items as Claim[])
      .filter((claim) => new RegExp(`^${template}-${name}-\\d+$`).test(claim.metadata?.name ?? ''))
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '', 'en', { numeric: true }));
  for (const template of classChanges) {
    const wanted = template.spec!.storageClassName!;
    const others = claimsOf(template.metadata?.name ?? '').filter((claim) => claim.spec?.storageClassName !== wanted);
    if (others.length > 0)
      refusals.push(
        `StatefulSet ${name}: claim ${others[0]!.metadata?.name} is of StorageClass ${others[0]!.spec?.storageClassName ?? '(none)'}, and a claim's class cannot change: ` +
          `StorageClass ${wanted} would reach new claims only (delete the claims, and their data, to have them made again)`,
      );
  }
  const classes = new Map<string, KubernetesObject | undefined>();
  const classOf = async (className: string) => {
    if (!classes.has(className))
      classes.set(
        className,
        await withRetry(
          `reading StorageClass ${className}`,
          () =>
            connection.objects
              .read({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: className } })
              .catch(notFoundAsUndefined),
          retry,
        ),
      );
    return classes.get(className);
  };
  const claims: ClaimExpansion[] = [];
  for (const change of growing)
    for (const claim of claimsOf(change.template)) {
      const claimName = claim.metadata?.name ?? '';
      const current = claim.spec?.resources?.requests?.storage;
      if (current && parseQuantity(current) >= parseQuantity(change.to)) continue;
      const className = claim.spec?.storageClassName;
      const why = (reason: string) =>
        refusals.push(`StatefulSet ${name}: claim ${claimName} cannot grow to ${change.to}: ${reason}`);
      if (!className) {
        why('it has no StorageClass (only dynamically provisioned claims can be expanded)');
        continue;
      }
      if (claim.status?.phase !== 'Bound') {
        why(`it is ${claim.status?.phase ?? 'not bound'} (only bound claims can be expanded)`);
        continue;
      }
      const storageClass = await classOf(className);
      if (!storageClass) why(`its StorageClass ${className} does not exist`);
      else if ((storageClass as { allowVolumeExpansion?: boolean }).allowVolumeExpansion !== true)
        why(`its StorageClass ${className} does not allow volume expansion (allowVolumeExpansion is not true)`);
      else claims.push({ name: claimName, storageClass: className, from: current ?? change.from, to: change.to });
    }
  return refusals.length > 0 ? { refusals } : { recreation: { name, fields, claims }, refusals };
}

/**
 * Expand the claims, then delete the StatefulSet leaving its pods and wait until it is gone (the garbage
 * collector has taken its ownerReference off the pods by then), so that apply creates it again. The claims go
 * first: should anything fail, the StatefulSet is still there and the next apply finds the same change.
 */
export async function recreateStatefulSet(
  connection: Connection,
  live: KubernetesObject,
  recreation: Recreation,
  retry: RetryPolicy,
  timeoutMs = 120_000,
): Promise<void> {
  const namespace = live.metadata?.namespace ?? '';
  for (const claim of recreation.claims) {
    const body = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: claim.name, namespace },
      spec: { resources: { requests: { storage: claim.to } } },
    };
    await withRetry(
      `expanding PersistentVolumeClaim ${namespace}/${claim.name} to ${claim.to}`,
      () => connection.objects.patch(body, undefined, undefined, MANAGER, undefined, PatchStrategy.MergePatch),
      retry,
    );
  }
  const target = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: recreation.name, namespace } };
  await withRetry(
    `deleting StatefulSet ${namespace}/${recreation.name} (its pods left running)`,
    () =>
      connection.objects
        .delete(target, undefined, undefined, undefined, undefined, 'Orphan', {
          preconditions: { uid: live.metadata?.uid },
        })
        .catch(notFoundAsUndefined),
    retry,
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await withRetry(
      `reading StatefulSet ${namespace}/${recreation.name}`,
      () => connection.objects.read(target).catch(notFoundAsUndefined),
      retry,
    );
    if (!current || current.metadata?.uid !== live.metadata?.uid) return;
    if (Date.now() > deadline)
      throw new ClusterError(
        `timed out waiting for StatefulSet ${namespace}/${recreation.name} to be deleted (its pods are left running); apply again to create it`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
