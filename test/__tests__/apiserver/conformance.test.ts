// Conformance of the test double with a real Kubernetes API server: every recorded exchange in
// fixtures/k8s-api-transcripts is replayed in order against one double, and the answer must have the
// recorded status and a body of the same shape (placeholders such as <uid> match any value of their
// form). Where the double deliberately answers differently, the case says so and why.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { BUILT_IN_GROUPS, send, type RawResponse } from './http.js';
import { shapeDifferences, transcript, withHashPlaceholders, type Transcript } from './transcripts.js';

/** The pod-template hashes in the recordings: Kubernetes hashes Go structs, the double hashes JSON. */
const RECORDED_HASHES = ['77844cbfb6', '849d49c494'];

let running: RunningApiServer;
/** resourceVersions seen along the way, for paths and checks that refer to them. */
const seen: Record<string, string> = {};

beforeAll(async () => {
  // The recording's node was called fake-node.
  running = await startTestApiServer({ readyAfterMs: 20, nodeName: 'fake-node' });
  // The recording cluster ran its controllers but had no node until transcript 45: pods and claims
  // waited Pending. The double's node is taken away until then too.
  running.server.cluster.setNodeAvailable(false);
});
afterAll(async () => {
  await running.close();
});

async function replay(
  number: number,
  options: { path?: string; watchMs?: number } = {},
): Promise<{ recorded: Transcript; actual: RawResponse }> {
  const recorded = transcript(number);
  const { method, headers, body } = recorded.request;
  const actual = await send(running, method, options.path ?? recorded.request.path, {
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(options.watchMs !== undefined ? { watchMs: options.watchMs } : {}),
  });
  return {
    recorded: {
      ...recorded,
      response: { ...recorded.response, body: withHashPlaceholders(recorded.response.body, RECORDED_HASHES) },
    },
    actual,
  };
}

/** Replay and compare status and shape; `ignore` lists paths that knowingly differ (see each use). */
async function conforms(number: number, ignore: string[] = [], options: { path?: string } = {}): Promise<RawResponse> {
  const { recorded, actual } = await replay(number, options);
  expect({ transcript: recorded.file, status: actual.status }).toEqual({
    transcript: recorded.file,
    status: recorded.response.status,
  });
  expect(shapeDifferences(recorded.response.body, actual.json, ignore)).toEqual([]);
  return actual;
}

