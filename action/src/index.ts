import { run } from './main.js';
import { quietKnownDeprecations } from './warnings.js';

quietKnownDeprecations();
await run();
