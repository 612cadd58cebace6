// Pod port-forwards through the test API server: client-node's PortForward carrying real HTTP/1.1 to the
// processes behind pod ports (the stack's in-memory Loki here; the gateway in gateway.test.ts), the
// v4.channel.k8s.io framing on the wire, and the kubelet's and API server's refusals.
import { Agent } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { serverCredentials } from '../../src/apiserver/tls.js';
import { send } from './http.js';
import { applyStack, forward, http, linesOf, NAMESPACE, podOf, pushBody, queryPath, STACK } from './stack.js';

let running: RunningApiServer;

beforeEach(async () => {
  running = await startTestApiServer({ readyAfterMs: 10 });
});
afterEach(async () => {
  await running.close();
});

const closed = (ws: WebSocket) =>
  new Promise<number>((resolve) =>
    ws.readyState === ws.CLOSED ? resolve(1000) : ws.once('close', (code) => resolve(code)),
  );

/** A raw WebSocket to the port-forward endpoint; resolves with it open, or with the HTTP answer that refused it. */
async function openRaw(
  path: string,
  options: { protocols?: string[]; token?: string } = {},
): Promise<{ ws: WebSocket; messages: Buffer[] } | { status: number; body: string }> {
  const { caPem } = await serverCredentials();
  const ws = new WebSocket(
    `${running.url.replace('https', 'wss')}${path}`,
    options.protocols ?? ['v4.channel.k8s.io', 'channel.k8s.io'],
    {
      ca: caPem,
      headers: { Authorization: `Bearer ${options.token ?? running.server.token}` },
    },
  );
  const messages: Buffer[] = [];
  ws.on('message', (data) => messages.push(data as Buffer));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const portForwardPath = (pod: string, ports: string) =>
  `/api/v1/namespaces/${NAMESPACE}/pods/${pod}/portforward?ports=${ports}`;

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write: (chunk: Buffer, _encoding, callback) => (chunks.push(chunk), callback()) }),
    text: () => Buffer.concat(chunks).toString(),
  };
}

describe('HTTP through a port-forward with client-node', () => {
  test('push to a distributor pod and read back from a query-frontend pod, several requests on one keep-alive connection', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const distributor = await forward(running, podOf(running, 'distributor'), 3100);
    const frontend = await forward(running, podOf(running, 'query-frontend'), 3100);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await http(distributor.port, 'GET', '/ready', { agent })).body).toBe('ready\n');
      for (const line of ['first', 'second', 'third']) {
        const pushed = await http(distributor.port, 'POST', '/loki/api/v1/push', {
          agent,
          headers: { 'Content-Type': 'application/json' },
          body: pushBody(line),
        });
        expect(pushed.status).toBe(204);
      }
      // Each target answers only its own paths, as through the service proxy.
      expect((await http(distributor.port, 'GET', queryPath(), { agent })).status).toBe(404);
      expect(distributor.sockets).toHaveLength(1);
      const answer = await http(frontend.port, 'GET', queryPath());
      expect(answer.status).toBe(200);
      expect(linesOf(answer)).toEqual(['third', 'second', 'first']);
    } finally {
      agent.destroy();
      await distributor.close();
      await frontend.close();
    }
  });

  test('with Connection: close each request gets its own port-forward, closed when the pod side closes the connection', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const frontend = await forward(running, podOf(running, 'query-frontend'), 3100);
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await http(frontend.port, 'GET', '/loki/api/v1/labels', { headers: { Connection: 'close' } });
        expect(answer).toMatchObject({ status: 200, headers: { connection: 'close' } });
        expect(JSON.parse(answer.body)).toEqual({ status: 'success' });
        expect(await closed(frontend.sockets[i]!)).toBe(1000);
      }
      expect(frontend.sockets).toHaveLength(3);
      expect(running.server.portForwards.open).toBe(0);
      const requests = running.server.faults.requests.filter((r) => r.path.includes('/portforward'));
      expect(requests).toEqual(Array(3).fill(expect.objectContaining({ method: 'GET', status: 101 })));
    } finally {
      await frontend.close();
    }
  });

  test('closing the local connection closes the WebSocket and the pod-side connection', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const frontend = await forward(running, podOf(running, 'query-frontend'), 3100);
    const agent = new Agent({ keepAlive: true });
    try {
      expect((await http(frontend.port, 'GET', '/ready', { agent })).status).toBe(200);
      expect(running.server.portForwards.open).toBe(1);
      agent.destroy();
      await closed(frontend.sockets[0]!);
      await until(() => running.server.portForwards.open === 0);
    } finally {
      await frontend.close();
    }
  });
});

