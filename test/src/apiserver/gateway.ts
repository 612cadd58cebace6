// The stack's gateway as the double runs it: what our nginx configuration does, not nginx (real nginx is
// tested elsewhere). `GET /` answers OK to anyone; every Loki path needs HTTP basic auth against the
// htpasswd files of the pod's `htpasswd` Secret volume (read at every request, as nginx reads
// auth_basic_user_file), `tenants.htpasswd` for the APIs and `admin.htpasswd` for the admin pages. The
// request goes on to the stack's distributor (push, admin pages) or query-frontend (everything else under
// /loki/api/) without the Authorization header, with X-Scope-OrgID set to the user when Loki is
// multi-tenant. Status codes and error pages are nginx's: 401 with the realm when credentials are missing
// or wrong, 403 when the user file does not exist (nginx's answer to ENOENT), 502 when the upstream cannot
// be reached, 404 for any other path. Password hashes: bcrypt ($2a$, $2b$, $2y$), {SHA} and {PLAIN}; a
// line with any other hash never matches.
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { HttpRequest, HttpResponse, Listener } from './processes.js';

export type UserFile = 'tenants.htpasswd' | 'admin.htpasswd';
type Upstream = 'distributor' | 'query-frontend';

export interface GatewayContext {
  /** Loki's auth_enabled: the gateway then sets X-Scope-OrgID to the user. */
  multiTenant: boolean;
  /** A user file's content, or undefined when the file does not exist. */
  userFile(name: UserFile): string | undefined;
  /** The Loki Service the request goes on to, or undefined when nothing answers there. */
  upstream(service: Upstream): Listener | undefined;
}

interface Route {
  matches(path: string): boolean;
  upstream: Upstream;
  users: UserFile;
}

const exact = (location: string, upstream: Upstream, users: UserFile): Route => ({
  matches: (path) => path === location,
  upstream,
  users,
});

const ROUTES: readonly Route[] = [
  exact('/loki/api/v1/push', 'distributor', 'tenants.htpasswd'),
  ...['/ring', '/distributor/ring', '/memberlist', '/config', '/services'].map((page) =>
    exact(page, 'distributor', 'admin.htpasswd'),
  ),
  { matches: (path) => path.startsWith('/loki/api/'), upstream: 'query-frontend', users: 'tenants.htpasswd' },
];

const REALM = 'Loki';
const TITLES: Record<number, string> = {
  401: 'Authorization Required',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

export async function serveGateway(request: HttpRequest, context: GatewayContext): Promise<HttpResponse> {
  if (request.path === '/')
    return { status: 200, headers: { server: 'nginx', 'content-type': 'text/plain' }, body: 'OK' };
  const route = ROUTES.find((candidate) => candidate.matches(request.path));
  if (!route) return errorPage(404);
  const credentials = basicCredentials(request.headers.authorization);
  if (!credentials) return errorPage(401);
  const users = context.userFile(route.users);
  if (users === undefined) return errorPage(403);
  if (!(await verifies(users, credentials.user, credentials.password))) return errorPage(401);
  const upstream = context.upstream(route.upstream);
  if (!upstream) return errorPage(502);
  const { authorization: _credentials, 'x-scope-orgid': orgId, ...headers } = request.headers;
  const tenant = context.multiTenant ? credentials.user : orgId;
  const answer = await upstream({
    ...request,
    headers: { ...headers, ...(tenant !== undefined ? { 'x-scope-orgid': tenant } : {}) },
  });
  return { ...answer, headers: { ...answer.headers, server: 'nginx' } };
}

/** nginx's default error page for a status (server_tokens off). */
function errorPage(status: number): HttpResponse {
  const title = `${status} ${TITLES[status]}`;
  const body = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  const headers: Record<string, string> = { server: 'nginx', 'content-type': 'text/html' };
  if (status === 401) headers['www-authenticate'] = `Basic realm="${REALM}"`;
  return { status, headers, body };
}

/** `Authorization: Basic base64(user:password)`, or undefined when the header is missing or not that. */
function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Whether the user file has a line for `user` whose hash the password matches (the first such line counts, as in nginx). */
async function verifies(file: string, user: string, password: string): Promise<boolean> {
  const line = file
    .split('\n')
    .map((entry) => entry.replace(/\r$/, ''))
    .find((entry) => !entry.startsWith('#') && entry.startsWith(`${user}:`));
  if (line === undefined) return false;
  const hash = line.slice(user.length + 1).split(':')[0]!;
  if (/^\$2[aby]\$/.test(hash)) return bcrypt.compare(password, hash);
  if (hash.startsWith('{PLAIN}')) return hash.slice('{PLAIN}'.length) === password;
  if (hash.startsWith('{SHA}'))
    return hash.slice('{SHA}'.length) === createHash('sha1').update(password).digest('base64');
  return false;
}
