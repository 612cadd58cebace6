// Updates Kubernetes refuses (422): a StatefulSet's spec may change only in a few fields. apply and plan name
// the field and what the change would take, in the same words, instead of the API's bare "spec: Forbidden".
import type { KubernetesObject } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { isQuantity, parseQuantity } from '../../spec/quantity.js';

/** The StatefulSet spec fields Kubernetes updates in place (apps/v1 validation); any other change is refused. */
const STATEFULSET_MUTABLE = [
  'replicas',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
];

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Where `wanted` is not contained in `live`: the live object also holds what the API server defaulted
 * (volumeMode, a claim template's status…), so only the fields we send are compared.
 */
function uncontained(live: unknown, wanted: unknown, path: string): string[] {
  if (isRecord(wanted) && isRecord(live))
    return Object.keys(wanted).flatMap((key) => uncontained(live[key], wanted[key], `${path}.${key}`));
  if (Array.isArray(wanted) && Array.isArray(live) && wanted.length === live.length)
    return wanted.flatMap((item, index) => uncontained(live[index], item, `${path}[${index}]`));
  return JSON.stringify(live) === JSON.stringify(wanted) ? [] : [path];
}

/** The fields of a StatefulSet's spec that the render changes and Kubernetes will not update in place. */
export function immutableChanges(rendered: KubernetesObject, live: KubernetesObject): string[] {
  if (rendered.kind !== 'StatefulSet') return [];
  const spec = ((rendered as { spec?: Json }).spec ?? {}) as Json;
  const liveSpec = ((live as { spec?: Json }).spec ?? {}) as Json;
  return Object.keys(spec)
    .filter((field) => !STATEFULSET_MUTABLE.includes(field))
    .flatMap((field) => uncontained(liveSpec[field], spec[field], `spec.${field}`));
}

/** Whether the API refused an update as invalid (422). */
export const isInvalid = (error: unknown) => error instanceof ClusterError && error.code === 422;

interface ClaimTemplate {
  metadata?: { name?: string };
  spec?: { storageClassName?: string; resources?: { requests?: { storage?: string } } };
}
const claimTemplates = (object: KubernetesObject) =>
  ((object as { spec?: { volumeClaimTemplates?: ClaimTemplate[] } }).spec?.volumeClaimTemplates ??
    []) as ClaimTemplate[];

/** A claim template's storage size, as rendered and as live, when it changes. */
export interface SizeChange {
  template: string;
  from: string;
  to: string;
}

/** The claim templates whose storage size the render changes. */
export function sizeChanges(rendered: KubernetesObject, live: KubernetesObject): SizeChange[] {
  const liveTemplates = claimTemplates(live);
  return claimTemplates(rendered).flatMap((template) => {
    const before = liveTemplates.find((candidate) => candidate.metadata?.name === template.metadata?.name);
    const from = before?.spec?.resources?.requests?.storage;
    const to = template.spec?.resources?.requests?.storage;
    return from && to && isQuantity(from) && isQuantity(to) && parseQuantity(from) !== parseQuantity(to)
      ? [{ template: template.metadata?.name ?? '', from, to }]
      : [];
  });
}

/**
 * Why deleting the StatefulSet (leaving its pods) and creating it again cannot make this change, from the
 * objects alone: a new selector would not take the pods over, and no volume can shrink.
 */
export function recreateRefusals(rendered: KubernetesObject, live: KubernetesObject): string[] {
  const name = rendered.metadata?.name;
  const fields = immutableChanges(rendered, live);
  return [
    ...(fields.some((field) => field.startsWith('spec.selector'))
      ? [`StatefulSet ${name}: a new selector would not take its pods over, so it cannot be created again over them`]
      : []),
    ...sizeChanges(rendered, live)
      .filter((change) => parseQuantity(change.to) < parseQuantity(change.from))
      .map(
        (change) =>
          `StatefulSet ${name}: the volumes of claim template ${change.template} cannot shrink from ${change.from} to ${change.to} (Kubernetes only expands volumes)`,
      ),
  ];
}

/**
 * What apply and plan say about a StatefulSet update Kubernetes refuses, and what the change would take:
 * the option that recreates the StatefulSet, when the surface has it and it can make the change.
 */
export function immutableMessage(rendered: KubernetesObject, live: KubernetesObject, recreateOption?: string): string {
  const name = rendered.metadata?.name;
  const fields = immutableChanges(rendered, live);
  const volumes = fields.some((field) => field.startsWith('spec.volumeClaimTemplates'));
  const refused = `StatefulSet ${name} cannot be updated in place: Kubernetes refuses changes to ${fields.length > 0 ? fields.join(', ') : 'its spec'} (only ${STATEFULSET_MUTABLE.join(', ')} may change).`;
  if (recreateOption && recreateRefusals(rendered, live).length === 0)
    return (
      `${refused} To make this change, re-run with ${recreateOption}: the StatefulSet is deleted leaving its pods running, ` +
      `then created again; it takes the pods over and rolls only those whose template changes` +
      (volumes ? '; a larger volume size also expands each claim, if its StorageClass allows volume expansion' : '')
    );
  return (
    `${refused} To make this change, delete the StatefulSet and keep its pods ` +
    `(kubectl delete statefulset ${name} -n ${live.metadata?.namespace} --cascade=orphan), then apply again: the new StatefulSet takes the pods over and rolls them` +
    (volumes ? '; the volumes of existing pods keep their size and class unless each claim is changed too' : '')
  );
}

/** An update Kubernetes refuses: nothing of the stack was changed. */
export class ImmutableFieldError extends ClusterError {
  constructor(messages: string[]) {
    super(`${messages.join('; ')}. Nothing was applied.`, 422, 'Invalid');
    this.name = 'ImmutableFieldError';
  }
}
