import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Read the status of the Loki stack a catalog entity names (GET /stacks/by-entity/...). A resource permission on
 * the entity: a policy can answer with the catalog's conditions (`catalogConditions.isEntityOwner` and the like),
 * which the catalog evaluates. Only asked after the caller could read the entity through the catalog.
 */
export const lokiStackReadPermission = createPermission({
  name: 'loki.stack.read',
  attributes: { action: 'read' },
  resourceType: 'catalog-entity',
});

/**
 * Read a stack's status by its location (GET /stacks/:cluster/:namespace/:name), without a catalog entity: for
 * other backends only. A service's access restrictions (`backend.auth.externalAccess[].accessRestrictions`) can
 * name it.
 */
export const lokiStackLocationReadPermission = createPermission({
  name: 'loki.stack.location.read',
  attributes: { action: 'read' },
});

export const lokiStackPermissions = [lokiStackReadPermission, lokiStackLocationReadPermission];
