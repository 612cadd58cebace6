import { coreServices, createBackendPlugin } from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { lokiStackPermissions } from './permissions.js';
import { createRouter } from './router.js';
import { StackStatusService } from './StackStatusService.js';

/** The loki-stack backend plugin: `backend.add(import('@loki-microservices/plugin-loki-stack-backend'))`. */
export const lokiStackPlugin = createBackendPlugin({
  pluginId: 'loki-stack',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        catalog: catalogServiceRef,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ httpRouter, httpAuth, permissions, permissionsRegistry, catalog, config, logger }) {
        const cacheSeconds = config.getOptionalNumber('lokiStack.statusCacheSeconds');
        const timeoutSeconds = config.getOptionalNumber('lokiStack.statusTimeoutSeconds');
        const rulesCacheSeconds = config.getOptionalNumber('lokiStack.rulesCacheSeconds');
        const rulesTimeoutSeconds = config.getOptionalNumber('lokiStack.rulesTimeoutSeconds');
        const statuses = new StackStatusService({
          config,
          logger,
          ...(cacheSeconds !== undefined ? { cacheTtlMs: cacheSeconds * 1000 } : {}),
          ...(timeoutSeconds !== undefined ? { deadlineMs: timeoutSeconds * 1000 } : {}),
          ...(rulesCacheSeconds !== undefined ? { rulesCacheTtlMs: rulesCacheSeconds * 1000 } : {}),
          ...(rulesTimeoutSeconds !== undefined ? { rulesDeadlineMs: rulesTimeoutSeconds * 1000 } : {}),
        });
        permissionsRegistry.addPermissions(lokiStackPermissions);
        httpRouter.use(await createRouter({ statuses, httpAuth, permissions, catalog }));
      },
    });
  },
});
