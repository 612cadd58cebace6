import { text } from 'node:stream/consumers';
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (chunk) => process.stdout.write(chunk),
  stderr: (chunk) => process.stderr.write(chunk),
  stdin: () => text(process.stdin),
  cwd: process.cwd(),
});
