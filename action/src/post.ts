import { cleanup } from './cleanup.js';
import { quietKnownDeprecations } from './warnings.js';

quietKnownDeprecations();
await cleanup();
