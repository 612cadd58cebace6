// The card in jsdom with Backstage's test utilities (renderInTestApp, TestApiProvider, EntityProvider): every
// state, from a stub API answering recorded statuses; and the client's requests, from a stub fetch.
import type { CompoundEntityRef, Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import {
  LokiStackCard,
  LokiStackClient,
  LokiStackError,
  lokiStackApiRef,
  type CheckedStackStatus,
  type LokiStackApi,
} from '@loki-microservices/plugin-loki-stack';
import { fireEvent, screen } from '@testing-library/react';

const entityWith = (annotation?: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: {
    name: 'logs',
    namespace: 'Observability',
    annotations: annotation ? { 'loki-microservices/stack': annotation } : {},
  },
  spec: { type: 'loki-stack', owner: 'group:default/platform' },
});

const component = (
  desired: number,
  ready: number,
  notReady: CheckedStackStatus['components'][string]['notReady'] = [],
) => ({
  kind: 'Deployment' as const,
  desired,
  ready,
  updated: desired,
  current: notReady.length === 0,
  pods: { Ready: ready, Running: 0, Pending: 0, Failed: notReady.length, Unknown: 0 },
  notReady,
});

const status = (
  condition: CheckedStackStatus['condition'],
  components: CheckedStackStatus['components'],
  endpoints: Partial<CheckedStackStatus['endpoints']> = {},
): CheckedStackStatus => ({
  apiVersion: 'loki-microservices/v1alpha1',
  kind: 'StackStatus',
  name: 'logs',
  namespace: 'obs',
  condition,
  components,
  endpoints: {
    push: 'http://logs-distributor.obs.svc.cluster.local:3100/loki/api/v1/push',
    query: 'http://logs-query-frontend.obs.svc.cluster.local:3100',
    basicAuth: false,
    ...endpoints,
  },
  version: '3.7.8',
  createdAt: '2026-11-22T08:00:00.000Z',
  checkedAt: '2026-11-22T09:00:00.000Z',
});

/** The card for an entity annotated with `annotation` ('' for none). */
async function renderCard(api: LokiStackApi, annotation = 'dev/obs/logs') {
  await renderInTestApp(
    <TestApiProvider apis={[[lokiStackApiRef, api]]}>
      <EntityProvider entity={entityWith(annotation)}>
        <LokiStackCard />
      </EntityProvider>
    </TestApiProvider>,
  );
}

test("ready: the condition, a row per component, the URLs and the version, for the card's entity", async () => {
  const asked: CompoundEntityRef[] = [];
  await renderCard({
    getStatus: async (entityRef) => (
      asked.push(entityRef),
      status(
        { type: 'Ready', reason: 'AllComponentsReady', message: '2 components ready' },
        { distributor: component(1, 1), querier: component(2, 2) },
      )
    ),
  });
  expect(await screen.findByText('2 components ready (AllComponentsReady)')).toBeTruthy();
  expect(asked).toEqual([{ kind: 'Resource', namespace: 'Observability', name: 'logs' }]);
  expect(screen.getByText('distributor')).toBeTruthy();
  expect(screen.getByText('2/2')).toBeTruthy();
  expect(screen.getByText('http://logs-query-frontend.obs.svc.cluster.local:3100')).toBeTruthy();
  expect(screen.getByText(/Loki 3\.7\.8 · last checked/)).toBeTruthy();
  expect(screen.queryByText('Pods not ready')).toBeNull();
  expect(screen.queryByText(/basic auth/)).toBeNull();
  expect(screen.queryByText(/^Schema /)).toBeNull();
  expect(screen.queryByText(/^Rules/)).toBeNull();
});

test('the schema period in effect and the next one, when the status tells them', async () => {
  await renderCard({
    getStatus: async () => ({
      ...status(
        { type: 'Ready', reason: 'AllComponentsReady', message: '1 components ready' },
        { querier: component(1, 1) },
      ),
      schema: {
        active: { from: '2024-04-01', store: 'tsdb', version: 'v13' },
        next: { from: '2027-01-01', store: 'tsdb', version: 'v13' },
      },
    }),
  });
  expect(await screen.findByText('Schema v13 (tsdb) since 2024-04-01; next: v13 from 2027-01-01')).toBeTruthy();
});

test('an upgrade under way: the version, the wave and how far its component got', async () => {
  await renderCard({
    getStatus: async () => ({
      ...status(
        { type: 'Pending', reason: 'ComponentsNotReady', message: 'ingester 2/3 ready' },
        { ingester: component(2, 3) },
      ),
      upgrade: { to: '3.7.8', wave: 3, waves: 9, component: 'ingester', updated: 1, desired: 3 },
    }),
  });
  expect(await screen.findByText('upgrading to 3.7.8: wave 3/9, ingester 1/3')).toBeTruthy();
});

