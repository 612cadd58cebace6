// The entity card: whether the stack the entity's annotation names is healthy, and if not, which component
// and why. Refreshes every 30 s and on demand; every state (loading, no annotation, not found, unreachable,
// unauthorised) has its own message. Everything is drawn with the app's theme (Typography, Backstage and
// Material UI v4 components), so the card looks like its neighbours on the entity page, light or dark.
import { getCompoundEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
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
import {
  IconButton,
  makeStyles,
  SvgIcon,
  Table as MuiTable,
  TableBody,
  TableCell,
  TableRow,
  Tooltip,
  Typography,
} from '@material-ui/core';
import {
  describeRuleCounts,
  describeRuleProblem,
  describeSchema,
  describeUpgrade,
  parseStackAnnotation,
  STACK_ANNOTATION,
  type ComponentStatus,
  type PodProblem,
  type StackLocation,
  type StackStatus,
} from 'loki-microservices/types';
import { Fragment, type ReactNode } from 'react';
import { useAsyncRetry, useInterval } from 'react-use';
import { LokiStackError, lokiStackApiRef, type CheckedStackStatus } from '../../api/LokiStackApi.js';

const REFRESH_MS = 30_000;

const useStyles = makeStyles((theme) => ({
  section: { marginTop: theme.spacing(2) },
  condition: {
    display: 'flex',
    alignItems: 'baseline',
    gap: theme.spacing(1),
    flexWrap: 'wrap',
    marginBottom: theme.spacing(1),
  },
  endpointLabel: {
    width: '1%',
    whiteSpace: 'nowrap',
    paddingLeft: 0,
    fontWeight: theme.typography.fontWeightMedium as number,
  },
  endpointUrl: { fontFamily: 'monospace', overflowWrap: 'anywhere', lineHeight: 1.5 },
  endpointCopy: { width: '1%', paddingRight: 0, whiteSpace: 'nowrap' },
}));

const MARK: Record<CheckedStackStatus['condition']['type'], (props: { children?: ReactNode }) => ReactNode> = {
  Ready: StatusOK,
  Pending: StatusPending,
  Degraded: StatusWarning,
  Failed: StatusError,
};

function componentMark(component: ComponentStatus): ReactNode {
  if (component.current && component.ready >= component.desired && component.notReady.length === 0)
    return <StatusOK>ready</StatusOK>;
  if (component.notReady.some((pod) => pod.failing))
    return component.ready > 0 ? <StatusWarning>degraded</StatusWarning> : <StatusError>failing</StatusError>;
  return <StatusPending>starting</StatusPending>;
}

type ComponentRow = { id: string; name: string; component: ComponentStatus };

const COMPONENT_COLUMNS: TableColumn<ComponentRow>[] = [
  { title: 'Component', field: 'name' },
  { title: 'Ready', render: (row) => `${row.component.ready}/${row.component.desired}` },
  { title: 'Status', render: (row) => componentMark(row.component) },
];

/** Material's "refresh" icon, drawn here rather than imported from @material-ui/icons (CommonJS default exports). */
function RefreshIcon() {
  return (
    <SvgIcon fontSize="small">
      <path d="M17.65 6.35A7.958 7.958 0 0 0 12 4c-4.42 0-7.99 3.58-7.99 8s3.57 8 7.99 8c3.73 0 6.84-2.55 7.73-6h-2.08A5.99 5.99 0 0 1 12 18c-3.31 0-6-2.69-6-6s2.69-6 6-6c1.66 0 3.14.69 4.22 1.78L13 11h7V4l-2.35 2.35z" />
    </SvgIcon>
  );
}

function RefreshButton({ onClick }: { onClick: () => void }) {
  return (
    <Tooltip title="Refresh">
      <IconButton aria-label="Refresh" size="small" onClick={onClick}>
        <RefreshIcon />
      </IconButton>
    </Tooltip>
  );
}

function podLine(pod: PodProblem): string {
  const reason = pod.reason ? ` (${pod.reason}${pod.container ? `, container ${pod.container}` : ''})` : '';
  return `: ${pod.state}${reason}${pod.restarts > 0 ? `, ${pod.restarts} restarts` : ''}${pod.message ? ` — ${pod.message}` : ''}`;
}

function PodProblems({ pods }: { pods: PodProblem[] }) {
  const classes = useStyles();
  if (pods.length === 0) return null;
  return (
    <div className={classes.section}>
      <Typography variant="subtitle2">Pods not ready</Typography>
      {pods.map((pod) => (
        <Typography key={pod.name} variant="body2">
          <strong>{pod.name}</strong>
          {podLine(pod)}
        </Typography>
      ))}
    </div>
  );
}

/** The declared rule groups: how many the ruler loaded, and each one missing or failing, where it is declared. */
function Rules({ rules }: { rules: NonNullable<StackStatus['rules']> }) {
  const classes = useStyles();
  if ('unknown' in rules)
    return (
      <Typography variant="body2" className={classes.section} data-testid="rules">
        <StatusWarning>Rules: {describeRuleCounts(rules)}</StatusWarning>
      </Typography>
    );
  const Mark = rules.problems.length > 0 ? StatusError : StatusOK;
  return (
    <div className={classes.section} data-testid="rules">
      <Typography variant="body2">
        <Mark>Rules: {describeRuleCounts(rules)}</Mark>
      </Typography>
      {rules.problems.map((problem) => (
        <Typography
          key={`${problem.tenant}/${problem.source}/${problem.group}`}
          variant="body2"
          data-rule-group={problem.group}
        >
          {describeRuleProblem(problem)}
        </Typography>
      ))}
    </div>
  );
}

/** A URL that wraps after its dots and slashes rather than inside a name. */
function Breakable({ url }: { url: string }) {
  return (
    <>
      {url.split(/(?<=[./])/).map((part, index) => (
        <Fragment key={index}>
          {index > 0 ? <wbr /> : null}
          {part}
        </Fragment>
      ))}
    </>
  );
}

/**
 * The push and query URLs, in the cluster and, for an exposed gateway, outside it: one row each, with label, URL
 * and its copy button on the same line.
 */
function Endpoints({ endpoints }: { endpoints: CheckedStackStatus['endpoints'] }) {
  const classes = useStyles();
  const rows = [
    { label: 'Push', url: endpoints.push },
    { label: 'Query', url: endpoints.query },
    ...(endpoints.external
      ? [
          { label: 'External push', url: endpoints.external.push },
          { label: 'External query', url: endpoints.external.query },
        ]
      : []),
  ];
  return (
    <div className={classes.section}>
      <MuiTable size="small" aria-label="Endpoints">
        <TableBody>
          {rows.map(({ label, url }) => (
            <TableRow key={label} data-endpoint={label}>
              <TableCell component="th" scope="row" className={classes.endpointLabel}>
                {label}
              </TableCell>
              <TableCell className={classes.endpointUrl}>
                <Breakable url={url} />
              </TableCell>
              <TableCell className={classes.endpointCopy}>
                <CopyTextButton
                  text={url}
                  tooltipText={`${label} URL copied`}
                  aria-label={`Copy the ${label.toLowerCase()} URL`}
                  variant="tertiary"
                />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </MuiTable>
      {endpoints.basicAuth ? (
        <Typography variant="body2" color="textSecondary" className={classes.section}>
          Through the gateway: sign in with a tenant's user and password (basic auth).
        </Typography>
      ) : null}
    </div>
  );
}

function StackStatusView({ status }: { status: CheckedStackStatus }) {
  const classes = useStyles();
  const Mark = MARK[status.condition.type];
  const rows = Object.entries(status.components).map(([name, component]) => ({ id: name, name, component }));
  const pods = Object.values(status.components).flatMap((component) => component.notReady);
  return (
    <>
      <div className={classes.condition}>
        <Typography variant="h6" component="div">
          <Mark>{status.condition.type}</Mark>
        </Typography>
        <Typography variant="body2" color="textSecondary">
          {status.condition.message} ({status.condition.reason})
        </Typography>
        {status.upgrade && (
          <Typography variant="body2" data-testid="upgrade">
            {describeUpgrade(status.upgrade)}
          </Typography>
        )}
      </div>
      <Table<ComponentRow>
        options={{ paging: false, search: false, toolbar: false, padding: 'dense' }}
        columns={COMPONENT_COLUMNS}
        data={rows}
      />
      <PodProblems pods={pods} />
      {status.rules && <Rules rules={status.rules} />}
      <Endpoints endpoints={status.endpoints} />
      <Typography variant="caption" color="textSecondary" component="p" className={classes.section}>
        Loki {status.version ?? 'version unknown'} · last checked {new Date(status.checkedAt).toLocaleTimeString()}
      </Typography>
      {status.schema && (
        <Typography variant="caption" color="textSecondary" component="p">
          {describeSchema(status.schema)}
        </Typography>
      )}
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
  const { entity } = useEntity();
  const entityRef = getCompoundEntityRef(entity);
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.getStatus(entityRef),
    [api, stringifyEntityRef(entityRef)],
  );
  useInterval(retry, REFRESH_MS);
  return (
    <InfoCard
      title="Loki stack"
      subheader={`${location.cluster} · ${location.namespace}/${location.name}`}
      action={<RefreshButton onClick={retry} />}
    >
      {error ? (
        <Typography role="alert" variant="body2" color="error">
          {errorMessage(error, location)}
        </Typography>
      ) : value ? (
        <StackStatusView status={value} />
      ) : loading ? (
        <Progress />
      ) : null}
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
