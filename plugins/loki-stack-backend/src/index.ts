/**
 * Backstage backend plugin `loki-stack`: GET /api/loki-stack/stacks/:cluster/:namespace/:name answers the
 * stack's status (the loki-microservices StackStatus) with checkedAt.
 * @packageDocumentation
 */
export { lokiStackPlugin as default } from './plugin.js';
export { StackStatusService, type CheckedStatus, type StackKey, type StackStatusServiceOptions } from './StackStatusService.js';