test("with the gateway: its URLs, and that they ask for a tenant's password", async () => {
  const gateway = {
    push: 'http://logs-gateway.obs.svc.cluster.local/loki/api/v1/push',
    query: 'http://logs-gateway.obs.svc.cluster.local',
    basicAuth: true,
  };
  await renderCard({
    getStatus: async () =>
      status(
        { type: 'Ready', reason: 'AllComponentsReady', message: '3 components ready' },
        { gateway: component(1, 1) },
        gateway,
      ),
  });
  expect(await screen.findByText('http://logs-gateway.obs.svc.cluster.local')).toBeTruthy();
  expect(screen.getByText(/sign in with a tenant's user and password \(basic auth\)/)).toBeTruthy();
});

test('failed: the component, the pod and why', async () => {
  const pod = {
    name: 'logs-ingester-0',
    state: 'Failed' as const,
    reason: 'CrashLoopBackOff',
    message: 'back-off 40s',
    container: 'loki',
    restarts: 4,
    failing: true,
  };
  await renderCard({
    getStatus: async () =>
      status(
        { type: 'Failed', reason: 'ComponentsFailing', message: 'ingester 0/1 ready (CrashLoopBackOff)' },
        { ingester: component(1, 0, [pod]) },
      ),
  });
  expect(await screen.findByText('ingester 0/1 ready (CrashLoopBackOff) (ComponentsFailing)')).toBeTruthy();
  expect(screen.getByText('Pods not ready')).toBeTruthy();
  expect(screen.getByText(/\(CrashLoopBackOff, container loki\), 4 restarts — back-off 40s/)).toBeTruthy();
  expect(screen.getByText('failing')).toBeTruthy();
});

test('rules: the groups loaded, each missing or failing one where it is declared; or unknown and why', async () => {
  const ready = status(
    { type: 'Ready', reason: 'AllComponentsReady', message: '1 components ready' },
    { ruler: component(1, 1) },
  );
  const answers: CheckedStackStatus[] = [
    {
      ...ready,
      rules: {
        loaded: 3,
        problems: [
          {
            tenant: 'team-a',
            source: 'rules/shop.yaml',
            group: 'typo',
            state: 'failing',
            error: 'parse error at 1:20',
          },
          { tenant: 'ops', source: 'spec.rules.inline.ops', group: 'late', state: 'missing' },
        ],
      },
    },
    { ...ready, rules: { unknown: 'the ruler did not answer within 3000 ms' } },
  ];
  await renderCard({ getStatus: async () => answers.shift() ?? ready });
  expect(await screen.findByText('Rules: 3 groups loaded, 2 not')).toBeTruthy();
  expect(screen.getByText('rules/shop.yaml, group "typo" (tenant team-a): failing: parse error at 1:20')).toBeTruthy();
  expect(screen.getByText('spec.rules.inline.ops, group "late" (tenant ops): not loaded by the ruler')).toBeTruthy();
  fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
  expect(await screen.findByText('Rules: unknown (the ruler did not answer within 3000 ms)')).toBeTruthy();
  expect(screen.queryByText(/group "typo"/)).toBeNull();
});

test.each([
  ['not-found', /No Loki stack obs\/logs on cluster dev/],
  ['unavailable', /The cluster cannot tell right now/],
  ['unauthorized', /You are not allowed to read this stack's status/],
] as const)('%s: its own message', async (kind, message) => {
  await renderCard({ getStatus: async () => Promise.reject(new LokiStackError(kind, 'as the backend said')) });
  expect((await screen.findByRole('alert')).textContent).toMatch(message);
});

test('loading: a progress bar until the status arrives', async () => {
  await renderCard({ getStatus: () => new Promise(() => {}) });
  expect(await screen.findByRole('progressbar')).toBeTruthy();
});

test('no annotation: the missing-annotation state naming it', async () => {
  let asked = false;
  const getStatus = async () => {
    asked = true;
    throw new Error('not to be asked');
  };
  await renderCard({ getStatus }, '');
  expect(await screen.findByText(/Missing Annotation/i)).toBeTruthy();
  expect(document.body.textContent).toContain('loki-microservices/stack');
  expect(asked).toBe(false);
});

test('refresh: asks again on demand, and shows the new answer', async () => {
  let calls = 0;
  const getStatus = async () => {
    calls += 1;
    return calls === 1
      ? status(
          { type: 'Pending', reason: 'ComponentsNotReady', message: 'querier 1/2 ready' },
          { querier: component(2, 1) },
        )
      : status(
          { type: 'Ready', reason: 'AllComponentsReady', message: '1 components ready' },
          { querier: component(2, 2) },
        );
  };
  await renderCard({ getStatus });
  expect(await screen.findByText('querier 1/2 ready (ComponentsNotReady)')).toBeTruthy();
  const refresh = screen.getByRole('button', { name: 'Refresh' });
  fireEvent.mouseOver(refresh);
  expect((await screen.findByRole('tooltip')).textContent).toBe('Refresh');
  fireEvent.click(refresh);
  expect(await screen.findByText('1 components ready (AllComponentsReady)')).toBeTruthy();
  expect(calls).toBe(2);
});

test('each endpoint is a row: its label, its URL, and a button copying it', async () => {
  await renderCard({
    getStatus: async () =>
      status(
        { type: 'Ready', reason: 'AllComponentsReady', message: '1 components ready' },
        { querier: component(1, 1) },
      ),
  });
  const table = await screen.findByRole('table', { name: 'Endpoints' });
  const rows = [...table.querySelectorAll('tr')].map((row) => [
    row.textContent,
    row.querySelector('button')?.getAttribute('aria-label'),
  ]);
  expect(rows).toEqual([
    ['Pushhttp://logs-distributor.obs.svc.cluster.local:3100/loki/api/v1/push', 'Copy the push URL'],
    ['Queryhttp://logs-query-frontend.obs.svc.cluster.local:3100', 'Copy the query URL'],
  ]);
});

test('an exposed gateway: the external URLs in rows of their own, each with a button copying it', async () => {
  await renderCard({
    getStatus: async () =>
      status(
        { type: 'Ready', reason: 'AllComponentsReady', message: '1 components ready' },
        { gateway: component(1, 1) },
        {
          push: 'http://logs-gateway.obs.svc.cluster.local/loki/api/v1/push',
          query: 'http://logs-gateway.obs.svc.cluster.local',
          basicAuth: true,
          external: { push: 'https://logs.example.com/loki/api/v1/push', query: 'https://logs.example.com' },
        },
      ),
  });
  const table = await screen.findByRole('table', { name: 'Endpoints' });
  const rows = [...table.querySelectorAll('tr')].map((row) => [
    row.getAttribute('data-endpoint'),
    row.querySelector('td')?.textContent,
    row.querySelector('button')?.getAttribute('aria-label'),
  ]);
  expect(rows.slice(2)).toEqual([
    ['External push', 'https://logs.example.com/loki/api/v1/push', 'Copy the external push URL'],
    ['External query', 'https://logs.example.com', 'Copy the external query URL'],
  ]);
});

describe('LokiStackClient', () => {
  // jsdom has no fetch Response; the client reads only these members.
  const clientAnswering = (status: number, body: unknown) => {
    const urls: string[] = [];
    const answer = { ok: status < 300, status, statusText: '', json: async () => body } as Response;
    const client = new LokiStackClient({
      discoveryApi: { getBaseUrl: async (pluginId) => `https://backstage.example/api/${pluginId}` },
      fetchApi: { fetch: async (url) => (urls.push(String(url)), answer) },
    });
    return { client, urls };
  };

  test('asks by entity: kind and namespace in lower case as the catalog writes them, each part encoded', async () => {
    const { client, urls } = clientAnswering(200, { kind: 'StackStatus' });
    expect(await client.getStatus({ kind: 'Resource', namespace: 'Observability', name: 'logs/x y' })).toEqual({
      kind: 'StackStatus',
    });
    expect(await client.getStatus({ kind: 'Component', namespace: '', name: 'Logs' })).toEqual({ kind: 'StackStatus' });
    expect(urls).toEqual([
      'https://backstage.example/api/loki-stack/stacks/by-entity/resource/observability/logs%2Fx%20y',
      'https://backstage.example/api/loki-stack/stacks/by-entity/component/default/Logs',
    ]);
  });

  test.each([
    [404, 'not-found'],
    [401, 'unauthorized'],
    [403, 'unauthorized'],
    [503, 'unavailable'],
    [500, 'other'],
  ] as const)("HTTP %i is a LokiStackError of kind %s with the backend's message", async (code, kind) => {
    const { client } = clientAnswering(code, { error: { message: 'as the backend said' } });
    await expect(client.getStatus({ kind: 'Resource', namespace: 'default', name: 'logs' })).rejects.toMatchObject({
      kind,
      message: 'as the backend said',
    });
  });
});

test('the new frontend system entry is a frontend plugin with the API and the entity card', async () => {
  const alpha = (await import('@loki-microservices/plugin-loki-stack/alpha')).default as unknown as {
    $$type: string;
    id?: string;
    pluginId?: string;
    getExtension(id: string): { kind?: string; name?: string };
  };
  expect(alpha.$$type).toBe('@backstage/FrontendPlugin');
  expect(alpha.pluginId ?? alpha.id).toBe('loki-stack');
  expect(alpha.getExtension('entity-card:loki-stack/loki-stack')).toMatchObject({
    kind: 'entity-card',
    name: 'loki-stack',
  });
  expect(alpha.getExtension('api:loki-stack')).toMatchObject({ kind: 'api' });
});
