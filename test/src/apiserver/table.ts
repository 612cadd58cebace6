// Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), which `kubectl get`
// asks for: the columns kubectl shows for the kinds our tools create, Name and Age for the rest.
import type { KubeObject } from './store.js';

type Json = Record<string, unknown>;

interface Column {
  name: string;
  type: string;
  format?: string;
  cell: (object: KubeObject) => unknown;
}

const age = (object: KubeObject, now: Date) => {
  const created = object.metadata.creationTimestamp ? Date.parse(object.metadata.creationTimestamp) : now.getTime();
  const seconds = Math.max(0, Math.floor((now.getTime() - created) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
};

const spec = (o: KubeObject) => (o.spec ?? {}) as Json;
const status = (o: KubeObject) => (o.status ?? {}) as Json;
const number = (value: unknown) => (typeof value === 'number' ? value : 0);
const readyOf = (o: KubeObject) =>
  ((status(o).conditions ?? []) as { type: string; status: string }[]).find((c) => c.type === 'Ready')?.status ?? '';

function podStatus(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const statuses = (status(pod).containerStatuses ?? []) as {
    state?: { waiting?: { reason?: string }; terminated?: { reason?: string } };
  }[];
  const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  const terminated = statuses.find((s) => s.state?.terminated?.reason)?.state?.terminated?.reason;
  return waiting ?? terminated ?? String(status(pod).phase ?? 'Pending');
}

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    {
      name: 'Ready',
      type: 'string',
      cell: (p) => {
        const statuses = (status(p).containerStatuses ?? []) as { ready?: boolean }[];
        return `${statuses.filter((s) => s.ready).length}/${((spec(p).containers ?? []) as unknown[]).length}`;
      },
    },
    { name: 'Status', type: 'string', cell: podStatus },
    {
      name: 'Restarts',
      type: 'string',
      cell: (p) =>
        String(
          ((status(p).containerStatuses ?? []) as { restartCount?: number }[]).reduce(
            (n, s) => n + number(s.restartCount),
            0,
          ),
        ),
    },
  ],
  Deployment: [
    { name: 'Ready', type: 'string', cell: (d) => `${number(status(d).readyReplicas)}/${number(spec(d).replicas)}` },
    { name: 'Up-to-date', type: 'integer', cell: (d) => number(status(d).updatedReplicas) },
    { name: 'Available', type: 'integer', cell: (d) => number(status(d).availableReplicas) },
  ],
  StatefulSet: [
    { name: 'Ready', type: 'string', cell: (s) => `${number(status(s).readyReplicas)}/${number(spec(s).replicas)}` },
  ],
  ReplicaSet: [
    { name: 'Desired', type: 'integer', cell: (r) => number(spec(r).replicas) },
    { name: 'Current', type: 'integer', cell: (r) => number(status(r).replicas) },
    { name: 'Ready', type: 'integer', cell: (r) => number(status(r).readyReplicas) },
  ],
  Service: [
    { name: 'Type', type: 'string', cell: (s) => spec(s).type },
    { name: 'Cluster-IP', type: 'string', cell: (s) => spec(s).clusterIP },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    {
      name: 'Port(s)',
      type: 'string',
      cell: (s) => ((spec(s).ports ?? []) as Json[]).map((p) => `${p.port}/${p.protocol}`).join(',') || '<none>',
    },
  ],
  PersistentVolumeClaim: [
    { name: 'Status', type: 'string', cell: (c) => status(c).phase },
    { name: 'Volume', type: 'string', cell: (c) => spec(c).volumeName ?? '' },
    { name: 'Capacity', type: 'string', cell: (c) => ((status(c).capacity ?? {}) as Json).storage ?? '' },
    {
      name: 'Access Modes',
      type: 'string',
      cell: (c) => ((spec(c).accessModes ?? []) as string[]).map((m) => m.replace(/[a-z]/g, '')).join(','),
    },
    { name: 'StorageClass', type: 'string', cell: (c) => spec(c).storageClassName ?? '' },
  ],
  Namespace: [{ name: 'Status', type: 'string', cell: (n) => status(n).phase }],
  // printLease (pkg/printers/internalversion): the holder, empty when there is none.
  Lease: [{ name: 'Holder', type: 'string', cell: (l) => spec(l).holderIdentity ?? '' }],
  ConfigMap: [{ name: 'Data', type: 'integer', cell: (c) => Object.keys((c.data ?? {}) as Json).length }],
  // The CRDs' additionalPrinterColumns (those of priority 0).
  Certificate: [
    { name: 'Ready', type: 'string', cell: (c) => readyOf(c) },
    { name: 'Secret', type: 'string', cell: (c) => spec(c).secretName },
  ],
  Issuer: [{ name: 'Ready', type: 'string', cell: (i) => readyOf(i) }],
  ClusterIssuer: [{ name: 'Ready', type: 'string', cell: (i) => readyOf(i) }],
  Secret: [
    { name: 'Type', type: 'string', cell: (s) => s.type },
    { name: 'Data', type: 'integer', cell: (s) => Object.keys((s.data ?? {}) as Json).length },
  ],
};

export function toTable(kind: string, objects: KubeObject[], resourceVersion: string, now: Date): Json {
  const columns: Column[] = [
    { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name },
    ...(COLUMNS[kind] ?? []),
    { name: 'Age', type: 'string', cell: (o) => age(o, now) },
  ];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map(({ name, type, format }) => ({
      name,
      type,
      format: format ?? '',
      description: '',
      priority: 0,
    })),
    rows: objects.map((object) => ({
      cells: columns.map((column) => column.cell(object) ?? ''),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
    })),
  };
}
