import { cleanup } from './cleanup.js';
import { reportCrashes } from './crash.js';
import { quietKnownDeprecations } from './warnings.js';

quietKnownDeprecations();
reportCrashes();
await cleanup();
