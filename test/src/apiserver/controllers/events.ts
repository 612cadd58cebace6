// core/v1 Events as the cluster's components write them. Two recorders exist in a real cluster and both
// are imitated: the legacy one (controllers, kubelet) writes `source`, `count`, `firstTimestamp` and
// `lastTimestamp`, and bumps `count` of an identical event instead of writing a new one (the client-go
// EventCorrelator; its spam filter and "combined from similar events" aggregation are not imitated);
// the events.k8s.io one (the scheduler) writes `eventTime`, `action`, `reportingComponent` and
// `reportingInstance`, leaves `source` empty and the legacy timestamps null, and counts repeats in
// `series`. Names are `<involved object>.<unix nanoseconds in hex>`, as both recorders make them.
import { ApiError } from '../status.js';
import { timestamp, type KubeObject } from '../store.js';
import type { Api } from '../api.js';

type EventType = 'Normal' | 'Warning';

/** Who reports: the field manager of its writes, and how it signs its events. */
export interface EventSource {
  manager: string;
  component: string;
  /** kubelet events carry the node (source.host). */
  host?: string;
  /** Set for components on the events.k8s.io API (the scheduler): reportingInstance. */
  reportingInstance?: string;
}

export interface EventDetails {
  type: EventType;
  reason: string;
  message: string;
  /** `spec.containers{name}` for kubelet events about one container. */
  fieldPath?: string;
  /** events.k8s.io only: what the component was doing (`Binding`, `Scheduling`). */
  action?: string;
}

/** RFC 3339 with microseconds (metav1.MicroTime). */
const microTime = (date: Date) => date.toISOString().replace(/Z$/, '000Z');

export class EventRecorder {
  /** Identical events already written: correlation key → event name. */
  private readonly written = new Map<string, { namespace: string; name: string }>();
  private sequence = 0;

  constructor(private readonly api: Api) {}

  record(source: EventSource, involved: KubeObject, details: EventDetails): void {
    const namespace = involved.metadata.namespace ?? 'default';
    const involvedObject = {
      kind: involved.kind,
      namespace: involved.metadata.namespace,
      name: involved.metadata.name,
      uid: involved.metadata.uid,
      apiVersion: involved.apiVersion,
      resourceVersion: involved.metadata.resourceVersion,
      ...(details.fieldPath ? { fieldPath: details.fieldPath } : {}),
    };
    const { resourceVersion: _ignored, ...identity } = involvedObject;
    const key = JSON.stringify([
      source.component,
      source.host,
      identity,
      details.type,
      details.reason,
      details.message,
    ]);
    const now = new Date();
    try {
      const earlier = this.written.get(key);
      const existing = earlier && this.api.store.get('Event', earlier.namespace, earlier.name);
      if (existing) {
        this.api.replace('Event', namespace, existing.metadata.name, repeated(existing, source, now), {
          manager: source.manager,
        });
        return;
      }
      const name = `${involved.metadata.name}.${this.nanoseconds(now)}`;
      this.api.create('Event', namespace, firstEvent(name, namespace, involvedObject, source, details, now), {
        manager: source.manager,
      });
      this.written.set(key, { namespace, name });
    } catch (error) {
      // A namespace being deleted refuses new events; a real recorder drops them too.
      if (!(error instanceof ApiError) || ![403, 404, 409].includes(error.status.code ?? 0)) throw error;
    }
  }

  private nanoseconds(now: Date): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return (BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence)).toString(16);
  }
}

function firstEvent(
  name: string,
  namespace: string,
  involvedObject: Record<string, unknown>,
  source: EventSource,
  details: EventDetails,
  now: Date,
): KubeObject {
  const common = { metadata: { name, namespace }, involvedObject, reason: details.reason, message: details.message };
  if (source.reportingInstance) {
    return {
      apiVersion: 'v1',
      kind: 'Event',
      ...common,
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      type: details.type,
      eventTime: microTime(now),
      ...(details.action ? { action: details.action } : {}),
      reportingComponent: source.component,
      reportingInstance: source.reportingInstance,
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'Event',
    ...common,
    source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
    firstTimestamp: timestamp(now),
    lastTimestamp: timestamp(now),
    count: 1,
    type: details.type,
    // eventTime, reportingComponent and reportingInstance come out as null and "" when the API server
    // serializes the event (addZeroValues), unset and so not in managedFields (transcript 42).
  };
}

function repeated(existing: KubeObject, source: EventSource, now: Date): KubeObject {
  if (source.reportingInstance) {
    const series = existing.series as { count: number } | undefined;
    return { ...existing, series: { count: (series?.count ?? 1) + 1, lastObservedTime: microTime(now) } };
  }
  return { ...existing, count: ((existing.count as number | undefined) ?? 1) + 1, lastTimestamp: timestamp(now) };
}
