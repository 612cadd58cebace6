import type { Entity } from '@backstage/catalog-model';
import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { parseStackAnnotation, STACK_ANNOTATION } from 'loki-microservices/types';
import { lokiStackApiRef } from './api/LokiStackApi.js';
import { LokiStackClient } from './api/LokiStackClient.js';

export const lokiStackPlugin = createPlugin({
  id: 'loki-stack',
  apis: [
    createApiFactory({
      api: lokiStackApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new LokiStackClient({ discoveryApi, fetchApi }),
    }),
  ],
});

/** The status card for `EntityPage`. */
export const EntityLokiStackCard = lokiStackPlugin.provide(
  createComponentExtension({
    name: 'EntityLokiStackCard',
    component: { lazy: () => import('./components/LokiStackCard/index.js').then((m) => m.LokiStackCard) },
  }),
);

/** For `EntitySwitch`: whether the entity names a Loki stack (a well-formed `loki-microservices/stack` annotation). */
export function isLokiStackAvailable(entity: Entity): boolean {
  return parseStackAnnotation(entity.metadata.annotations?.[STACK_ANNOTATION]) !== undefined;
}
