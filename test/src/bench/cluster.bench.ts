// `npm run bench` (second part): what a user runs, as whole processes — the CLI (`apply`, `status`), the
// Action's bundle on Node 24 and kubectl on the same objects — against the test API server at 0 and 100 ms per
// request. Prints figures; asserts nothing. The double runs on its own thread, and its simulated cluster is
// paused while a command is timed, as controllers do not share a real API server's CPU.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import {
  applyStack,
  connect,
  parseSpec,
  renderKubernetes,
  toYaml,
  waitForStack,
  describeTimeline,
  type Connection,
  type DeployTimeline,
  type LokiStack,
} from 'loki-microservices';
import { providedTool } from '../tools/tools.js';
import { runnerInputs } from './runner-inputs.js';
import { startServerThread, type ServerThread } from './server-thread.js';

const RUNS = 5;
const LATENCY = 100;
/** How long the simulated kubelet takes to make a started pod ready. */
const READY_AFTER_MS = 100;
const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'shared/bin/loki-microservices.js');
const ACTION = join(ROOT, 'action/dist/index.js');
const KUBECTL = providedTool(ROOT, 'KUBECTL') ?? 'kubectl';
const NODE24 = providedTool(ROOT, 'NODE24');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const stackIn = (namespace: string): LokiStack => parseSpec({ metadata: { namespace } });
const epochMs = () => performance.timeOrigin + performance.now();
const scratch = mkdtempSync(join(tmpdir(), 'bench-'));
let namespaces = 0;

/** One command as a user runs it: a program and its arguments and environment for a namespace. */
interface Subject {
  label: string;
  /** The row whose times this row is divided by. */
  kubectlRow?: string;
  /** Untimed: what must exist before the command runs (a stack that is ready, a manifest file). */
  prepare?: (server: ServerThread, connection: Connection, namespace: string) => Promise<unknown>;
  spawn: (server: ServerThread, namespace: string) => { file: string; args: string[]; env?: Record<string, string> };
}

interface Figure {
  ms: number;
  requests: number;
  /** From spawning the process to its first request reaching the server. */
  startUpMs: number;
  /** From the first request reaching the server to the process's exit. */
  sinceFirstRequestMs: number;
}

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

/** The median of RUNS runs, each in a new namespace: wall time, requests, and the time before the first request. */
async function measure(server: ServerThread, connection: Connection, subject: Subject): Promise<Figure> {
  const runs: Figure[] = [];
  for (let i = 0; i < RUNS; i++) {
    const namespace = `bench-${++namespaces}`;
    await server.controllers(true);
    await subject.prepare?.(server, connection, namespace);
    await server.controllers(false);
    const { file, args, env } = subject.spawn(server, namespace);
    const before = await server.requests();
    const start = epochMs();
    await promisify(execFile)(file, args, { env: { PATH: process.env.PATH, ...env } });
    const ms = epochMs() - start;
    const arrivals = await server.arrivals(before);
    const startUpMs = arrivals[0]! - start;
    runs.push({ ms, requests: arrivals.length, startUpMs, sinceFirstRequestMs: ms - startUpMs });
    await cleanUp(server, connection, namespace);
  }
  return {
    ms: median(runs.map((run) => run.ms)),
    requests: median(runs.map((run) => run.requests)),
    startUpMs: median(runs.map((run) => run.startUpMs)),
    sinceFirstRequestMs: median(runs.map((run) => run.sinceFirstRequestMs)),
  };
}

const ready = async (_server: ServerThread, connection: Connection, namespace: string) => {
  await applyStack(connection, stackIn(namespace));
  await waitForStack(connection, { name: 'loki', namespace });
};
const manifestOf = (namespace: string) => join(scratch, `${namespace}.yaml`);
const writeManifest = async (_server: ServerThread, _connection: Connection, namespace: string) =>
  writeFileSync(manifestOf(namespace), toYaml(renderKubernetes(stackIn(namespace)).objects));
