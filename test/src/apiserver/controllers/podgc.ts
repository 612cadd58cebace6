// The pod garbage collector's part that matters on one node: a pod being deleted that no kubelet runs
// (never scheduled, or bound to a node that does not exist) is removed at once, as PodGC force-deletes
// terminating pods that are not on a live node.
import { resourceByKind } from '../resources.js';
import type { Change } from '../store.js';
import type { ClusterContext, Controller } from './context.js';
import { isDeleting, refTo, type ObjectRef, type Pod } from './objects.js';

export class PodGarbageCollector implements Controller {
  readonly name = 'podgc';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    return change.kind === 'Pod' && change.type !== 'DELETED' && isDeleting(change.object)
      ? [refTo('Pod', change.object)]
      : [];
  }

  reconcile(ref: ObjectRef): undefined {
    const pod = this.context.store.get('Pod', ref.namespace, ref.name) as Pod | undefined;
    if (pod && isDeleting(pod) && pod.spec.nodeName !== this.context.node.name)
      this.context.api.finishDelete(resourceByKind('Pod'), pod);
    return undefined;
  }
}
