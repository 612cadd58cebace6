// HCL2 parsing with @cdktf/hcl2json, in a worker thread: the parser is Go compiled to WebAssembly, and
// its runtime keeps timers going after a parse, which would hold a jest worker open. Tests that parse
// (or start the Nomad API double, which parses job files) call closeHclParser() in afterAll; the worker
// thread, and everything the Go runtime left behind, ends.
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

interface Call {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

interface Parser {
  worker: Worker;
  pending: Map<number, Call>;
}

let parser: Parser | undefined;
let nextId = 0;

function start(): Parser {
  const started: Parser = { worker: new Worker(WORKER_SOURCE, { eval: true }), pending: new Map() };
  const failPending = (error: Error) => {
    for (const call of started.pending.values()) call.reject(error);
    started.pending.clear();
  };
  started.worker.on(
    'message',
    ({ id, result, error }: { id: number; result?: Record<string, unknown>; error?: string }) => {
      const call = started.pending.get(id);
      started.pending.delete(id);
      if (error !== undefined) call?.reject(new Error(error));
      else call?.resolve(result!);
    },
  );
  started.worker.on('error', (error) => {
    if (parser === started) parser = undefined;
    failPending(error);
  });
  started.worker.on('exit', () => failPending(new Error('the HCL parser was closed')));
  return started;
}

/** The HCL2 text as hcl2json's JSON: blocks as lists, labelled blocks as maps of lists, strings unevaluated. */
export function parseHcl(filename: string, text: string): Promise<Record<string, unknown>> {
  parser ??= start();
  const { worker, pending } = parser;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, filename, text });
  });
}

/** Ends the parser's worker thread (a later parseHcl starts a new one). */
export async function closeHclParser(): Promise<void> {
  const current = parser;
  parser = undefined;
  await current?.worker.terminate();
}
