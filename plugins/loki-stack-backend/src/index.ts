/**
 * Backstage backend plugin `loki-stack`: the status of the Loki stack a catalog entity names
 * (GET /api/loki-stack/stacks/by-entity/:kind/:namespace/:name, behind the catalog's read permission and
 * `loki.stack.read`), and by location for other backends (GET /api/loki-stack/stacks/:cluster/:namespace/:name,
 * `loki.stack.location.read`): the loki-microservices StackStatus with checkedAt.
 * @packageDocumentation
 */
export { lokiStackPlugin as default } from './plugin.js';
export { lokiStackLocationReadPermission, lokiStackPermissions, lokiStackReadPermission } from './permissions.js';
export {
  StackStatusService,
  type CheckedStatus,
  type StackKey,
  type StackStatusServiceOptions,
} from './StackStatusService.js';
