import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { Clusters } from './actions/clusters.js';
import { createDeployAction } from './actions/deploy.js';
import { createDestroyAction } from './actions/destroy.js';
import { createPlanAction } from './actions/plan.js';
import { createRenderAction } from './actions/render.js';
import { LOKI_STACK_SCAFFOLDER_PERMISSIONS } from './actions/permissions.js';

/** The loki:stack:* scaffolder actions. `backend.add(import('@loki-microservices/plugin-scaffolder-backend-module-loki-stack'))` */
export const lokiStackScaffolderModule = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'loki-stack',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
      },
      async init({ scaffolder, config, permissions, permissionsRegistry }) {
        permissionsRegistry.addPermissions(LOKI_STACK_SCAFFOLDER_PERMISSIONS);
        const clusters = new Clusters(config);
        scaffolder.addActions(
          createRenderAction(),
          createDeployAction({ clusters, permissions }),
          createPlanAction({ clusters, permissions }),
          createDestroyAction({ clusters, permissions }),
        );
      },
    });
  },
});
