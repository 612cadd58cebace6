// Two ways to ask for a stack's status, both answering its StackStatus (the versioned shape the CLI prints) and
// checkedAt:
//  - GET /stacks/by-entity/:kind/:namespace/:name, for the card: the entity is read through the catalog with the
//    caller's credentials, so whoever may not read the entity gets the 404 of an entity that does not exist; then
//    loki.stack.read on the entity (403 when denied); then the stack its annotation names (404 without one).
//  - GET /stacks/:cluster/:namespace/:name, for other backends only (user tokens: 403), behind
//    loki.stack.location.read: it names a stack without an entity, so no catalog permission could apply.
import type { BackstageCredentials, HttpAuthService, PermissionsService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef, type CompoundEntityRef, type Entity } from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult, type AuthorizePermissionRequest } from '@backstage/plugin-permission-common';
import express from 'express';
import Router from 'express-promise-router';
import { isClusterName, isNamespaceName, isStackName } from 'loki-microservices';
import { parseStackAnnotation, STACK_ANNOTATION, type StackLocation } from 'loki-microservices/types';
import { lokiStackLocationReadPermission, lokiStackReadPermission } from './permissions.js';
import type { StackStatusService } from './StackStatusService.js';

export interface RouterOptions {
  statuses: StackStatusService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
}

export async function createRouter(options: RouterOptions): Promise<express.Router> {
  const { statuses, httpAuth, permissions, catalog } = options;
  const allowed = async (request: AuthorizePermissionRequest, credentials: BackstageCredentials) =>
    (await permissions.authorize([request], { credentials }))[0]?.result === AuthorizeResult.ALLOW;

  const router = Router();
  router.get('/stacks/by-entity/:kind/:namespace/:name', async (request, response) => {
    const credentials = await httpAuth.credentials(request, { allow: ['user', 'service'] });
    const { kind, namespace, name } = request.params;
    const entity = await readableEntity(catalog, { kind, namespace, name }, credentials);
    const entityRef = stringifyEntityRef(entity);
    if (!(await allowed({ permission: lokiStackReadPermission, resourceRef: entityRef }, credentials))) {
      throw new NotAllowedError(
        `you may not read the Loki stack status of ${entityRef} (permission ${lokiStackReadPermission.name})`,
      );
    }
    response.json(await statuses.get(stackOf(entity, entityRef)));
  });

  router.get('/stacks/:cluster/:namespace/:name', async (request, response) => {
    const credentials = await httpAuth.credentials(request, { allow: ['service'] });
    if (!(await allowed({ permission: lokiStackLocationReadPermission }, credentials))) {
      throw new NotAllowedError(
        `this service may not read stacks by location (permission ${lokiStackLocationReadPermission.name})`,
      );
    }
    response.json(await statuses.get(locationOf(request.params)));
  });
  return router;
}

/** The entity as the caller may see it. Missing and unreadable answer alike, so a 404 does not tell which. */
async function readableEntity(
  catalog: CatalogService,
  ref: CompoundEntityRef,
  credentials: BackstageCredentials,
): Promise<Entity> {
  const entity = await catalog.getEntityByRef(ref, { credentials });
  if (!entity)
    throw new NotFoundError(`no entity ${stringifyEntityRef(ref).slice(0, 300)} that you may read in the catalog`);
  return entity;
}

/** The stack the entity names; an entity without a (valid) annotation names none: 404. */
function stackOf(entity: Entity, entityRef: string): StackLocation {
  const annotation = entity.metadata.annotations?.[STACK_ANNOTATION];
  if (annotation === undefined)
    throw new NotFoundError(`${entityRef} names no Loki stack: it has no ${STACK_ANNOTATION} annotation`);
  const location = parseStackAnnotation(annotation);
  if (!location) {
    throw new NotFoundError(
      `${entityRef} names no Loki stack: its ${STACK_ANNOTATION} annotation "${annotation.slice(0, 120)}" is not <cluster>/<namespace>/<name>`,
    );
  }
  return location;
}

function locationOf({ cluster, namespace, name }: Record<keyof StackLocation, string>): StackLocation {
  const problems = [
    isClusterName(cluster) ? '' : `cluster "${cluster.slice(0, 80)}" is not a cluster name`,
    isNamespaceName(namespace) ? '' : `namespace "${namespace.slice(0, 80)}" is not a namespace name (DNS-1123 label)`,
    isStackName(name) ? '' : `name "${name.slice(0, 80)}" is not a stack name (a DNS-1123 label the spec allows)`,
  ].filter(Boolean);
  if (problems.length > 0) throw new InputError(problems.join('; '));
  return { cluster, namespace, name };
}
