// One connection to a pod's port through the API server (`…/pods/<pod>/portforward`, WebSocket with the
// `v4.channel.k8s.io` protocol, as client-node and the kubelet speak it), as a Duplex stream an HTTP request
// can run over. Written here rather than through client-node's PortForward, which opens the WebSocket
// without a timeout and hands its handshake failure (the request, Authorization header included) to whoever
// destroys a socket with it: every failure here is one short, redacted Error on the stream.
import { Duplex } from 'node:stream';
import type { RequestOptions } from 'node:https';
import WebSocket from 'ws';
import { describeError } from '../../redact.js';
import type { Connection } from './connection.js';

const PROTOCOL = 'v4.channel.k8s.io';
/** Channel 0 carries the port's data, channel 1 its errors; the first frame on each is the port number. */
const DATA = 0;
const ERRORS = 1;

/** Opens the connection; rejects (redacted) when the API server or the kubelet refuses it, or after `timeoutMs`. */
export async function openPortForward(
  connection: Connection,
  namespace: string,
  pod: string,
  port: number,
  timeoutMs: number,
): Promise<Duplex> {
  const url = new URL(`/api/v1/namespaces/${namespace}/pods/${pod}/portforward?ports=${port}`, connection.server);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  const options: RequestOptions = {};
  await connection.kubeConfig.applyToHTTPSOptions(options);
  const socket = new WebSocket(url, [PROTOCOL], { ...options, handshakeTimeout: timeoutMs });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(new PortForwardStream(socket)));
    socket.once('unexpected-response', (_request, response) => {
      socket.terminate();
      reject(
        Object.assign(
          new Error(
            `the API server refused the port-forward to pod ${namespace}/${pod} with HTTP ${response.statusCode}`,
          ),
          { statusCode: response.statusCode },
        ),
      );
    });
    socket.once('error', (error) =>
      reject(new Error(`port-forward to pod ${namespace}/${pod}: ${describeError(error)}`)),
    );
  });
}

class PortForwardStream extends Duplex {
  private readonly seenPort = new Set<number>();
  private errors = '';

  constructor(private readonly socket: WebSocket) {
    super();
    socket.on('message', (data: Buffer) => this.receive(data));
    socket.on('close', () => (this.errors ? this.destroy(new Error(this.errors.trim())) : this.push(null)));
    socket.on('error', (error) => this.destroy(new Error(describeError(error))));
  }

  private receive(frame: Buffer): void {
    const channel = frame[0]!;
    let payload = frame.subarray(1);
    if (!this.seenPort.has(channel)) {
      this.seenPort.add(channel);
      payload = payload.subarray(2);
    }
    if (payload.length === 0) return;
    if (channel === DATA) this.push(payload);
    else if (channel === ERRORS) this.errors += payload.toString('utf8');
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.readyState !== WebSocket.OPEN) return callback(new Error('the port-forward is closed'));
    this.socket.send(Buffer.concat([Buffer.of(DATA), chunk]), { binary: true }, (error) =>
      callback(error ? new Error(describeError(error)) : null),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.terminate();
    callback(error);
  }
}
