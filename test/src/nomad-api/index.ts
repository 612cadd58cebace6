// A Nomad HTTP API test double: a real HTTP server that answers the endpoints a deployment tool uses to
// register a job, follow its deployment and remove it, with a simulated scheduler and client nodes
// behind them. It is not Nomad: README.md in this folder says what it imitates and where it differs.
import { NomadApiServer, type NomadApiServerOptions } from './server.js';

export { NomadApiServer, type NomadApiServerOptions, type RequestRecord } from './server.js';
export { GROUP_BEHAVIOURS, type GroupBehaviour } from './model.js';
export { parseGoDuration, formatGoDuration } from './duration.js';

/** Start a server on `options.port` (a free one by default) at http://127.0.0.1:<port>. */
export async function startNomadApiServer(options: NomadApiServerOptions = {}): Promise<NomadApiServer> {
  const server = new NomadApiServer(options);
  await server.listen(options.port ?? 0);
  return server;
}
