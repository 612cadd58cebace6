import { coreServices, createBackendPlugin } from '@backstage/backend-plugin-api';
import { createRouter } from './router.js';
import { StackStatusService } from './StackStatusService.js';

/** The loki-stack backend plugin: `backend.add(import('@loki-microservices/plugin-loki-stack-backend'))`. */
export const lokiStackPlugin = createBackendPlugin({
  pluginId: 'loki-stack',
  register(env) {
    env.registerInit({
      deps: { httpRouter: coreServices.httpRouter, httpAuth: coreServices.httpAuth, config: coreServices.rootConfig },
      async init({ httpRouter, httpAuth, config }) {
        const seconds = config.getOptionalNumber('lokiStack.statusCacheSeconds');
        const statuses = new StackStatusService({ config, ...(seconds !== undefined ? { cacheTtlMs: seconds * 1000 } : {}) });
        httpRouter.use(await createRouter({ statuses, httpAuth }));
      },
    });
  },
});
