// The PVC protection controller: a claim marked for deletion keeps its `kubernetes.io/pvc-protection`
// finalizer (added at creation, see defaults.ts) while a pod still uses it, and loses it once none does.
import type { Change } from '../store.js';
import { writeObject, type ClusterContext, type Controller } from './context.js';
import { CONTROLLER_MANAGER, isDeleting, refTo, type ObjectRef, type Pod } from './objects.js';

export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';

export class PvcProtectionController implements Controller {
  readonly name = 'pvc-protection';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    if (change.kind === 'PersistentVolumeClaim' && change.type !== 'DELETED' && isDeleting(change.object))
      return [refTo('PersistentVolumeClaim', change.object)];
    // A pod that goes may release claims that wait for it.
    if (change.kind === 'Pod' && change.type === 'DELETED') {
      return this.context.store
        .list('PersistentVolumeClaim', change.object.metadata.namespace)
        .filter(isDeleting)
        .map((claim) => refTo('PersistentVolumeClaim', claim));
    }
    return [];
  }

  reconcile(ref: ObjectRef): undefined {
    const { store, api } = this.context;
    const claim = store.get('PersistentVolumeClaim', ref.namespace, ref.name);
    if (!claim || !isDeleting(claim) || !claim.metadata.finalizers?.includes(PVC_PROTECTION)) return undefined;
    const inUse = (store.list('Pod', ref.namespace) as Pod[]).some((pod) =>
      (pod.spec.volumes ?? []).some((volume) => volume.persistentVolumeClaim?.claimName === ref.name),
    );
    if (inUse) return undefined;
    const finalizers = claim.metadata.finalizers.filter((finalizer) => finalizer !== PVC_PROTECTION);
    writeObject(
      api,
      'PersistentVolumeClaim',
      claim,
      { ...claim, metadata: { ...claim.metadata, finalizers } },
      CONTROLLER_MANAGER,
    );
    return undefined;
  }
}
