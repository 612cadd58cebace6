// Watches (`?watch=1`): a chunked stream of JSON events, one per line, as the API server sends them
// (transcripts 51-53). Without a resourceVersion (or with "0") the stream starts with ADDED for every
// matching object; with one, it replays the changes after it (or ends with a 410 Expired ERROR event).
// An object that stops matching the selectors is sent as DELETED, one that starts matching as ADDED.
import type { ServerResponse } from 'node:http';
import type { Api } from './api.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Change, KubeObject } from './store.js';

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  labelSelector: string | null;
  fieldSelector: string | null;
  resourceVersion: string | null;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
}

/** How often a bookmark is sent on watches that allow them (the API server sends about one a minute). */
const BOOKMARK_INTERVAL_MS = 60_000;

export function serveWatch(api: Api, request: WatchRequest, response: ServerResponse): void {
  const { type, namespace } = request;
  const byLabels = parseLabelSelector(request.labelSelector);
  const byFields = parseFieldSelector(request.fieldSelector);
  const typed = (object: KubeObject): KubeObject => {
    const { apiVersion: _a, kind: _k, ...rest } = object;
    return { kind: type.kind, apiVersion: apiVersionOf(type), ...rest };
  };
  const matches = (object: KubeObject | undefined) =>
    !!object &&
    (!type.namespaced || namespace === undefined || object.metadata.namespace === namespace) &&
    byLabels(object.metadata.labels) &&
    byFields(typed(object));

  response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // Clients wait for the headers before they read events: send them now, not with the first event.
  response.flushHeaders();
  const send = (eventType: string, object: unknown) =>
    response.write(`${JSON.stringify({ type: eventType, object })}\n`);

  const forward = (change: Change) => {
    if (change.kind !== type.kind) return;
    const now = matches(change.object);
    const before = change.type === 'MODIFIED' && matches(change.previous);
    if (change.type === 'MODIFIED' && before && !now) send('DELETED', typed(change.object));
    else if (change.type === 'MODIFIED' && !before && now) send('ADDED', typed(change.object));
    else if (now) send(change.type, typed(change.object));
  };

  const since =
    request.resourceVersion && request.resourceVersion !== '0' ? Number(request.resourceVersion) : undefined;
  if (since === undefined) {
    for (const object of api.store.list(type.kind, type.namespaced ? namespace : undefined))
      if (matches(object)) send('ADDED', typed(object));
  } else {
    const changes = api.store.changesSince(since);
    if (changes === 'expired') {
      send('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${since} (${api.store.resourceVersion})`,
        reason: 'Expired',
        code: 410,
      });
      response.end();
      return;
    }
    changes.forEach(forward);
  }

  const unsubscribe = api.store.subscribe(forward);
  const bookmarks = request.allowBookmarks
    ? setInterval(
        () =>
          send('BOOKMARK', {
            kind: type.kind,
            apiVersion: apiVersionOf(type),
            metadata: { resourceVersion: api.store.resourceVersion },
          }),
        BOOKMARK_INTERVAL_MS,
      )
    : undefined;
  const timeout = request.timeoutSeconds ? setTimeout(() => response.end(), request.timeoutSeconds * 1000) : undefined;
  const stop = () => {
    unsubscribe();
    clearInterval(bookmarks);
    clearTimeout(timeout);
  };
  response.on('close', stop);
  response.on('finish', stop);
}
