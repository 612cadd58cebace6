// The request/response shapes the fake speaks, and the few response bodies Loki writes the same way
// everywhere. Two error styles exist in Loki and the fake keeps both: Go's http.Error (push path, auth
// middleware, router) ends the body with a newline; the query path's error writer does not.

export interface LokiRequest {
  method: string;
  /** The path as Loki itself would see it, e.g. `/loki/api/v1/push`. */
  path: string;
  query: URLSearchParams;
  /** Header names lower-case. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface LokiResponse {
  status: number;
  /** Header names lower-case. */
  headers: Record<string, string>;
  body: string;
}

/** A request Loki refuses; `message` is the body text Loki would send (before any trailing newline). */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

const TEXT_HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };

/** Loki's query-path error writer: plain text, no trailing newline. */
export function plainText(status: number, body: string): LokiResponse {
  return { status, headers: { ...TEXT_HEADERS }, body };
}

/** Go's `http.Error`: plain text with a trailing newline. */
export function goHttpError(status: number, message: string): LokiResponse {
  return plainText(status, `${message}\n`);
}

export function json(value: unknown, contentType = 'application/json; charset=UTF-8'): LokiResponse {
  return { status: 200, headers: { 'content-type': contentType }, body: JSON.stringify(value) };
}

export const noContent = (): LokiResponse => ({ status: 204, headers: {}, body: '' });

/** gorilla/mux answers a known path with the wrong method with a bare 405. */
export const methodNotAllowed = (): LokiResponse => ({ status: 405, headers: {}, body: '' });

export const notFound = (): LokiResponse => goHttpError(404, '404 page not found');

/** The media type of a Content-Type header, lower-cased and without parameters ('' when absent). */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Go's `r.Form`: for a form-encoded POST the body's values come first, then the URL's. */
export function formOf(request: LokiRequest): URLSearchParams {
  if (request.method !== 'POST' || mediaType(request.headers['content-type']) !== 'application/x-www-form-urlencoded') {
    return request.query;
  }
  return new URLSearchParams([...new URLSearchParams(request.body.toString('utf8')), ...request.query]);
}
