export { NomadApiError, NomadClient, type NomadConnectionOptions } from './client.js';
export { applyNomadJob, type NomadApplyResult } from './apply.js';
export { destroyNomadJob, type NomadDestroyResult } from './destroy.js';
export { getNomadStatus, NomadJobNotFoundError, nomadStatusOf, type NomadStackRef } from './status.js';
export { NomadNotReadyError, waitForNomadJob, type NomadWaitOptions } from './wait.js';