const kubectl = (server: ServerThread, args: string[]) => ({
  file: KUBECTL,
  args: [...args, '--cache-dir', join(scratch, 'kubectl-cache')],
  env: { KUBECONFIG: server.kubeconfigPath },
});
const cli = (server: ServerThread, args: string[]) => ({
  file: process.execPath,
  args: [CLI, ...args, '--kubeconfig', server.kubeconfigPath],
  env: { HOME: scratch },
});
/** The Action's main step as the runner starts it: its inputs and file commands in the environment. */
const action = (server: ServerThread, command: string, namespace: string) => {
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'].map((name) => [name, join(scratch, name)]),
  );
  for (const file of Object.values(files)) writeFileSync(file, '');
  const inputs = runnerInputs({
    command,
    namespace,
    kubeconfig: server.kubeconfigPath,
    wait: 'false',
    timeout: '1m',
    'smoke-test': 'false',
    cleanup: 'false',
    expose: 'none',
  });
  return { file: NODE24!, args: [ACTION], env: { ...files, ...inputs } };
};

const KUBECTL_APPLY = 'kubectl apply --server-side -f';
const KUBECTL_GET = 'kubectl get deploy,sts,pods';
const SUBJECTS: Subject[] = [
  {
    label: KUBECTL_APPLY,
    prepare: writeManifest,
    // Without validation: kubectl before 1.27 validates against OpenAPI v2, which the double does not serve.
    spawn: (server, namespace) =>
      kubectl(server, [
        'apply',
        '--server-side',
        '--validate=false',
        '--field-manager',
        'bench',
        '-f',
        manifestOf(namespace),
      ]),
  },
  {
    label: KUBECTL_GET,
    prepare: ready,
    spawn: (server, namespace) => kubectl(server, ['get', 'deploy,sts,pods', '-n', namespace]),
  },
  {
    label: 'CLI apply',
    kubectlRow: KUBECTL_APPLY,
    spawn: (server, namespace) => cli(server, ['apply', '--set', `metadata.namespace=${namespace}`]),
  },
  {
    label: 'CLI status',
    kubectlRow: KUBECTL_GET,
    prepare: ready,
    spawn: (server, namespace) => cli(server, ['status', '--set', `metadata.namespace=${namespace}`]),
  },
  {
    label: 'Action deploy (Node 24, wait: false)',
    kubectlRow: KUBECTL_APPLY,
    spawn: (server, namespace) => action(server, 'deploy', namespace),
  },
  {
    label: 'Action status (Node 24)',
    kubectlRow: KUBECTL_GET,
    prepare: ready,
    spawn: (server, namespace) => action(server, 'status', namespace),
  },
];

/** In-process (the library, no process start): from the last pod or workload change to `waitForStack` returning. */
async function detectionDelay(server: ServerThread, connection: Connection): Promise<number> {
  const namespace = `bench-${++namespaces}`;
  await server.controllers(true);
  await applyStack(connection, stackIn(namespace));
  await waitForStack(connection, { name: 'loki', namespace });
  const delay = epochMs() - (await server.lastChange(namespace));
  await cleanUp(server, connection, namespace);
  return delay;
}

/**
 * From the process's start to the first successful query, as the tool itself reports it (`apply --wait --smoke -o
 * json`: its timeline), with the simulated cluster running: the pods' share, Loki's read-back and the tool's own.
 */
async function toFirstQuery(server: ServerThread, connection: Connection): Promise<DeployTimeline> {
  const namespace = `bench-${++namespaces}`;
  await server.controllers(true);
  const { file, args, env } = cli(server, [
    'apply',
    '--wait',
    '--smoke',
    '-o',
    'json',
    '--set',
    `metadata.namespace=${namespace}`,
  ]);
  const { stdout } = await promisify(execFile)(file, args, { env: { PATH: process.env.PATH, ...env } });
  await cleanUp(server, connection, namespace);
  return (JSON.parse(stdout) as { timeline: DeployTimeline }).timeline;
}

