// The gateway's nginx configuration: which Loki component serves each API path, who may call it (a tenant or
// the admin user, by HTTP basic auth against htpasswd files from a Secret), and the tenant header. nginx
// reads the user files at every request, so a changed password needs no restart. Upstreams are resolved
// through the cluster DNS at request time (a variable in proxy_pass), so nginx starts even before a Service
// has endpoints and follows a Service that is recreated.
import type { ComponentName } from '../../spec/components.js';
import { parseDurationMs } from '../../spec/quantity.js';
import type { LokiStack } from '../../spec/schema.js';
import { isDeployed } from '../../stack/components.js';
import { objectName, PORTS, serviceHost } from './common.js';

export const GATEWAY_PORT = { name: 'http', port: 8080, servicePort: 80 } as const;

export const GATEWAY_PATHS = {
  configDir: '/etc/nginx',
  configFile: '/etc/nginx/nginx.conf',
  secretsDir: '/etc/nginx/secrets',
} as const;

/** Keys of the gateway's htpasswd Secret: one file for the tenants, one for the admin user. */
export const HTPASSWD_KEYS = { tenants: 'tenants.htpasswd', admin: 'admin.htpasswd' } as const;

export interface GatewayRoute {
  /** An nginx location: `= /path` for an exact path, `/prefix` for a prefix (the longest prefix wins). */
  location: string;
  component: ComponentName;
  access: 'tenant' | 'admin';
  /** Long-lived WebSocket connections (tail). */
  websocket?: boolean;
  /** The component is not deployed: the path answers 404. */
  absent?: boolean;
}

/** The Loki APIs behind the gateway; everything else answers 404. */
export function gatewayRoutes(stack: LokiStack): GatewayRoute[] {
  const tenant = (location: string, component: ComponentName, websocket = false): GatewayRoute => ({
    location,
    component,
    access: 'tenant',
    ...(websocket ? { websocket } : {}),
  });
  const admin = (location: string, component: ComponentName): GatewayRoute => ({
    location,
    component,
    access: 'admin',
  });
  // Paths of an optional component answer 404 here when it is off, rather than fall through to a prefix.
  const ifDeployed = (route: GatewayRoute, needs = route.component): GatewayRoute =>
    isDeployed(stack, needs) ? route : { ...route, absent: true };
  return [
    tenant('= /loki/api/v1/push', 'distributor'),
    tenant('= /api/prom/push', 'distributor'),
    tenant('= /otlp/v1/logs', 'distributor'),
    // Straight to the queriers, as the query-frontend would proxy them (tail_proxy_url).
    tenant('= /loki/api/v1/tail', 'querier', true),
    tenant('= /api/prom/tail', 'querier', true),
    tenant('/loki/api/v1/delete', 'compactor'),
    ...[
      tenant('/loki/api/v1/rules', 'ruler'),
      tenant('/api/prom/rules', 'ruler'),
      tenant('/prometheus/api/v1/rules', 'ruler'),
      tenant('/prometheus/api/v1/alerts', 'ruler'),
    ].map((route) => ifDeployed(route)),
    // Served by the query-frontend, which queues it for the queriers, which ask the pattern ingesters (Loki's
    // modules.go): without pattern ingesters the querier would answer 404 itself, the gateway answers it here.
    ifDeployed(tenant('= /loki/api/v1/patterns', 'queryFrontend'), 'patternIngester'),
    tenant('/loki/api/', 'queryFrontend'),
    tenant('/api/prom/', 'queryFrontend'),
    admin('= /ring', 'distributor'),
    admin('= /distributor/ring', 'distributor'),
    admin('= /memberlist', 'distributor'),
    admin('= /config', 'distributor'),
    admin('= /services', 'distributor'),
    admin('= /compactor/ring', 'compactor'),
    admin('= /indexgateway/ring', 'indexGateway'),
    ...[admin('= /ruler/ring', 'ruler'), admin('= /pattern/ring', 'patternIngester')].filter((route) =>
      isDeployed(stack, route.component),
    ),
  ];
}

/** The components the gateway sends requests to. */
export function gatewayUpstreams(stack: LokiStack): ComponentName[] {
  return [
    ...new Set(
      gatewayRoutes(stack)
        .filter((route) => !route.absent)
        .map((route) => route.component),
    ),
  ];
}

