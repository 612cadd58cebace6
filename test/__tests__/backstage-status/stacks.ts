// The loki-stack backend plugin in a test backend (Backstage's default auth), reading the test API server as
// the Kubernetes-plugin clusters "dev" and "prod-eu" (and "gone", whose API server is not there), with four
// stacks: b-ready; b-failed, whose ingester crash-loops; b-degraded, whose distributor rolls out to pods that
// cannot pull their image while the old pod serves; b-rules, with a ruler and rule groups (RULES_SPEC), one of
// them failing. The catalog holds an entity per stack location the tests ask
// about; a test permission policy refuses chosen principals chosen permissions, and the catalog applies
// catalog.entity.read through it as the real catalog does.
import {
  createServiceFactory,
  coreServices,
  type BackstageCredentials,
  type PermissionsService,
  type ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult, type Permission } from '@backstage/plugin-permission-common';
import { applyStack, parseSpec } from 'loki-microservices';
import type { Server } from 'node:http';
import request from 'supertest';
import { FAST_RETRY, startFixture, type Fixture } from '../cluster/fixture.js';
import { appConfig } from '../scaffolder/fixture.js';
import { SHOP_RULES } from '../../src/specs.js';
import { byEntity, stackEntity } from './entities.js';

type Json = Record<string, any>;

/** Who is refused what; everything else is allowed, as with permissions disabled. Users by entity ref, services by subject. */
export const REFUSED: Record<string, string[]> = {
  'user:default/outsider': [catalogEntityReadPermission.name],
  'user:default/no-status': ['loki.stack.read'],
  'external:no-location': ['loki.stack.location.read'],
};

/** Authorization headers of the principals the policy knows. */
export const AS = {
  user: mockCredentials.user.header(),
  outsider: mockCredentials.user.header('user:default/outsider'),
  noStatus: mockCredentials.user.header('user:default/no-status'),
  service: mockCredentials.service.header(),
  noLocation: mockCredentials.service.header({
    onBehalfOf: mockCredentials.service('external:no-location'),
    targetPluginId: 'loki-stack',
  }),
  nobody: mockCredentials.none.header(),
};

export interface AskedPermission {
  principal: string;
  permission: string;
  resourceRef?: string;
}

export function principalOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
  return principal.userEntityRef ?? principal.subject ?? principal.type;
}

/** The permissions service of a backend whose policy is REFUSED; `asked` records every question. */
export function testPermissions(asked: AskedPermission[] = []): PermissionsService {
  const decide = (requests: { permission: Permission; resourceRef?: string }[], credentials: BackstageCredentials) =>
    requests.map(({ permission, resourceRef }) => {
      const principal = principalOf(credentials);
      asked.push({ principal, permission: permission.name, ...(resourceRef ? { resourceRef } : {}) });
      return {
        result: REFUSED[principal]?.includes(permission.name) ? AuthorizeResult.DENY : AuthorizeResult.ALLOW,
      } as const;
    });
  return {
    authorize: async (requests, { credentials }) => decide(requests, credentials),
    authorizeConditional: async (requests, { credentials }) => decide(requests, credentials),
  };
}

/** The catalog: `entities` in memory, each hidden from whoever the permissions service refuses catalog.entity.read. */
function permissionedCatalog(entities: Entity[]): ServiceFactory {
  return createServiceFactory({
    service: catalogServiceRef,
    deps: { permissions: coreServices.permissions },
    factory: ({ permissions }) => {
      const catalog = catalogServiceMock({ entities });
      const read = catalog.getEntityByRef.bind(catalog);
      catalog.getEntityByRef = async (ref, options) => {
        if (!options || !('credentials' in options))
          throw new Error("the catalog was asked without the caller's credentials");
        const entity = await read(ref, options);
        if (!entity) return undefined;
        const [decision] = await permissions.authorize(
          [{ permission: catalogEntityReadPermission, resourceRef: stringifyEntityRef(entity) }],
          { credentials: options.credentials },
        );
        return decision?.result === AuthorizeResult.ALLOW ? entity : undefined;
      };
      return catalog;
    },
  });
}

/** The services the status plugin needs besides config: the catalog holding `entities`, and the test policy. */
export function statusServices(entities: Entity[], asked: AskedPermission[] = []): ServiceFactory[] {
  return [
    createServiceFactory({ service: coreServices.permissions, deps: {}, factory: () => testPermissions(asked) }),
    permissionedCatalog(entities),
  ];
}

/** The stack locations the status tests ask about, each named by an entity of the catalog. */
export const LOCATIONS = [
  'dev/b-ready/loki',
  'dev/b-rules/loki',
  'dev/b-failed/loki',
  'dev/b-failed/loki-x',
  'dev/b-degraded/loki',
  'prod-eu/b-degraded/loki',
  'dev/b-ready/nothing',
  'staging/b-ready/loki',
  'gone/b-ready/loki',
];
export const ENTITIES = [
  ...LOCATIONS.map((location) => stackEntity(location)),
  stackEntity(null),
  stackEntity('dev/B_Ready/loki', 'bad'),
];

