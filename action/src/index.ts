import { reportCrashes } from './crash.js';
import { run } from './main.js';
import { quietKnownDeprecations } from './warnings.js';

quietKnownDeprecations();
reportCrashes();
await run();
