// The namespace controller: once a Namespace is marked for deletion, everything in it is deleted (in the
// background, pods gracefully), and when nothing is left its `kubernetes` finalizer is removed, which lets
// the API server remove it (transcripts 59-61). Kubernetes removes the finalizer through the
// namespaces/finalize subresource, which the double does not serve; here it is an update of spec.finalizers.
// The NamespaceContentRemaining/NamespaceFinalizersRemaining conditions are not written (transcript 60
// shows none during the first seconds either).
import { RESOURCES } from '../resources.js';
import type { Change } from '../store.js';
import { deleteObject, writeObject, type ClusterContext, type Controller } from './context.js';
import { CONTROLLER_MANAGER, isDeleting, type ObjectRef } from './objects.js';

export class NamespaceController implements Controller {
  readonly name = 'namespace';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    const name = change.kind === 'Namespace' ? change.object.metadata.name : change.object.metadata.namespace;
    if (!name) return [];
    const namespace = this.context.store.get('Namespace', undefined, name);
    return namespace && isDeleting(namespace) ? [{ kind: 'Namespace', name }] : [];
  }

  reconcile(ref: ObjectRef): undefined {
    const { api, store } = this.context;
    const namespace = store.get('Namespace', undefined, ref.name);
    if (!namespace || !isDeleting(namespace)) return undefined;
    const contents = RESOURCES.filter((type) => type.namespaced).flatMap((type) => store.list(type.kind, ref.name).map((object) => ({ kind: type.kind, object })));
    for (const { kind, object } of contents) if (!isDeleting(object)) deleteObject(api, kind, object);
    if (contents.length > 0) return undefined;
    const spec = { ...(namespace.spec as Record<string, unknown>), finalizers: [] };
    writeObject(api, 'Namespace', namespace, { ...namespace, spec }, CONTROLLER_MANAGER);
    return undefined;
  }
}
