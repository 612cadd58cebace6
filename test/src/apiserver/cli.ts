// `npm run test-apiserver -- --port N --kubeconfig FILE [--latency-ms 25] [--fault-rate 0.2] [--seed 1]
// [--ready-after-ms 500]`: run the test double standalone (to try the CLI or kubectl against it) until killed.
import { parseArgs } from 'node:util';
import { startTestApiServer } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    kubeconfig: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    'fault-rate': { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    'ready-after-ms': { type: 'string', default: '500' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log('Usage: npm run test-apiserver -- [--port N] [--kubeconfig FILE] [--latency-ms MS] [--fault-rate 0..1] [--seed N] [--ready-after-ms MS]');
  process.exit(0);
}

const running = await startTestApiServer({
  port: Number(values.port),
  ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
  latencyMs: Number(values['latency-ms']),
  faultRate: Number(values['fault-rate']),
  seed: Number(values.seed),
  readyAfterMs: Number(values['ready-after-ms']),
});
console.log(`test API server (a Kubernetes test double) listening on ${running.url}`);
console.log(`kubeconfig: ${running.kubeconfigPath}   e.g. KUBECONFIG=${running.kubeconfigPath} kubectl get namespaces`);
const stop = () => void running.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
