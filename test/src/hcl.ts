// HCL2 parsing with @cdktf/hcl2json, in a worker thread: the parser is Go compiled to WebAssembly, and
// its runtime keeps timers going after a parse, which would hold a jest worker open. Tests that parse
// call closeHclParser() in afterAll; the worker thread, and everything the Go runtime left behind, ends.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const parserPath = createRequire(import.meta.url).resolve('@cdktf/hcl2json');

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { parse } = require(${JSON.stringify(parserPath)});
parentPort.on('message', ({ id, filename, text }) => {
  parse(filename, text).then(
    (result) => parentPort.postMessage({ id, result }),
    (error) => parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) }),
  );
});
`;

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void }>();

function parser(): Worker {
  if (worker) return worker;
  worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.on('message', ({ id, result, error }: { id: number; result?: Record<string, unknown>; error?: string }) => {
    const call = pending.get(id);
    pending.delete(id);
    if (error !== undefined) call?.reject(new Error(error));
    else call?.resolve(result!);
  });
  worker.on('error', (error) => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
    worker = undefined;
  });
  return worker;
}

/** The HCL2 text as hcl2json's JSON: blocks as lists, labelled blocks as maps of lists, strings unevaluated. */
export function parseHcl(filename: string, text: string): Promise<Record<string, unknown>> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    parser().postMessage({ id, filename, text });
  });
}

/** Ends the parser's worker thread (a later parseHcl starts a new one). */
export async function closeHclParser(): Promise<void> {
  const current = worker;
  worker = undefined;
  await current?.terminate();
}