/** The rules of b-rules: a file whose second group does not parse, and an inline group that loads. */
export const RULES_SPEC = {
  components: { ruler: { enabled: true } },
  rules: {
    files: ['rules/shop.yaml'],
    loadedFiles: [
      {
        file: 'rules/shop.yaml',
        groups: [
          SHOP_RULES,
          { name: 'typo', rules: [{ alert: 'Typo', expr: 'count_over_time({app="shop"[5m]) > 0' }] },
        ],
      },
    ],
    inline: { fake: [{ name: 'smoke', rules: [{ alert: 'Smoke', expr: 'count_over_time({job="smoke"}[5m]) > 0' }] }] },
  },
};

export interface StatusBackend {
  fixture: Fixture;
  server: Server;
  /** Every permission the backend asked about. */
  asked: AskedPermission[];
  /** GET /api/loki-stack<path>, as the mock user unless `as` is another Authorization header. */
  get(path: string, as?: string): request.Test;
  /** GET the status of the stack at `location` through its entity, as the mock user. */
  status(location: string): request.Test;
  /** Poll a stack's status (by its entity) until its condition is `type`. */
  untilCondition(location: string, type: string): Promise<Json>;
  /** Poll a stack's status (by its entity) until its ruler reports `loaded` declared groups loaded. */
  untilRulesLoaded(location: string, loaded: number): Promise<Json>;
  close(): Promise<void>;
}

export async function startStatusBackend(ttlSeconds: number): Promise<StatusBackend> {
  const fixture = await startFixture();
  const config = (await appConfig(fixture.running)).get() as Json;
  config.kubernetes.clusterLocatorMethods[0].clusters.push({
    name: 'gone',
    url: 'https://127.0.0.1:1',
    authProvider: 'serviceAccount',
    serviceAccountToken: 'x',
    skipTLSVerify: true,
  });
  const asked: AskedPermission[] = [];
  const { server } = await startTestBackend({
    features: [
      import('@loki-microservices/plugin-loki-stack-backend'),
      mockServices.rootConfig.factory({
        data: {
          ...config,
          lokiStack: { statusCacheSeconds: ttlSeconds, rulesCacheSeconds: ttlSeconds, rulesTimeoutSeconds: 2 },
        },
      }),
      ...statusServices(ENTITIES, asked),
    ],
  });
  const get = (path: string, as = AS.user) => request(server).get(`/api/loki-stack${path}`).set('Authorization', as);
  const status = (location: string) => get(byEntity(stackEntity(location)));
  /** Poll until `done` holds for the status (its part `shown` goes into the error when the deadline comes). */
  const untilStatus = async (
    location: string,
    done: (body: Json) => boolean,
    expected: string,
    shown: (body: Json) => unknown,
    timeoutMs: number,
  ): Promise<Json> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await status(location);
      if (response.status === 200 && done(response.body as Json)) return response.body as Json;
      if (Date.now() > deadline)
        throw new Error(`${location}: ${expected}: ${JSON.stringify(shown(response.body as Json) ?? response.body)}`);
      await new Promise((resolve) => setTimeout(resolve, ttlSeconds * 1000));
    }
  };
  const untilCondition = (location: string, type: string) =>
    untilStatus(
      location,
      (body) => body.condition?.type === type,
      `did not become ${type}`,
      (body) => body.condition,
      20_000,
    );
  // The kubelet and the ruler's poll take their time to load the rules.
  const untilRulesLoaded = (location: string, loaded: number) =>
    untilStatus(
      location,
      (body) => body.rules?.loaded === loaded,
      `the ruler did not report ${loaded} groups loaded`,
      (body) => body.rules,
      60_000,
    );

  const { cluster } = fixture.running.server;
  const apply = (namespace: string, spec: Json = {}) =>
    applyStack(
      fixture.connection,
      parseSpec({ metadata: { namespace }, spec: { components: { querier: { replicas: 2 } }, ...spec } }),
      { retry: FAST_RETRY },
    );
  cluster.fail({ namespace: 'b-failed', workload: 'loki-ingester', image: 'grafana/loki' }, 'crashLoop');
  for (const namespace of ['b-ready', 'b-failed', 'b-degraded']) await apply(namespace);
  await apply('b-rules', RULES_SPEC);
  await untilCondition('dev/b-degraded/loki', 'Ready');
  cluster.fail({ namespace: 'b-degraded', workload: 'loki-distributor' }, 'imagePull');
  await apply('b-degraded', { limits: { maxQuerySeries: 1000 } });
  return { fixture, server, asked, get, status, untilCondition, untilRulesLoaded, close: () => fixture.close() };
}
