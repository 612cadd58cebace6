// The new frontend system: the API and the entity card as extensions.
import { ApiBlueprint, createFrontendPlugin, discoveryApiRef, fetchApiRef } from '@backstage/frontend-plugin-api';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { lokiStackApiRef } from './api/LokiStackApi.js';
import { LokiStackClient } from './api/LokiStackClient.js';
import { isLokiStackAvailable } from './plugin.js';

const lokiStackApi = ApiBlueprint.make({
  params: (defineParams) =>
    defineParams({
      api: lokiStackApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new LokiStackClient({ discoveryApi, fetchApi }),
    }),
});

const lokiStackCard = EntityCardBlueprint.make({
  name: 'loki-stack',
  params: {
    filter: isLokiStackAvailable,
    loader: () => import('./components/LokiStackCard/index.js').then((m) => <m.LokiStackCard />),
  },
});

export default createFrontendPlugin({
  pluginId: 'loki-stack',
  extensions: [lokiStackApi, lokiStackCard],
});
