// The catalog entities of the status tests: one per stack location, named after it, in the namespace
// `observability` (not `default`, so that a client that drops the namespace finds nothing). Used by the test
// backend's catalog and by the browser page, which shows the same entity the backend reads.
import type { Entity } from '@backstage/catalog-model';
import { STACK_ANNOTATION } from 'loki-microservices/types';

export const ENTITY_NAMESPACE = 'observability';

/** The entity whose annotation is `location` (`<cluster>/<namespace>/<name>`; null: no annotation), named after it. */
export function stackEntity(location: string | null, name = location?.replaceAll('/', '.') ?? 'no-stack'): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name,
      namespace: ENTITY_NAMESPACE,
      annotations: location === null ? {} : { [STACK_ANNOTATION]: location },
    },
    spec: { type: 'loki-stack', owner: 'group:default/platform' },
  };
}

/** GET path of the status of the stack `entity` names. */
export function byEntity(entity: Entity): string {
  return `/stacks/by-entity/${entity.kind.toLowerCase()}/${entity.metadata.namespace}/${encodeURIComponent(entity.metadata.name)}`;
}