describe('the channel protocol on the wire', () => {
  test('v4.channel.k8s.io: the port number first on both channels, then the data both ways; closed with 1000 when the pod side is done', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const opened = await openRaw(portForwardPath(podOf(running, 'distributor'), '3100'), {
      protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'],
    });
    if (!('ws' in opened)) throw new Error(`refused: ${opened.status}`);
    const { ws, messages } = opened;
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    ws.send(
      Buffer.concat([Buffer.of(0), Buffer.from('GET /ready HTTP/1.1\r\nHost: loki\r\nConnection: close\r\n\r\n')]),
    );
    expect(await closed(ws)).toBe(1000);
    expect(messages.slice(0, 2)).toEqual([Buffer.of(0, 3100 & 0xff, 3100 >> 8), Buffer.of(1, 3100 & 0xff, 3100 >> 8)]);
    const data = Buffer.concat(
      messages.slice(2).map((message) => {
        expect(message[0]).toBe(0);
        return message.subarray(1);
      }),
    ).toString();
    expect(data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(data).toMatch(/\r\n\r\nready\n$/);
  });

  test('several ports: channels 2i and 2i+1 for the i-th; a port nothing listens on gets its error while the other works', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const opened = await openRaw(portForwardPath(podOf(running, 'distributor'), '3100,9095'));
    if (!('ws' in opened)) throw new Error(`refused: ${opened.status}`);
    const { ws, messages } = opened;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(messages.filter((m) => m.length === 3).map((m) => [m[0], m.readUInt16LE(1)])).toEqual([
      [0, 3100],
      [1, 3100],
      [2, 9095],
      [3, 9095],
    ]);
    expect(
      messages
        .find((m) => m[0] === 3 && m.length > 3)!
        .subarray(1)
        .toString(),
    ).toMatch(/^error forwarding port 9095 to pod [0-9a-f]{64}, uid : .*connect: connection refused/);
    ws.send(
      Buffer.concat([Buffer.of(0), Buffer.from('GET /ready HTTP/1.1\r\nHost: loki\r\nConnection: close\r\n\r\n')]),
    );
    expect(await closed(ws)).toBe(1000);
    expect(
      messages
        .filter((m) => m[0] === 0 && m.length > 3)
        .map((m) => m.subarray(1).toString())
        .join(''),
    ).toMatch(/\r\n\r\nready\n$/);
  });
});

