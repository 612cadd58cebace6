// `npm run bench` (second part): the cluster operations against the test API server, at injected latency
// 0 and 25 ms per request. Prints figures; asserts nothing. These figures measure our request pattern
// (count, phases, concurrency, watch), not Kubernetes: the double runs on its own thread, and its simulated
// cluster is paused while apply and status are timed, as controllers do not share a real API server's CPU.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import {
  applyStack,
  connect,
  getStackStatus,
  parseSpec,
  renderKubernetes,
  toYaml,
  waitForStack,
  type Connection,
  type LokiStack,
} from 'loki-microservices';
import { startServerThread, type ServerThread } from './server-thread.js';

const RUNS = 7;
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const stackIn = (namespace: string): LokiStack => parseSpec({ metadata: { namespace } });
const now = () => performance.timeOrigin + performance.now();
let namespaces = 0;

/** Deletes a namespace and waits until it is gone, so that the simulated cluster has no more to do than one stack. */
async function cleanUp(server: ServerThread, connection: Connection, namespace: string): Promise<void> {
  await server.controllers(true);
  await connection.core.deleteNamespace({ name: namespace });
  for (;;) {
    const gone = await connection.core.readNamespace({ name: namespace }).then(
      () => false,
      () => true,
    );
    if (gone) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Wall time and request count of `run` (after an untimed `prepare`): the median of RUNS runs, each in a new namespace. */
async function measure(
  server: ServerThread,
  connection: Connection,
  run: (namespace: string) => Promise<unknown>,
  prepare?: (namespace: string) => Promise<unknown>,
) {
  const times: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const namespace = `bench-${++namespaces}`;
    await prepare?.(namespace);
    await server.controllers(false);
    const before = await server.requests();
    const start = performance.now();
    await run(namespace);
    times.push(performance.now() - start);
    counts.push((await server.requests()) - before);
    await cleanUp(server, connection, namespace);
  }
  return { ms: median(times), requests: median(counts) };
}

async function kubectlApply(server: ServerThread, namespace: string, cacheDir: string): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-')), 'stack.yaml');
  writeFileSync(file, toYaml(renderKubernetes(stackIn(namespace)).objects));
  await promisify(execFile)(
    KUBECTL,
    ['apply', '--server-side', '--field-manager', 'bench', '--cache-dir', cacheDir, '-f', file],
    {
      env: { ...process.env, KUBECONFIG: server.kubeconfigPath },
    },
  );
}

/** From the last pod or workload change in the stack's namespace (the one that made it ready) to `waitForStack` returning. */
async function detectionDelay(server: ServerThread, connection: Connection): Promise<number> {
  const namespace = `bench-${++namespaces}`;
  await server.controllers(true);
  await applyStack(connection, stackIn(namespace));
  await waitForStack(connection, { name: 'loki', namespace });
  const seen = now();
  const delay = seen - (await server.lastChange(namespace));
  await cleanUp(server, connection, namespace);
  return delay;
}

interface Figure {
  ms: number;
  requests?: number;
}

/** Every figure at one latency, by row label. */
async function bench(latencyMs: number, kubectl: boolean): Promise<Map<string, Figure>> {
  const figures = new Map<string, Figure>();
  const server = await startServerThread({ latencyMs, readyAfterMs: 100 });
  const connection = connect({ kubeconfig: server.kubeconfigPath });
  try {
    const apply = (namespace: string) => applyStack(connection, stackIn(namespace));
    const ready = async (namespace: string) => {
      await apply(namespace);
      await waitForStack(connection, { name: 'loki', namespace });
    };
    figures.set(APPLY, await measure(server, connection, apply));
    figures.set('apply again (all unchanged)', await measure(server, connection, apply, apply));
    figures.set(
      'status',
      await measure(server, connection, (namespace) => getStackStatus(connection, { name: 'loki', namespace }), ready),
    );
    const delays: number[] = [];
    for (let i = 0; i < RUNS; i++) delays.push(await detectionDelay(server, connection));
    figures.set(DETECTION, { ms: median(delays) });
    if (kubectl) {
      const cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
      await server.controllers(false);
      await kubectlApply(server, 'bench-kubectl-warmup', cacheDir); // fills kubectl's discovery cache
      await cleanUp(server, connection, 'bench-kubectl-warmup');
      figures.set(
        KUBECTL_APPLY,
        await measure(server, connection, (namespace) => kubectlApply(server, namespace, cacheDir)),
      );
    }
  } finally {
    await server.close();
  }
  return figures;
}

const APPLY = 'apply (creates everything)';
const KUBECTL_APPLY = 'kubectl apply --server-side';
const DETECTION = 'readiness seen after last change';
const LATENCY = 25;

const kubectl = await promisify(execFile)(KUBECTL, ['version', '--client'])
  .then(({ stdout }) => (console.log(`kubectl: ${KUBECTL} (${stdout.trim().split('\n')[0]}), discovery cached`), true))
  .catch(() => (console.log(`kubectl (${KUBECTL}) not found: the comparison with it is skipped`), false));
console.log(
  `node ${process.version}; default stack, ${renderKubernetes(stackIn('x')).objects.length} objects; median of ${RUNS} runs\n`,
);
const [fast, slow] = [await bench(0, kubectl), await bench(LATENCY, kubectl)];
const cell = (figure: Figure) =>
  `${figure.ms.toFixed(1).padStart(7)} ms${figure.requests === undefined ? '        ' : ` ${String(figure.requests).padStart(3)} req`}`;
console.log(
  `${''.padEnd(34)} ${'latency 0'.padEnd(18)} ${`latency ${LATENCY} ms`.padEnd(18)} x latency  latency-bound`,
);
for (const [label, atZero] of fast) {
  const atLatency = slow.get(label)!;
  const bound = label === DETECTION ? '' : `${((atLatency.ms - atZero.ms) / LATENCY).toFixed(1).padStart(9)}`;
  console.log(
    `${label.padEnd(34)} ${cell(atZero)}   ${cell(atLatency)}   ${(atLatency.ms / LATENCY).toFixed(1).padStart(6)}   ${bound}`,
  );
}
if (kubectl)
  console.log(
    `${'apply / kubectl apply'.padEnd(34)} ${(fast.get(APPLY)!.ms / fast.get(KUBECTL_APPLY)!.ms).toFixed(2).padStart(10)}           ${(slow.get(APPLY)!.ms / slow.get(KUBECTL_APPLY)!.ms).toFixed(2).padStart(10)}`,
  );
console.log(`
x latency: wall time / ${LATENCY} ms. latency-bound: (wall at ${LATENCY} ms - wall at 0) / ${LATENCY} ms, the round trips on the
critical path; the rest of the time is the double's own CPU (one thread, where an API server has many cores).`);
