import { quietKnownDeprecations } from 'loki-microservices';
import { cleanup } from './cleanup.js';
import { stopForwarder } from './forward.js';
import { reportCrashes } from './crash.js';

quietKnownDeprecations();
reportCrashes();
await stopForwarder();
await cleanup();
