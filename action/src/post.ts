import { cleanup } from './cleanup.js';
import { stopForwarder } from './forward.js';
import { reportCrashes } from './crash.js';
import { quietKnownDeprecations } from './warnings.js';

quietKnownDeprecations();
reportCrashes();
await stopForwarder();
await cleanup();
