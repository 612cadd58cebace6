/**
 * Backstage scaffolder actions for Loki stacks in microservices mode: loki:stack:render, loki:stack:plan,
 * loki:stack:deploy and loki:stack:destroy, over the loki-microservices core. Templates: `templates/new-loki-stack`.
 * @packageDocumentation
 */
export { lokiStackScaffolderModule as default } from './module.js';
export { createDeployAction } from './actions/deploy.js';
export { createDestroyAction } from './actions/destroy.js';
export { createPlanAction } from './actions/plan.js';
export { createRenderAction } from './actions/render.js';
export { Clusters } from './actions/clusters.js';
export { lokiStackDeployPermission, lokiStackDestroyPermission } from './actions/permissions.js';
