// The entity card: whether the stack the entity's annotation names is healthy, and if not, which component
// and why. Refreshes every 30 s and on demand; every state (loading, no annotation, not found, unreachable,
// unauthorised) has its own message.
import {
  CopyTextButton,
  EmptyState,
  InfoCard,
  MissingAnnotationEmptyState,
  Progress,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { parseStackAnnotation, STACK_ANNOTATION, type ComponentStatus, type PodProblem, type StackLocation } from 'loki-microservices/types';
import type { ReactNode } from 'react';
import { useAsyncRetry, useInterval } from 'react-use';
import { LokiStackError, lokiStackApiRef, type CheckedStackStatus } from '../../api/LokiStackApi.js';

const REFRESH_MS = 30_000;

const MARK: Record<CheckedStackStatus['condition']['type'], (props: { children?: ReactNode }) => ReactNode> = {
  Ready: StatusOK,
  Pending: StatusPending,
  Degraded: StatusWarning,
  Failed: StatusError,
};

function componentMark(component: ComponentStatus): ReactNode {
  if (component.current && component.ready >= component.desired && component.notReady.length === 0) return <StatusOK>ready</StatusOK>;
  if (component.notReady.some((pod) => pod.failing)) return component.ready > 0 ? <StatusWarning>degraded</StatusWarning> : <StatusError>failing</StatusError>;
  return <StatusPending>starting</StatusPending>;
}

type ComponentRow = { id: string; name: string; component: ComponentStatus };

const COMPONENT_COLUMNS: TableColumn<ComponentRow>[] = [
  { title: 'Component', field: 'name' },
  { title: 'Ready', render: (row) => `${row.component.ready}/${row.component.desired}` },
  { title: 'Status', render: (row) => componentMark(row.component) },
];

function PodProblems({ pods }: { pods: PodProblem[] }) {
  if (pods.length === 0) return null;
  return (
    <div style={{ marginTop: 16 }}>
      <strong>Pods not ready</strong>
      {pods.map((pod) => (
        <div key={pod.name}>
          <strong>{pod.name}</strong>: {pod.state}
          {pod.reason ? ` (${pod.reason}${pod.container ? `, container ${pod.container}` : ''})` : ''}
          {pod.restarts > 0 ? `, ${pod.restarts} restarts` : ''}
          {pod.message ? ` — ${pod.message}` : ''}
        </div>
      ))}
    </div>
  );
}

function Endpoint({ label, url }: { label: string; url: string }) {
  return (
    <div>
      {label}: <code>{url}</code>
      <CopyTextButton text={url} tooltipText={`${label} URL copied`} />
    </div>
  );
}

function StackStatusView({ status }: { status: CheckedStackStatus }) {
  const Mark = MARK[status.condition.type];
  const rows = Object.entries(status.components).map(([name, component]) => ({ id: name, name, component }));
  const pods = Object.values(status.components).flatMap((component) => component.notReady);
  return (
    <>
      <div style={{ fontSize: '1.25rem' }}>
        <Mark>{status.condition.type}</Mark>
      </div>
      <div>
        {status.condition.message} ({status.condition.reason})
      </div>
      <Table<ComponentRow> options={{ paging: false, search: false, toolbar: false, padding: 'dense' }} columns={COMPONENT_COLUMNS} data={rows} />
      <PodProblems pods={pods} />
      <div style={{ marginTop: 16 }}>
        <Endpoint label="Push" url={status.endpoints.push} />
        <Endpoint label="Query" url={status.endpoints.query} />
        {status.endpoints.basicAuth ? <div style={{ fontSize: '0.875rem' }}>Through the gateway: sign in with a tenant's user and password (basic auth).</div> : null}
      </div>
      <div style={{ fontSize: '0.75rem', marginTop: 8 }}>
        Loki {status.version ?? 'version unknown'} · last checked {new Date(status.checkedAt).toLocaleTimeString()}
      </div>
    </>
  );
}

function errorMessage(error: Error, location: StackLocation): string {
  if (!(error instanceof LokiStackError)) return `Could not read the stack's status: ${error.message}`;
  switch (error.kind) {
    case 'not-found':
      return `No Loki stack ${location.namespace}/${location.name} on cluster ${location.cluster}: ${error.message}`;
    case 'unauthorized':
      return `You are not allowed to read this stack's status (sign in again, or ask for access): ${error.message}`;
    case 'unavailable':
      return `The cluster cannot tell right now: ${error.message}`;
    default:
      return `Could not read the stack's status: ${error.message}`;
  }
}

function StackCardBody({ location }: { location: StackLocation }) {
  const api = useApi(lokiStackApiRef);
  const { value, loading, error, retry } = useAsyncRetry(() => api.getStatus(location), [api, location.cluster, location.namespace, location.name]);
  useInterval(retry, REFRESH_MS);
  const refresh = (
    <button type="button" aria-label="Refresh" title="Refresh" onClick={retry}>
      ⟳
    </button>
  );
  return (
    <InfoCard title="Loki stack" subheader={`${location.cluster} · ${location.namespace}/${location.name}`} action={refresh}>
      {error ? <div role="alert">{errorMessage(error, location)}</div> : value ? <StackStatusView status={value} /> : loading ? <Progress /> : null}
    </InfoCard>
  );
}

/** The card for the catalog entity page; the entity's `loki-microservices/stack` annotation names the stack. */
export function LokiStackCard() {
  const { entity } = useEntity();
  const annotation = entity.metadata.annotations?.[STACK_ANNOTATION];
  const location = parseStackAnnotation(annotation);
  if (annotation === undefined) return <MissingAnnotationEmptyState annotation={STACK_ANNOTATION} />;
  if (!location) {
    return (
      <EmptyState
        missing="field"
        title={`The ${STACK_ANNOTATION} annotation is not valid`}
        description={`It must be <cluster>/<namespace>/<name>: a configured cluster's name, a namespace and a stack name (lowercase letters, digits and "-"), not "${annotation.slice(0, 120)}".`}
      />
    );
  }
  return <StackCardBody location={location} />;
}