/** Every subject's figure at one latency, by label, and the in-process detection delay. */
async function bench(latencyMs: number, subjects: Subject[]) {
  const figures = new Map<string, Figure>();
  const server = await startServerThread({ latencyMs, readyAfterMs: READY_AFTER_MS, namespaceDeletionDelayMs: 0 });
  const connection = connect({ kubeconfig: server.kubeconfigPath });
  try {
    // Fills kubectl's discovery cache, as a user's kubectl has it.
    await promisify(execFile)(KUBECTL, ['api-resources', '--cache-dir', join(scratch, 'kubectl-cache')], {
      env: { PATH: process.env.PATH, KUBECONFIG: server.kubeconfigPath },
    });
    for (const subject of subjects) figures.set(subject.label, await measure(server, connection, subject));
    const delays: number[] = [];
    for (let i = 0; i < RUNS; i++) delays.push(await detectionDelay(server, connection));
    const timelines: DeployTimeline[] = [];
    for (let i = 0; i < RUNS; i++) timelines.push(await toFirstQuery(server, connection));
    const timeline = timelines.sort((a, b) => a.totalMs - b.totalMs)[Math.floor(RUNS / 2)]!;
    return { figures, detectionMs: median(delays), timeline };
  } finally {
    await server.close();
  }
}

const subjects = SUBJECTS.filter((subject) => NODE24 || !subject.label.startsWith('Action'));
const { stdout: kubectlVersion } = await promisify(execFile)(KUBECTL, ['version', '--client']);
console.log(
  `whole processes: CLI on node ${process.version}, Action bundle on ${NODE24 ?? 'no Node 24 (set NODE24 or run test/dist/tools/provision.js)'}, ` +
    `${KUBECTL} (${kubectlVersion.split('\n')[0]}, discovery cached); default stack, ` +
    `${renderKubernetes(stackIn('x')).objects.length} objects; median of ${RUNS} runs\n`,
);
const [fast, slow] = [await bench(0, subjects), await bench(LATENCY, subjects)];
const roundTrips = (zero: Figure, latency: Figure) =>
  (latency.sinceFirstRequestMs - zero.sinceFirstRequestMs) / LATENCY;
const ms = (value: number, width = 6) => `${value.toFixed(0).padStart(width)} ms`;
console.log(
  `${''.padEnd(38)} ${'at 0 ms'.padStart(9)} ${'requests'.padStart(8)} ${'start-up'.padStart(15)} ${`at ${LATENCY} ms`.padStart(11)} ${'round trips'.padStart(11)} ${'x kubectl (0 / 100 ms)'.padStart(23)}`,
);
for (const { label, kubectlRow } of subjects) {
  const [zero, latency] = [fast.figures.get(label)!, slow.figures.get(label)!];
  const ratio = (figures: Map<string, Figure>) => (figure: Figure) =>
    (figure.ms / figures.get(kubectlRow!)!.ms).toFixed(2);
  console.log(
    `${label.padEnd(38)} ${ms(zero.ms)} ${String(zero.requests).padStart(8)} ${ms(zero.startUpMs)} (${((100 * zero.startUpMs) / zero.ms).toFixed(0).padStart(2)} %) ` +
      `${ms(latency.ms, 8)} ${roundTrips(zero, latency).toFixed(1).padStart(11)} ` +
      `${kubectlRow ? `${ratio(fast.figures)(zero)} / ${ratio(slow.figures)(latency)}`.padStart(23) : ''}`,
  );
}
console.log(`
start-up: from spawning the process to its first request reaching the server (its share of the time at 0 ms).
round trips: (time at ${LATENCY} ms - time at 0) / ${LATENCY} ms, the requests on the critical path, each time counted from
the first request (start-up takes no latency, and its spread would swamp a round trip or two).
In-process (the library, no process start): readiness seen ${ms(fast.detectionMs, 0)} (at 0 ms) and ${ms(slow.detectionMs, 0)} (at ${LATENCY} ms) after the last change.`);
for (const [latency, { timeline }] of [
  [0, fast],
  [LATENCY, slow],
] as const) {
  console.log(
    `CLI apply --wait --smoke at ${latency} ms per request (pods ready ${READY_AFTER_MS} ms after they start; the kubelet's clock counts whole seconds): ${describeTimeline(timeline, true)}; ` +
      `applied after ${ms(timeline.appliedMs, 0)}, readiness noticed ${ms(timeline.noticedMs ?? 0, 0)} after the last pod's`,
  );
}