const rv = (response: RawResponse) =>
  (response.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion;

describe('discovery', () => {
  test.each([1, 2, 3, 4, 5, 6])(
    'transcript %i: the recorded document, limited to what the double serves',
    async (number) => {
      const { recorded, actual } = await replay(number);
      expect(actual.status).toBe(200);
      const document = actual.json as { resources?: { name: string }[]; groups?: { name: string }[] };
      const recordedDocument = recorded.response.body as typeof document;
      if (document.resources) {
        // Every resource the double lists is listed as the real server lists it; resources it does not
        // implement (nodes, bindings, daemonsets…) are left out so that clients never find a 404.
        for (const resource of document.resources)
          expect(resource).toEqual(recordedDocument.resources!.find((r) => r.name === resource.name));
        const expected = {
          3: ['configmaps', 'namespaces/finalize', 'pods', 'pods/log', 'services/proxy'],
          5: ['deployments', 'statefulsets/status'],
          6: ['poddisruptionbudgets'],
        }[number as 3 | 5 | 6];
        expect(document.resources.map((r) => r.name)).toEqual(expect.arrayContaining(expected));
      } else if (document.groups) {
        expect(document.groups.map((g) => g.name)).toEqual(BUILT_IN_GROUPS);
      } else {
        expect(shapeDifferences(recorded.response.body, actual.json)).toEqual([]);
      }
    },
  );

  test('transcripts 7, 8: aggregated discovery alone is refused; with a JSON fallback the group list comes back', async () => {
    await conforms(7);
    const fallback = await replay(8);
    expect(fallback.actual.status).toBe(200);
    expect((fallback.actual.json as { kind: string }).kind).toBe('APIGroupList');
  });
});

describe('server-side apply', () => {
  test.each([9, 10, 11, 12, 13, 14, 15, 17])(
    'transcript %i: create by apply answers 201 with the stored object',
    async (number) => {
      const response = await conforms(number);
      seen[number] = rv(response);
    },
  );

  test('transcript 16: a StatefulSet, with the claim retention policy current Kubernetes defaults (1.24 had none)', async () => {
    await conforms(16, ['.spec.persistentVolumeClaimRetentionPolicy']);
  });

  test('transcript 18: re-applying the same configuration writes nothing (same resourceVersion)', async () => {
    const response = await conforms(18);
    expect(rv(response)).toBe(seen[10]);
  });

  test('transcript 19: a key the manager stopped applying is removed', async () => {
    await conforms(19);
  });

  test('transcript 20: another manager changing an owned field gets 409 with the conflict named', async () => {
    await conforms(20);
  });

  test('transcript 21: with force the other manager takes the field over', async () => {
    await conforms(21);
  });

  test('transcripts 22, 23: a dry run answers the would-be object and stores nothing', async () => {
    await running.server.cluster.idle();
    const before = await send(running, 'GET', '/apis/apps/v1/namespaces/demo/deployments/loki-distributor');
    const dryRun = await conforms(22);
    expect(rv(dryRun)).toBe(rv(before));
    expect((dryRun.json as { spec: { replicas: number } }).spec.replicas).toBe(3);
    const after = await conforms(23);
    expect(after.json).toEqual(before.json);
  });
});

describe('errors', () => {
  test('transcript 24: a value of the wrong type fails typing the patch (500, as recorded)', async () => {
    await conforms(24);
  });

  test('transcripts 25, 26: a Service port without protocol is accepted and defaulted to TCP', async () => {
    await conforms(25);
    await conforms(26);
  });

  test('transcripts 27, 28: immutable StatefulSet fields are refused with 422 and causes', async () => {
    await conforms(27);
    await conforms(28);
  });

  test('transcripts 29, 30: an unknown field in an apply is refused naming the field — 400 as current Kubernetes answers (1.24 answered 500)', async () => {
    for (const number of [29, 30]) {
      const { recorded, actual } = await replay(number);
      expect(actual.status).toBe(400);
      const message = (actual.json as { message: string }).message;
      expect(message).toBe((recorded.response.body as { message: string }).message);
      expect((actual.json as { reason: string }).reason).toBe('BadRequest');
    }
  });

  test('transcript 31: a JSON create with an unknown field under fieldValidation=Strict is refused — current Kubernetes (1.24 dropped the field and answered 201)', async () => {
    const { actual } = await replay(31);
    expect(actual.status).toBe(400);
    expect((actual.json as { message: string }).message).toBe('strict decoding error: unknown field "bogus"');
    const withoutStrict = await send(running, 'POST', '/api/v1/namespaces/demo/configmaps', {
      headers: { 'Content-Type': 'application/json' },
      body: transcript(31).request.body,
    });
    expect(withoutStrict.status).toBe(201);
    expect(withoutStrict.headers.warning).toBe('299 - "unknown field \\"bogus\\""');
    expect(shapeDifferences(transcript(31).response.body, withoutStrict.json)).toEqual([]);
  });

  test.each([32, 33, 34])('transcript %i: errors as Status objects', async (number) => {
    if (number === 34) {
      const { recorded } = await replay(34);
      const actual = await send(running, 'GET', recorded.request.path, { token: 'not-the-token' });
      expect(actual.status).toBe(401);
      expect(shapeDifferences(recorded.response.body, actual.json)).toEqual([]);
    } else await conforms(number);
  });
});

/** Current Kubernetes defaults a StatefulSet's claim retention policy; 1.24 did not have the field. */
const RETENTION_POLICY = [
  '.spec.persistentVolumeClaimRetentionPolicy',
  '.items[*].spec.persistentVolumeClaimRetentionPolicy',
];
/**
 * The double defaults a claim's StorageClass to "standard" as kind's DefaultStorageClass admission does;
 * the recording cluster had no default class.
 */
const STORAGE_CLASS = [
  '.items[*].spec.storageClassName',
  '.items[*].metadata.managedFields[*].fieldsV1.f:spec.f:storageClassName',
  '.spec.storageClassName',
];

describe('a stack waiting for its node', () => {
  beforeAll(async () => {
    await running.server.cluster.idle();
  });

  test.each([35, 37, 38, 39, 41, 42, 43, 44])('transcript %i: lists by label and field selectors', async (number) => {
    await conforms(number);
  });

  test('transcript 36: a StatefulSet whose pods wait', async () => {
    await conforms(36, RETENTION_POLICY);
  });

  test('transcript 40: claims wait for a volume', async () => {
    await conforms(40, STORAGE_CLASS);
  });
});

describe('a stack that became ready', () => {
  beforeAll(async () => {
    running.server.cluster.setNodeAvailable(true);
    await running.server.cluster.idle();
  });

  test('transcript 45: a ready Deployment', async () => {
    await conforms(45);
  });

  test("transcript 47: a running pod, with the real kubelet's manager name, condition order and container runtime IDs where the recording cluster had a stand-in agent", async () => {
    await conforms(47, [
      '.metadata.managedFields[1].manager',
      '.status.conditions[*].type',
      '.status.hostIP',
      '.status.containerStatuses[*].image',
      '.status.containerStatuses[*].imageID',
      '.status.containerStatuses[*].containerID',
    ]);
  });

  test('transcript 46: a ready StatefulSet', async () => {
    await conforms(46, RETENTION_POLICY);
  });

  test('transcript 48: bound claims, to volumes named as dynamic provisioning names them (the recording: fake-pv-…)', async () => {
    await conforms(48, [...STORAGE_CLASS, '.items[*].spec.volumeName']);
  });

  test("transcripts 49, 50: a pod no node can take stays Pending — with the scheduler's verdict, which the recording cluster (no scheduler) lacked", async () => {
    await conforms(49);
    await running.server.cluster.idle();
    const pending = await conforms(50, ['.status.conditions', '.metadata.managedFields']);
    const conditions = (
      pending.json as { status: { conditions: { type: string; status: string; reason: string; message: string }[] } }
    ).status.conditions;
    expect(conditions).toEqual([
      expect.objectContaining({
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: expect.stringMatching(/didn't match Pod's node affinity\/selector/),
      }),
    ]);
  });
});

describe('watches', () => {
  beforeAll(() => {
    // The recording's stand-in node agent had stopped: the pod of the scale-up stayed Pending.
    running.server.cluster.setNodeAvailable(false);
  });

  test('transcript 51: a watch from a list resourceVersion sees the scale-up and the controller status updates', async () => {
    const list = await send(
      running,
      'GET',
      '/apis/apps/v1/namespaces/demo/deployments?labelSelector=app.kubernetes.io%2Finstance%3Dloki',
    );
    const recorded = transcript(51);
    const watching = send(running, 'GET', recorded.request.path.replace('<rv>', rv(list)), { watchMs: 1500 });
    const scale = transcript(15).request.body as string;
    await send(running, 'PATCH', transcript(15).request.path, {
      headers: transcript(15).request.headers,
      body: scale.replace('replicas: 2', 'replicas: 3'),
    });
    const events = (await watching).json as { type: string; object: unknown }[];
    const recordedEvents = recorded.response.body as { type: string; object: unknown }[];
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['MODIFIED']));
    expect(
      shapeDifferences(recordedEvents[0]!.object, events[0]!.object, ['.status*', '.metadata.managedFields*']),
    ).toEqual([]);
  });

  test('transcripts 52, 53: without a resourceVersion (or with 0) a watch starts with ADDED and ends cleanly at timeoutSeconds', async () => {
    for (const number of [52, 53]) {
      const recorded = transcript(number);
      // timeoutSeconds=1 instead of 5 keeps the test short; the behaviour is the same.
      const path = recorded.request.path.replace('<rv>', '0').replace('timeoutSeconds=5', 'timeoutSeconds=1');
      const response = await send(running, 'GET', path);
      expect(response.status).toBe(200);
      const events = response.json as { type: string; object: { metadata: { name: string } } }[];
      expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'loki-distributor']]);
    }
  });
});

describe('service proxy and deletes', () => {
  test('transcript 54: the proxy to a Service without ready endpoints answers 503', async () => {
    await conforms(54);
  });

  test('transcript 55: a foreground delete answers the object, marked and held by the foregroundDeletion finalizer', async () => {
    await conforms(55);
  });

  test('transcripts 56, 57: a background delete answers Success; deleting what is gone answers 404', async () => {
    await send(running, 'PATCH', transcript(15).request.path.replace('loki-distributor', 'loki-querier'), {
      headers: transcript(15).request.headers,
      body: (transcript(15).request.body as string).replaceAll('distributor', 'querier'),
    });
    await conforms(56);
    await running.server.cluster.idle();
    await conforms(57);
  });

  test('transcript 58: deletecollection answers the deleted objects', async () => {
    await conforms(58);
  });

  test('transcripts 59, 60, 61: a deleted namespace is Terminating, and refuses new content', async () => {
    await conforms(59);
    await conforms(60);
    await conforms(61);
  });
});
