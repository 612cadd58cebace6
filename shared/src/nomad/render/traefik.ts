// Traefik routers for a stack, as service tags read by Traefik's Consul catalog (or Nomad) provider: the
// push path on the distributor and the query API on the query-frontend, each with the basic-auth
// middleware attached by the router's own name (the recipe we replace attached it to a misspelled router
// and left the push path open). The middleware is defined on both services, identically, so that either
// router keeps working while the other service has no healthy instance.
import type { LokiStack } from '../../spec/schema.js';

/** Router name → path rule and the component serving it. */
export function traefikRouters(
  stack: LokiStack,
): { name: string; component: 'distributor' | 'queryFrontend'; pathPrefix: string }[] {
  const { name } = stack.metadata;
  return [
    { name: `${name}-push`, component: 'distributor', pathPrefix: '/loki/api/v1/push' },
    { name: `${name}-query`, component: 'queryFrontend', pathPrefix: '/loki/api/v1' },
  ];
}

export const basicAuthMiddleware = (stack: LokiStack) => `${stack.metadata.name}-basic-auth`;

/** Tags of a component's service; empty unless Traefik is on and the component is routed. */
export function traefikTags(stack: LokiStack, component: string): string[] {
  const { traefik } = stack.spec.nomad;
  const router = traefikRouters(stack).find((r) => r.component === component);
  if (!traefik.enabled || !router) return [];
  const middleware = basicAuthMiddleware(stack);
  const rule = [traefik.host ? `Host(\`${traefik.host}\`)` : undefined, `PathPrefix(\`${router.pathPrefix}\`)`]
    .filter(Boolean)
    .join(' && ');
  return [
    'traefik.enable=true',
    `traefik.http.routers.${router.name}.rule=${rule}`,
    `traefik.http.routers.${router.name}.entrypoints=${traefik.entrypoints.join(',')}`,
    `traefik.http.routers.${router.name}.middlewares=${middleware}`,
    `traefik.http.middlewares.${middleware}.basicauth.users=${traefik.basicAuthUsers.join(',')}`,
  ];
}
