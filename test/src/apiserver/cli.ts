// `npm run test-apiserver -- --port N --kubeconfig FILE [--latency-ms 25] [--fault-rate 0.2] [--seed 1]
// [--ready-after-ms 500] [--namespace-deletion-delay-ms 1000] [--fail loki-ingester=crashLoop]
// [--crds monitoring.coreos.com,cert-manager.io]`: run
// the test double standalone (to try the CLI or kubectl against it) until killed.
import { parseArgs } from 'node:util';
import { startTestApiServer, type FailureMode } from './index.js';
import { CUSTOM_RESOURCE_GROUPS, type CustomResourceGroup } from './resources.js';

const USAGE =
  'Usage: npm run test-apiserver -- [--port N] [--kubeconfig FILE] [--latency-ms MS] [--fault-rate 0..1] [--seed N] [--ready-after-ms MS]\n' +
  '         [--namespace-deletion-delay-ms MS]   how long after its DELETE a namespace starts being emptied (default 1000)\n' +
  '         [--fail WORKLOAD=MODE]...   MODE: imagePull | crashLoop | unschedulable | oomKilled (pods of that Deployment or StatefulSet fail so)\n' +
  `         [--crds GROUP[,GROUP]]...   custom resources the cluster has: ${CUSTOM_RESOURCE_GROUPS.join(', ')} (cert-manager.io also runs a simulated cert-manager)`;
const FAILURE_MODES: readonly FailureMode[] = ['imagePull', 'crashLoop', 'unschedulable', 'oomKilled'];

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    kubeconfig: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    'fault-rate': { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    'ready-after-ms': { type: 'string', default: '500' },
    'namespace-deletion-delay-ms': { type: 'string', default: '1000' },
    fail: { type: 'string', multiple: true, default: [] },
    crds: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const failures = values.fail.map((entry) => {
  const [workload, mode] = entry.split('=');
  if (!workload || !FAILURE_MODES.includes(mode as FailureMode)) {
    console.error(`--fail ${entry}: expected WORKLOAD=MODE with MODE one of ${FAILURE_MODES.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  return { workload, mode: mode as FailureMode };
});

const crds = values.crds.flatMap((entry) => entry.split(',')).filter(Boolean);
const unknown = crds.filter((group) => !CUSTOM_RESOURCE_GROUPS.includes(group as CustomResourceGroup));
if (unknown.length > 0) {
  console.error(`--crds ${unknown.join(',')}: expected one of ${CUSTOM_RESOURCE_GROUPS.join(', ')}\n${USAGE}`);
  process.exit(2);
}

const running = await startTestApiServer({
  port: Number(values.port),
  ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
  latencyMs: Number(values['latency-ms']),
  faultRate: Number(values['fault-rate']),
  seed: Number(values.seed),
  readyAfterMs: Number(values['ready-after-ms']),
  namespaceDeletionDelayMs: Number(values['namespace-deletion-delay-ms']),
  crds: crds as CustomResourceGroup[],
});
for (const { workload, mode } of failures) running.server.cluster.fail({ workload }, mode);
console.log(`test API server (a Kubernetes test double) listening on ${running.url}`);
console.log(`kubeconfig: ${running.kubeconfigPath}   e.g. KUBECONFIG=${running.kubeconfigPath} kubectl get namespaces`);
const stop = () => void running.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
