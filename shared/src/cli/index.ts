import { text } from 'node:stream/consumers';
import { describeError } from '../redact.js';
import { quietKnownDeprecations } from '../warnings.js';
import { main } from './main.js';

quietKnownDeprecations();

// A crash (a bug, an error event nobody listens to) is reported as one redacted line, never as Node's dump
// of the error object, which may hold a request and its Authorization header.
const crash = (error: unknown) => {
  process.stderr.write(`error: loki-microservices crashed: ${describeError(error, { stack: true })}\n`);
  process.exit(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

process.exitCode = await main(process.argv.slice(2), {
  stdout: (chunk) => process.stdout.write(chunk),
  stderr: (chunk) => process.stderr.write(chunk),
  stdin: () => text(process.stdin),
  cwd: process.cwd(),
});
// Done: a connection still open (a kept-alive socket, a forward the server never closed) must not keep the
// process alive; what is left gets a moment to finish writing.
setTimeout(() => process.exit(), 1000).unref();
