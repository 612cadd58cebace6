// One watch request (`?watch=true`), read as the API server streams it: a JSON event per line. client-node's
// Watch sets no timeout (an API server that accepts the connection and goes quiet holds it forever), and
// gives no hold on its socket; here a watch that hears nothing for `idleTimeoutMs` (no event, no bookmark)
// ends with an error, so that the caller lists and watches again, and every socket and stream error ends it.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';
import type { Connection } from './connection.js';

/** How long a watch may stay silent; the API server sends a bookmark about every minute when asked. */
export const DEFAULT_WATCH_IDLE_MS = 90_000;
/** One event is one object, which etcd keeps under 1.5 MiB: a longer line is not an event. */
const MAX_EVENT_BYTES = 8 * 1024 * 1024;

export interface WatchEvent {
  type: string;
  object: unknown;
}

export interface WatchOptions {
  query: Record<string, string | undefined>;
  idleTimeoutMs?: number;
  onEvent: (event: WatchEvent) => void;
  /** Called once when the watch ends: undefined when the server closed it, else why (`statusCode` set for an HTTP refusal). */
  onEnd: (error?: Error & { statusCode?: number }) => void;
}

/** Starts the watch; the returned function stops it (onEnd is not called then). */
export async function watch(connection: Connection, path: string, options: WatchOptions): Promise<() => void> {
  const url = new URL(path, connection.server);
  url.searchParams.set('watch', 'true');
  for (const [key, value] of Object.entries(options.query)) if (value !== undefined) url.searchParams.set(key, value);
  const requestOptions: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await connection.kubeConfig.applyToHTTPSOptions(requestOptions);

  let ended = false;
  const end = (error?: Error & { statusCode?: number }) => {
    if (ended) return;
    ended = true;
    req.destroy();
    options.onEnd(error);
  };
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const req = send(url, requestOptions, (response) => {
    if (response.statusCode !== 200) return refused(response, end);
    response.on('error', end);
    response.on('end', () => end());
    let lineBytes = 0;
    response.on('data', (chunk: Buffer) => {
      const newline = chunk.lastIndexOf(10);
      lineBytes = newline < 0 ? lineBytes + chunk.length : chunk.length - newline - 1;
      if (lineBytes > MAX_EVENT_BYTES)
        end(new Error(`the watch stream carried a line longer than ${MAX_EVENT_BYTES} bytes`));
    });
    const lines = createInterface({ input: response });
    // readline passes its input's errors on: they end the watch, as the response's own do.
    lines.on('error', end);
    lines.on('line', (line) => {
      if (ended || line.trim() === '') return;
      let event: WatchEvent;
      try {
        event = JSON.parse(line) as WatchEvent;
      } catch {
        return end(new Error('the watch stream carried a line that is not JSON'));
      }
      options.onEvent(event);
    });
  });
  // Idle means nothing at all on the socket: before the answer's head as well as between events.
  req.setTimeout(options.idleTimeoutMs ?? DEFAULT_WATCH_IDLE_MS, () =>
    end(Object.assign(new Error('the watch went silent'), { code: 'ETIMEDOUT' })),
  );
  req.on('error', end);
  req.end();
  return () => {
    ended = true;
    req.destroy();
  };
}

/** A watch refused with an HTTP status: its Status message, as far as it is short and readable. */
function refused(response: IncomingMessage, end: (error: Error & { statusCode?: number }) => void): void {
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    if (body.length < 4096) body += chunk;
  });
  response.on('error', () =>
    end(Object.assign(new Error(`HTTP ${response.statusCode}`), { statusCode: response.statusCode })),
  );
  response.on('end', () => {
    let message = `HTTP ${response.statusCode}`;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? message;
    } catch {
      // not a Status: the code says enough
    }
    end(Object.assign(new Error(message), { statusCode: response.statusCode }));
  });
}
