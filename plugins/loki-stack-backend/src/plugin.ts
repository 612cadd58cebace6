import { coreServices, createBackendPlugin } from '@backstage/backend-plugin-api';
import { createRouter } from './router.js';
import { StackStatusService } from './StackStatusService.js';

/** The loki-stack backend plugin: `backend.add(import('@loki-microservices/plugin-loki-stack-backend'))`. */
export const lokiStackPlugin = createBackendPlugin({
  pluginId: 'loki-stack',
  register(env) {
    env.registerInit({
      deps: { httpRouter: coreServices.httpRouter, httpAuth: coreServices.httpAuth, config: coreServices.rootConfig, logger: coreServices.logger },
      async init({ httpRouter, httpAuth, config, logger }) {
        const cacheSeconds = config.getOptionalNumber('lokiStack.statusCacheSeconds');
        const timeoutSeconds = config.getOptionalNumber('lokiStack.statusTimeoutSeconds');
        const statuses = new StackStatusService({
          config,
          logger,
          ...(cacheSeconds !== undefined ? { cacheTtlMs: cacheSeconds * 1000 } : {}),
          ...(timeoutSeconds !== undefined ? { deadlineMs: timeoutSeconds * 1000 } : {}),
        });
        httpRouter.use(await createRouter({ statuses, httpAuth }));
      },
    });
  },
});