/** Where nginx listens, asks DNS and finds its files: the pod's defaults, or a test's. */
export interface NginxSite {
  port: number;
  /** The DNS server nginx asks for upstream addresses, `host[:port]`. */
  resolver: string;
  secretsDir: string;
  /** Writable directory for the pid file and temporary files. */
  tmpDir: string;
}

/** In the pod: the cluster DNS service (kind, k3d, GKE, EKS and AKS all name it so), the mounted Secret, /tmp. */
export function podSite(stack: LokiStack): NginxSite {
  return {
    port: GATEWAY_PORT.port,
    resolver: `kube-dns.kube-system.svc.${stack.spec.clusterDomain}`,
    secretsDir: GATEWAY_PATHS.secretsDir,
    tmpDir: '/tmp',
  };
}

export function nginxConfig(stack: LokiStack, site: NginxSite = podSite(stack)): string {
  const routes = gatewayRoutes(stack);
  const upstreams = gatewayUpstreams(stack);
  const queryTimeoutSeconds = Math.ceil(parseDurationMs(stack.spec.limits.queryTimeout) / 1000) + 30;
  const headers = (route: GatewayRoute) => [
    // Loki never sees the password.
    'proxy_set_header Authorization "";',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    // Multi-tenant: the authenticated tenant, never what the client sent.
    ...(stack.spec.auth.enabled
      ? [
          route.access === 'tenant'
            ? 'proxy_set_header X-Scope-OrgID $remote_user;'
            : 'proxy_set_header X-Scope-OrgID "";',
        ]
      : []),
    ...(route.websocket
      ? ['proxy_http_version 1.1;', 'proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection "upgrade";']
      : []),
  ];
  const location = (route: GatewayRoute) =>
    route.absent
      ? [`location ${route.location} {`, ...indent(['return 404;']), '}']
      : [
          `location ${route.location} {`,
          ...indent([
            ...(route.access === 'admin' ? [`auth_basic_user_file ${site.secretsDir}/${HTPASSWD_KEYS.admin};`] : []),
            ...headers(route),
            ...(route.websocket
              ? ['proxy_read_timeout 1h;', 'proxy_send_timeout 1h;']
              : route.component === 'queryFrontend'
                ? [`proxy_read_timeout ${queryTimeoutSeconds}s;`]
                : []),
            `proxy_pass $${variableOf(route.component)};`,
          ]),
          '}',
        ];
  const lines = [
    `# nginx gateway of Loki stack ${stack.metadata.namespace}/${stack.metadata.name}, rendered by loki-microservices.`,
    'worker_processes 1;',
    `pid ${site.tmpDir}/nginx.pid;`,
    // nginx's own name for its standard error, which works whatever kind of file it is.
    'error_log stderr warn;',
    'events {',
    ...indent(['worker_connections 4096;']),
    '}',
    'http {',
    ...indent([
      // The root filesystem is read-only: temporary files go to the /tmp volume.
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `${kind}_temp_path ${site.tmpDir}/${kind}_temp;`,
      ),
      'default_type application/octet-stream;',
      `log_format main '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent $request_time "$http_user_agent"';`,
      'access_log /dev/stdout main;',
      'server_tokens off;',
      'sendfile on;',
      'tcp_nopush on;',
      // Loki's distributor takes pushes up to 100 MiB.
      'client_max_body_size 100m;',
      'proxy_buffering off;',
      `resolver ${site.resolver} valid=10s;`,
      'resolver_timeout 5s;',
      'server {',
      ...indent([
        `listen ${site.port};`,
        'auth_basic "Loki";',
        `auth_basic_user_file ${site.secretsDir}/${HTPASSWD_KEYS.tenants};`,
        ...upstreams.map(
          (component) =>
            `set $${variableOf(component)} http://${serviceHost(stack, objectName(stack, component))}:${PORTS.http.port};`,
        ),
        '# Probes: the gateway itself is up.',
        'location = / {',
        ...indent(['auth_basic off;', 'default_type text/plain;', "return 200 'OK';"]),
        '}',
        ...routes.flatMap(location),
        'location / {',
        ...indent(['return 404;']),
        '}',
      ]),
      '}',
    ]),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

const variableOf = (component: ComponentName) => component.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

function indent(lines: string[]): string[] {
  return lines.map((line) => `    ${line}`);
}
