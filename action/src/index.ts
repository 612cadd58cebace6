import { quietKnownDeprecations } from 'loki-microservices';
import { reportCrashes } from './crash.js';
import { run } from './main.js';

quietKnownDeprecations();
reportCrashes();
await run();
