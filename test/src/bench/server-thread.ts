// The test API server on its own thread, so that its work (it simulates a whole cluster) does not share an
// event loop with the client being measured. The bench asks it for request counts, when requests arrived,
// and when a namespace's pods and workloads last changed.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { startTestApiServer, type TestApiServerOptions } from '../apiserver/index.js';

const WORKLOAD_KINDS = new Set(['Pod', 'Deployment', 'StatefulSet']);
const epochMs = () => performance.timeOrigin + performance.now();

type Question =
  | { id: number; ask: 'requests' }
  | { id: number; ask: 'arrivals'; since: number }
  | { id: number; ask: 'lastChange'; namespace: string }
  | { id: number; ask: 'controllers'; running: boolean }
  | { id: number; ask: 'close' };

if (parentPort && workerData?.serverThread) {
  const port = parentPort;
  const running = await startTestApiServer(workerData.options as TestApiServerOptions);
  const lastChange = new Map<string, number>();
  running.server.store.subscribe((change) => {
    const namespace = change.object.metadata?.namespace;
    if (namespace && WORKLOAD_KINDS.has(change.kind)) lastChange.set(namespace, epochMs());
  });
  // The log records a request when it arrives; its arrival time, by its index in the log.
  const requests = running.server.faults.requests;
  const arrivals: number[] = [];
  const push = requests.push.bind(requests);
  requests.push = (...records) => {
    for (let i = 0; i < records.length; i++) arrivals.push(epochMs());
    return push(...records);
  };
  port.on('message', async (question: Question) => {
    if (question.ask === 'requests') port.postMessage({ id: question.id, answer: requests.length });
    if (question.ask === 'arrivals') port.postMessage({ id: question.id, answer: arrivals.slice(question.since) });
    if (question.ask === 'lastChange')
      port.postMessage({ id: question.id, answer: lastChange.get(question.namespace) ?? 0 });
    if (question.ask === 'controllers') {
      if (question.running) running.server.cluster.start();
      else running.server.cluster.stop();
      port.postMessage({ id: question.id, answer: null });
    }
    if (question.ask === 'close') {
      await running.close();
      port.postMessage({ id: question.id, answer: null });
    }
  });
  port.postMessage({ ready: { kubeconfigPath: running.kubeconfigPath, url: running.url } });
}

export interface ServerThread {
  kubeconfigPath: string;
  /** How many requests the server has answered so far. */
  requests(): Promise<number>;
  /** When (epoch ms, sub-millisecond) each request from the `since`-th on arrived. */
  arrivals(since: number): Promise<number[]>;
  /** When (epoch ms, sub-millisecond) a pod or workload in `namespace` last changed. */
  lastChange(namespace: string): Promise<number>;
  /** Run or pause the simulated cluster (in Kubernetes, controllers do not share the API server's CPU). */
  controllers(running: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startServerThread(options: TestApiServerOptions): Promise<ServerThread> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { serverThread: true, options } });
  const ready = await new Promise<{ kubeconfigPath: string }>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { ready: { kubeconfigPath: string } }) => resolve(message.ready));
  });
  let next = 0;
  const ask = <T>(question: Record<string, unknown>) =>
    new Promise<T>((resolve) => {
      const id = next++;
      const listener = (message: { id?: number; answer: T }) => {
        if (message.id !== id) return;
        worker.off('message', listener);
        resolve(message.answer);
      };
      worker.on('message', listener);
      worker.postMessage({ ...question, id });
    });
  return {
    kubeconfigPath: ready.kubeconfigPath,
    requests: () => ask<number>({ ask: 'requests' }),
    arrivals: (since) => ask<number[]>({ ask: 'arrivals', since }),
    lastChange: (namespace) => ask<number>({ ask: 'lastChange', namespace }),
    controllers: (running) => ask<void>({ ask: 'controllers', running }),
    close: async () => {
      await ask({ ask: 'close' });
      await worker.terminate();
    },
  };
}
