// The PersistentVolume binder with a dynamic provisioner behind it: a Pending claim is Bound on the next
// tick to a volume named `pvc-<claim uid>`, with the bind annotations, accessModes and capacity a real
// binder writes (transcript 48). No PersistentVolume object exists (the double does not serve them). A
// bound claim whose request grew (as the resize admission allows) gets that capacity on the next tick, the
// resize controller's and the kubelet's expansion in one step.
import type { Change, KubeObject } from '../store.js';
import { writeObject, writeStatus, type ClusterContext, type Controller } from './context.js';
import { quantityValue } from '../validation.js';
import { CONTROLLER_MANAGER, isDeleting, refTo, type ObjectRef } from './objects.js';

interface Claim extends KubeObject {
  spec: { accessModes?: string[]; resources?: { requests?: { storage?: string } }; volumeName?: string };
  status?: { phase?: string; capacity?: { storage?: string } };
}

export class ClaimBinder implements Controller {
  readonly name = 'persistentvolume-binder';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    return change.kind === 'PersistentVolumeClaim' && change.type !== 'DELETED'
      ? [refTo('PersistentVolumeClaim', change.object)]
      : [];
  }

  reconcile(ref: ObjectRef): undefined {
    const { api, store } = this.context;
    const claim = store.get('PersistentVolumeClaim', ref.namespace, ref.name) as Claim | undefined;
    if (!claim || isDeleting(claim)) return undefined;
    if (claim.status?.phase === 'Bound') {
      // An expansion the resize admission let through: the volume and its file system grow at once.
      const requested = claim.spec.resources?.requests?.storage;
      if (quantityValue(requested) > quantityValue(claim.status.capacity?.storage))
        writeStatus(api, 'PersistentVolumeClaim', claim, boundStatus(claim), CONTROLLER_MANAGER);
      return undefined;
    }
    if (claim.status?.phase !== 'Pending') return undefined;
    const bound = claim.spec.volumeName ? claim : this.bindVolume(claim);
    writeStatus(api, 'PersistentVolumeClaim', bound, boundStatus(bound), CONTROLLER_MANAGER);
    return undefined;
  }

  private bindVolume(claim: Claim): Claim {
    const annotations = {
      ...claim.metadata.annotations,
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    };
    const next = {
      ...claim,
      metadata: { ...claim.metadata, annotations },
      spec: { ...claim.spec, volumeName: `pvc-${claim.metadata.uid}` },
    };
    return writeObject(this.context.api, 'PersistentVolumeClaim', claim, next, CONTROLLER_MANAGER);
  }
}

const boundStatus = (claim: Claim) => ({
  phase: 'Bound',
  accessModes: claim.spec.accessModes ?? [],
  capacity: { storage: claim.spec.resources?.requests?.storage ?? '' },
});
