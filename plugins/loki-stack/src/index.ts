/**
 * Backstage frontend plugin: the Loki stack status card. Legacy frontend system; `./alpha` for the new one.
 * @packageDocumentation
 */
export { EntityLokiStackCard, isLokiStackAvailable, lokiStackPlugin } from './plugin.js';
export {
  LokiStackError,
  lokiStackApiRef,
  type CheckedStackStatus,
  type LokiStackApi,
  type LokiStackErrorKind,
} from './api/LokiStackApi.js';
export { LokiStackClient } from './api/LokiStackClient.js';
export { LokiStackCard } from './components/LokiStackCard/index.js';
export { STACK_ANNOTATION } from 'loki-microservices/types';
