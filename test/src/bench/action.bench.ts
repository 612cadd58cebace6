// `npm run bench` (third part): the Action's bundle — its size, and the time from starting `node
// action/dist/index.js` (as the runner does) to its first request reaching the API server, on Node 20 and on
// GitHub's Node 24 ($NODE24). Prints figures; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApiServer } from '../apiserver/index.js';
import { providedTool } from '../tools/tools.js';
import { runnerInputs } from './runner-inputs.js';

const RUNS = 7;
const ROOT = new URL('../../../', import.meta.url).pathname;
const DIST = join(ROOT, 'action/dist');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

function files(directory: string): { path: string; bytes: number }[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    return entry.isDirectory() ? files(path) : [{ path: path.slice(DIST.length + 1), bytes: statSync(path).size }];
  });
}

const bundle = files(DIST);
console.log(`action/dist: ${kib(bundle.reduce((sum, file) => sum + file.bytes, 0))} in ${bundle.length} files`);
for (const file of bundle) console.log(`  ${file.path.padEnd(28)} ${kib(file.bytes)}`);

const running = await startTestApiServer();
const scratch = mkdtempSync(join(tmpdir(), 'action-bench-'));
const fileCommands = Object.fromEntries(
  ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'].map((name) => [name, join(scratch, name)]),
);
for (const file of Object.values(fileCommands)) writeFileSync(file, '');

/** Milliseconds from spawning `node action/dist/index.js` (command status) to its first request, and to its exit. */
async function startUp(node: string): Promise<{ firstRequest: number; exit: number }> {
  const requests = running.server.faults.requests;
  const before = requests.length;
  const started = performance.now();
  let firstRequest = Number.NaN;
  const push = requests.push.bind(requests);
  requests.push = (...records) => {
    if (Number.isNaN(firstRequest)) firstRequest = performance.now() - started;
    return push(...records);
  };
  const child = spawn(node, [join(DIST, 'index.js')], {
    env: {
      PATH: process.env.PATH,
      ...fileCommands,
      ...runnerInputs({ command: 'status', kubeconfig: running.kubeconfigPath, timeout: '1m' }),
    },
    stdio: 'ignore',
  });
  await new Promise((resolve) => child.on('exit', resolve));
  requests.push = push;
  if (requests.length === before) throw new Error(`${node} sent no request`);
  return { firstRequest, exit: performance.now() - started };
}

const nodes: [string, string | undefined][] = [
  ['Node 20 (this process)', process.execPath],
  ['Node 24 ($NODE24)', providedTool(ROOT, 'NODE24')],
];
console.log(`\nstart-up of the bundle (command status, a stack that does not exist), median of ${RUNS} runs:`);
for (const [label, node] of nodes) {
  if (!node) {
    console.log(`  ${label.padEnd(24)} not measured: set NODE24 or run test/dist/tools/provision.js`);
    continue;
  }
  const runs: { firstRequest: number; exit: number }[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await startUp(node));
  console.log(
    `  ${label.padEnd(24)} first API request after ${median(runs.map((r) => r.firstRequest)).toFixed(0)} ms, exit after ${median(runs.map((r) => r.exit)).toFixed(0)} ms`,
  );
}
await running.close();
