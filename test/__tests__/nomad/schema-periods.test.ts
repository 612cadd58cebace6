// Schema periods against the live Nomad job: a change to a period in effect is refused before the job is
// parsed or registered; a period appended ahead is registered, and status tells the active and the next one.
import { jest } from '@jest/globals';
import {
  applyNomadJob,
  getNomadStatus,
  NomadClient,
  nextSafeSchemaDate,
  parseSpec,
  SchemaChangeError,
  type LokiStackInput,
} from 'loki-microservices';
import { closeHclParser } from '../../src/hcl.js';
import { startNomadApiServer, type NomadApiServer } from '../../src/nomad-api/index.js';

jest.setTimeout(60_000);

const LIVE = { from: '2024-04-01', store: 'tsdb', version: 'v13', indexPrefix: 'index_' } as const;
const specOf = (schemas?: NonNullable<LokiStackInput['spec']>['schemas']) =>
  parseSpec({
    metadata: { name: 'loki' },
    spec: {
      storage: {
        type: 's3',
        s3: { bucket: 'loki-chunks', endpoint: 'http://minio.service.consul:9000', forcePathStyle: true },
      },
      nomad: { credentials: { source: 'nomadVariable', path: 'nomad/jobs/loki' } },
      ...(schemas ? { schemas } : {}),
    },
  });

let server: NomadApiServer;
let client: NomadClient;
beforeAll(async () => {
  server = await startNomadApiServer({ runDelayMs: 20, healthyDelayMs: 20, progressDeadlineMs: 30_000 });
  client = new NomadClient({ address: server.url }, {});
});
afterAll(async () => {
  await server.close();
  await closeHclParser();
});

test('a changed period in effect is refused before anything is sent; one appended ahead is registered', async () => {
  const created = await applyNomadJob(client, specOf());
  expect(created.action).toBe('created');
  const sent = server.requests.length;

  const refusal = await applyNomadJob(client, specOf([{ ...LIVE, version: 'v13', indexPrefix: 'loki_' }])).catch(
    (error: unknown) => error,
  );
  expect(refusal).toBeInstanceOf(SchemaChangeError);
  expect((refusal as SchemaChangeError).issues[0]).toMatchObject({
    path: 'spec.schemas[0].indexPrefix',
    message: expect.stringContaining('is "index_" on the live stack'),
  });
  const past = await applyNomadJob(client, specOf([LIVE, { ...LIVE, from: '2026-01-01' }])).catch(
    (error: unknown) => error,
  );
  expect((past as SchemaChangeError).issues[0]).toMatchObject({ path: 'spec.schemas[1].from' });
  // Only the reads of the live job: nothing parsed, nothing registered.
  expect(server.requests.slice(sent).map((request) => `${request.method} ${request.path}`)).toEqual([
    'GET /v1/job/loki?namespace=default',
    'GET /v1/job/loki?namespace=default',
  ]);
  expect(server.jobs('default').find((job) => job.ID === 'loki')?.Version).toBe(0);

  const next = { ...LIVE, from: nextSafeSchemaDate() };
  const updated = await applyNomadJob(client, specOf([LIVE, next]));
  expect(updated).toMatchObject({ action: 'updated', version: 1 });
  const status = await getNomadStatus(client, { name: 'loki', namespace: 'default' });
  expect(status.schema).toEqual({
    active: { from: '2024-04-01', store: 'tsdb', version: 'v13' },
    next: { from: next.from, store: 'tsdb', version: 'v13' },
  });
});
