import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { Clusters } from './actions/clusters.js';
import { createDeployAction } from './actions/deploy.js';
import { createDestroyAction } from './actions/destroy.js';
import { createRenderAction } from './actions/render.js';

/** The loki:stack:* scaffolder actions. `backend.add(import('@loki-microservices/plugin-scaffolder-backend-module-loki-stack'))` */
export const lokiStackScaffolderModule = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'loki-stack',
  register(reg) {
    reg.registerInit({
      deps: { scaffolder: scaffolderActionsExtensionPoint, config: coreServices.rootConfig },
      async init({ scaffolder, config }) {
        const clusters = new Clusters(config);
        scaffolder.addActions(createRenderAction(), createDeployAction({ clusters }), createDestroyAction({ clusters }));
      },
    });
  },
});
