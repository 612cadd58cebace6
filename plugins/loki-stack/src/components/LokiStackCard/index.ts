export { LokiStackCard } from './LokiStackCard.js';
