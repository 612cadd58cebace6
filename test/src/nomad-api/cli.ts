// `node test/dist/nomad-api/cli.js [--port 4646] [--token T] [--namespace NS]... [--fail JOB/GROUP=MODE]...`:
// run the Nomad API test double standalone, to try a deployment tool against it by hand, until killed.
import { parseArgs } from 'node:util';
import { GROUP_BEHAVIOURS, startNomadApiServer, type GroupBehaviour } from './index.js';

const USAGE =
  'Usage: node test/dist/nomad-api/cli.js [--port 4646] [--token TOKEN] [--namespace NAME]... [--region NAME]\n' +
  `         [--fail JOB/GROUP=MODE]...   MODE: ${GROUP_BEHAVIOURS.join(' | ')}`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4646' },
    token: { type: 'string' },
    namespace: { type: 'string', multiple: true, default: [] },
    region: { type: 'string', default: 'global' },
    fail: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const behaviours: Record<string, GroupBehaviour> = {};
for (const entry of values.fail) {
  const [target, mode] = entry.split('=');
  if (!target || target.split('/').length !== 2 || !GROUP_BEHAVIOURS.includes(mode as GroupBehaviour)) {
    console.error(`--fail ${entry}: expected JOB/GROUP=MODE with MODE one of ${GROUP_BEHAVIOURS.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  behaviours[target] = mode as GroupBehaviour;
}

const server = await startNomadApiServer({
  port: Number(values.port),
  ...(values.token ? { aclToken: values.token } : {}),
  namespaces: ['default', ...values.namespace.filter((name) => name !== 'default')],
  region: values.region,
  behaviours,
});
console.log(`Nomad API test double (not Nomad) listening on ${server.url}`);
console.log(
  `  export NOMAD_ADDR=${server.url}${values.token ? '   # ACLs on: send the token you passed as X-Nomad-Token' : ''}`,
);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
