// Raw HTTPS requests to the test API server, as the transcripts record them (exact method, path,
// headers and body), verified against the server's CA like any client.
import { request } from 'node:https';
import { serverCredentials } from '../../src/apiserver/tls.js';
import type { RunningApiServer } from '../../src/apiserver/index.js';

/** The API groups a test API server without custom resources lists, in the order of the recorded discovery. */
export const BUILT_IN_GROUPS = [
  'apps',
  'autoscaling',
  'networking.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'coordination.k8s.io',
];

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (a list of events for watches); undefined when it is not JSON. */
  json: unknown;
}

export async function send(
  running: RunningApiServer,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; token?: string; watchMs?: number } = {},
): Promise<RawResponse> {
  const { caPem } = await serverCredentials();
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${running.url}${path}`,
      {
        method,
        ca: caPem,
        headers: {
          Authorization: `Bearer ${options.token ?? running.server.token}`,
          ...options.headers,
          ...(body ? { 'Content-Length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        const watch = /[?&]watch=(1|true)/.test(path);
        const finish = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: watch ? parseLines(text) : parse(text),
          });
        res.on('end', finish);
        // A watch that the test stops listening to after watchMs, as a client closing the connection.
        if (options.watchMs !== undefined)
          setTimeout(() => {
            res.destroy();
            finish();
          }, options.watchMs);
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A watch stream: one JSON event per line (a line cut off by closing the stream is dropped). */
function parseLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      const event = parse(line);
      return event === undefined ? [] : [event];
    });
}
