// The Endpoints controller: for every Service with a selector, an Endpoints object of the same name whose
// subsets list the selected pods that have an IP (ready ones in `addresses`, others in
// `notReadyAddresses`, all in `addresses` with publishNotReadyAddresses; pods being deleted left out
// unless the Service publishes not-ready addresses) with the Service's ports resolved against each pod's
// containers (a named targetPort is looked up in the pod's container ports). Pods that resolve to the same
// ports share a subset. Not imitated: EndpointSlices, the last-change-trigger-time annotation, the
// 1000-address truncation.
import type { Change, KubeObject } from '../store.js';
import { labelSelectorMatches } from '../selectors.js';
import { deleteObject, type ClusterContext, type Controller } from './context.js';
import { sameJson } from './hash.js';
import { CONTROLLER_MANAGER, isDeleting, isPodReady, type ObjectRef, type Pod } from './objects.js';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

interface Service extends KubeObject {
  spec: {
    selector?: Record<string, string>;
    ports?: ServicePort[];
    clusterIP?: string;
    type?: string;
    publishNotReadyAddresses?: boolean;
  };
}

interface Address {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

interface Subset {
  addresses?: Address[];
  notReadyAddresses?: Address[];
  ports?: { name?: string; port: number; protocol: string }[];
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';

  constructor(private readonly context: ClusterContext) {}

  watch(change: Change): ObjectRef[] {
    const namespace = change.object.metadata.namespace;
    const name = change.object.metadata.name;
    if (change.kind === 'Service') return [{ kind: 'Service', namespace, name }];
    // Endpoints someone else changed are put back; those of no Service are not this controller's.
    if (change.kind === 'Endpoints')
      return this.context.store.get('Service', namespace, name) ? [{ kind: 'Service', namespace, name }] : [];
    if (change.kind !== 'Pod') return [];
    return this.context.store
      .list('Service', namespace)
      .map((service) => ({ kind: 'Service', namespace, name: service.metadata.name }));
  }

  reconcile(ref: ObjectRef): undefined {
    const { api, store } = this.context;
    const service = store.get('Service', ref.namespace, ref.name) as Service | undefined;
    const existing = store.get('Endpoints', ref.namespace, ref.name);
    if (!service || isDeleting(service)) {
      if (existing && !service) deleteObject(api, 'Endpoints', existing);
      return undefined;
    }
    if (!service.spec.selector || service.spec.type === 'ExternalName') return undefined;
    const pods = (store.list('Pod', ref.namespace) as Pod[]).filter((pod) =>
      labelSelectorMatches({ matchLabels: service.spec.selector }, pod.metadata.labels),
    );
    const subsets = endpointSubsets(service, pods);
    const labels = {
      ...service.metadata.labels,
      ...(service.spec.clusterIP === 'None' ? { 'service.kubernetes.io/headless': '' } : {}),
    };
    const desired: KubeObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: service.metadata.name,
        namespace: service.metadata.namespace,
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
      },
      ...(subsets.length > 0 ? { subsets } : {}),
    };
    if (!existing) {
      api.create('Endpoints', ref.namespace, desired, { manager: CONTROLLER_MANAGER });
      return undefined;
    }
    if (!sameJson(existing.subsets, desired.subsets) || !sameJson(existing.metadata.labels, desired.metadata.labels)) {
      const { subsets: _old, ...rest } = existing;
      api.replace(
        'Endpoints',
        ref.namespace,
        ref.name,
        {
          ...rest,
          metadata: { ...existing.metadata, labels: desired.metadata.labels },
          ...(subsets.length > 0 ? { subsets } : {}),
        },
        { manager: CONTROLLER_MANAGER },
      );
    }
    return undefined;
  }
}

/** The subsets for a Service and the pods its selector matches. */
function endpointSubsets(service: Service, pods: Pod[]): Subset[] {
  const publishNotReady = service.spec.publishNotReadyAddresses === true;
  const groups = new Map<string, Subset & { ports: NonNullable<Subset['ports']> }>();
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || (isDeleting(pod) && !publishNotReady)) continue;
    const ports = (service.spec.ports ?? []).flatMap((port) => {
      const target = resolvePort(port, pod);
      return target === undefined
        ? []
        : [{ ...(port.name ? { name: port.name } : {}), port: target, protocol: port.protocol ?? 'TCP' }];
    });
    if (ports.length === 0 && (service.spec.ports ?? []).length > 0) continue;
    const key = JSON.stringify(ports);
    const subset = groups.get(key) ?? { ports };
    groups.set(key, subset);
    const address: Address = {
      ip,
      ...(pod.spec.hostname && pod.spec.subdomain === service.metadata.name ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name,
        uid: pod.metadata.uid ?? '',
      },
    };
    const list = publishNotReady || isPodReady(pod) ? 'addresses' : 'notReadyAddresses';
    subset[list] = [...(subset[list] ?? []), address].sort((a, b) => a.ip.localeCompare(b.ip));
  }
  return [...groups.values()].map(({ addresses, notReadyAddresses, ports }) => ({
    ...(addresses ? { addresses } : {}),
    ...(notReadyAddresses ? { notReadyAddresses } : {}),
    ...(ports.length > 0 ? { ports } : {}),
  }));
}

/** The container port a Service port reaches on this pod: a number as is, a name through the pod's container ports. */
function resolvePort(port: ServicePort, pod: Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  for (const container of pod.spec.containers) {
    const match = container.ports?.find(
      (candidate) => candidate.name === target && (candidate.protocol ?? 'TCP') === protocol,
    );
    if (match) return match.containerPort;
  }
  return undefined;
}