describe('refusals', () => {
  test('a wrong token is 401, an unknown pod 404, both as the API server answers any request', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    expect(
      await openRaw(portForwardPath(podOf(running, 'distributor'), '3100'), { token: 'not-the-token' }),
    ).toMatchObject({ status: 401 });
    const missing = await openRaw(portForwardPath('no-such-pod', '3100'));
    expect(missing).toMatchObject({ status: 404 });
    expect(JSON.parse((missing as { body: string }).body)).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      message: 'pods "no-such-pod" not found',
      code: 404,
    });
    expect(running.server.faults.requests.filter((r) => r.path.includes('/portforward')).map((r) => r.status)).toEqual([
      401, 404,
    ]);
  });

  test('client-node rejects a port-forward to an unknown pod', async () => {
    await applyStack(running, { gateway: false });
    const portForward = new k8s.PortForward(running.kubeConfig);
    // isomorphic-ws rejects with its error event, which carries the message.
    await expect(
      portForward.portForward(NAMESPACE, 'no-such-pod', [3100], new PassThrough(), null, new PassThrough()),
    ).rejects.toMatchObject({ message: 'Unexpected server response: 404' });
  });

  test('a port the pod does not declare: the kubelet writes the refusal on the error channel, then closes', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const errors = collector();
    const frontend = await forward(running, podOf(running, 'query-frontend'), 8080, errors.stream);
    try {
      await expect(http(frontend.port, 'GET', '/ready')).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(await closed(frontend.sockets[0]!)).toBe(1000);
      expect(errors.text()).toMatch(
        new RegExp(
          `^error forwarding port 8080 to pod [0-9a-f]{64}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-[-0-9a-f]+": failed to connect to localhost:8080 inside namespace "[0-9a-f]{64}", IPv4: dial tcp4 127.0.0.1:8080: connect: connection refused IPv6 dial tcp6 \\[::1\\]:8080: connect: connection refused $`,
        ),
      );
    } finally {
      await frontend.close();
    }
  });

  test('a pod whose container is not running refuses the connection the same way', async () => {
    running.server.cluster.fail({ workload: `${STACK}-distributor` }, 'crashLoop');
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const errors = collector();
    const distributor = await forward(running, podOf(running, 'distributor'), 3100, errors.stream);
    try {
      await expect(http(distributor.port, 'GET', '/ready')).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(errors.text()).toMatch(/^error forwarding port 3100 to pod .*connection refused $/);
    } finally {
      await distributor.close();
    }
  });

  test('an unscheduled pod is refused by the API server (400), a pod without a sandbox by the kubelet (500)', async () => {
    running.server.cluster.fail({ workload: `${STACK}-distributor` }, 'unschedulable');
    await applyStack(running, { htpasswd: undefined });
    await running.server.cluster.idle();
    const unscheduled = await openRaw(portForwardPath(podOf(running, 'distributor'), '3100'));
    expect(unscheduled).toMatchObject({ status: 400 });
    expect(JSON.parse((unscheduled as { body: string }).body)).toMatchObject({
      reason: 'BadRequest',
      message: `pod ${podOf(running, 'distributor')} does not have a host assigned`,
    });
    // The gateway's Secret is missing: its volume cannot be mounted, so no sandbox and no IP yet.
    const gateway = running.server.api.get('Pod', NAMESPACE, podOf(running, 'gateway'));
    expect(await openRaw(portForwardPath(gateway.metadata.name, '8080'))).toEqual({
      status: 500,
      body: `failed to find sandboxID for pod ${gateway.metadata.name}_${NAMESPACE}(${gateway.metadata.uid})`,
    });
  });

  test('subprotocols the kubelet does not speak are refused with 403; a request without an upgrade with 400; RBAC with 403', async () => {
    await applyStack(running, { gateway: false });
    await running.server.cluster.idle();
    const pod = podOf(running, 'distributor');
    expect(
      await openRaw(portForwardPath(pod, '3100'), { protocols: ['v5.channel.k8s.io', 'base64.channel.k8s.io'] }),
    ).toEqual({ status: 403, body: '' });
    const plain = await send(running, 'GET', portForwardPath(pod, '3100'));
    expect([plain.status, plain.text]).toEqual([
      400,
      expect.stringMatching(
        /^unable to upgrade: missing upgrade headers in request: http\.Header\{"Connection":\[\]string\{"keep-alive"\}, "Host":\[\]string\{"127\.0\.0\.1:\d+"\}\}\n$/,
      ),
    ]);
    expect(await openRaw(portForwardPath(pod, 'http'))).toEqual({
      status: 400,
      body: 'unable to parse "http" as a port\n',
    });
    running.server.faults.forbid({ verb: 'create', resource: 'pods/portforward' });
    const forbidden = await openRaw(portForwardPath(pod, '3100'));
    expect(JSON.parse((forbidden as { body: string }).body)).toMatchObject({
      code: 403,
      message: `pods "${pod}" is forbidden: User "system:serviceaccount:test:client" cannot create resource "pods/portforward" in API group "" in the namespace "${NAMESPACE}"`,
    });
  });

  test('discovery lists pods/portforward as the recorded server does', async () => {
    const v1 = await send(running, 'GET', '/api/v1');
    expect((v1.json as { resources: { name: string }[] }).resources).toContainEqual({
      name: 'pods/portforward',
      singularName: '',
      namespaced: true,
      kind: 'PodPortForwardOptions',
      verbs: ['create', 'get'],
    });
  });
});
