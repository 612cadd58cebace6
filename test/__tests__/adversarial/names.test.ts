// Attack 1: a name no valid spec could hold ("..", "a/b") reaching a request path. client-node does not
// encode path segments, so a namespace ".." turns `/api/v1/namespaces/../pods` into the cluster-wide list:
// `loki:stack:destroy` with namespace ".." once deleted the stacks of every namespace, volumes included.
// Every entry point refuses such names, and so does every core function that talks to a cluster.
import { jest } from '@jest/globals';
import {
  applyStack,
  destroyStack,
  diagnose,
  getStackStatus,
  parseSpec,
  parseStackAnnotation,
  smokeTest,
  SpecError,
  waitForStack,
  type LokiStack,
  type StackStatus,
} from 'loki-microservices';
import { FAST_RETRY, startFixture, storedStackObjects, type Fixture } from '../cluster/fixture.js';
import { clusterActions, clustersOf, contextFor } from '../scaffolder/fixture.js';
import { cli } from './harness.js';

jest.setTimeout(120_000);

let fixture: Fixture;
const TEAMS = ['team-a', 'team-b'];
const before: Record<string, string[]> = {};

beforeAll(async () => {
  fixture = await startFixture();
  for (const namespace of TEAMS) {
    await applyStack(fixture.connection, parseSpec({ metadata: { namespace } }), { retry: FAST_RETRY });
    before[namespace] = storedStackObjects(fixture.running, 'loki', namespace);
  }
});

afterAll(async () => {
  await fixture.close();
});

const writes = () => fixture.running.server.faults.requests.filter((request) => request.method !== 'GET');
const untouched = () => {
  for (const namespace of TEAMS)
    expect(storedStackObjects(fixture.running, 'loki', namespace)).toEqual(before[namespace]);
};

const BAD_NAMESPACES = ['..', '.', 'team-a/..', '%2e%2e', 'Team-A', ''];

test.each(BAD_NAMESPACES)(
  'loki:stack:destroy with namespace %j is refused naming the input, and deletes nothing anywhere',
  async (namespace) => {
    const action = clusterActions(await clustersOf(fixture.running)).destroy;
    const { ctx } = contextFor({ cluster: 'dev', name: 'loki', namespace, deleteVolumes: true, timeout: '1m' });
    const sent = writes().length;
    await expect(action.handler(ctx)).rejects.toThrow(/input namespace: .* is not a namespace name/);
    expect(writes()).toHaveLength(sent);
    untouched();
  },
);

test('loki:stack:destroy with a name no spec allows is refused too', async () => {
  const action = clusterActions(await clustersOf(fixture.running)).destroy;
  const { ctx } = contextFor({ cluster: 'dev', name: '../loki', namespace: 'team-a', timeout: '1m' });
  await expect(action.handler(ctx)).rejects.toThrow(/input name: .* is not a stack name/);
  untouched();
});

describe.each(BAD_NAMESPACES)('the core refuses namespace %j before any request', (namespace) => {
  const ref = { name: 'loki', namespace };
  const stack = { ...parseSpec({}), metadata: { name: 'loki', namespace, labels: {} } } as LokiStack;
  const calls: [string, () => Promise<unknown>][] = [
    ['applyStack', () => applyStack(fixture.connection, stack, { retry: FAST_RETRY })],
    ['getStackStatus', () => getStackStatus(fixture.connection, ref, FAST_RETRY)],
    ['waitForStack', () => waitForStack(fixture.connection, ref, { timeoutMs: 2000, retry: FAST_RETRY })],
    ['smokeTest', () => smokeTest(fixture.connection, ref, { timeoutMs: 2000 })],
    ['destroyStack', () => destroyStack(fixture.connection, ref, { deleteVolumes: true, retry: FAST_RETRY })],
    ['diagnose', () => diagnose(fixture.connection, ref, { components: {} } as unknown as StackStatus)],
  ];
  test.each(calls)('%s', async (_name, call) => {
    const sent = fixture.running.server.faults.requests.length;
    await expect(call()).rejects.toThrow(SpecError);
    expect(fixture.running.server.faults.requests).toHaveLength(sent);
    untouched();
  });
});

test('the CLI refuses it with exit 2 naming the field, before contacting the cluster', async () => {
  const sent = fixture.running.server.faults.requests.length;
  const result = await cli(fixture.running, ['destroy', '--delete-volumes', '--set', 'metadata.namespace=..']);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/metadata\.namespace: must be a DNS-1123 label/);
  expect(fixture.running.server.faults.requests).toHaveLength(sent);
  untouched();
});

test('the catalog annotation the status card and backend read names a stack only with valid names', () => {
  expect(parseStackAnnotation('dev/team-a/loki')).toEqual({ cluster: 'dev', namespace: 'team-a', name: 'loki' });
  for (const value of ['dev/../loki', 'dev/team-a/..', '../team-a/loki', 'dev/.%2e/loki', 'dev/team-a/Loki'])
    expect(parseStackAnnotation(value)).toBeUndefined();
});
