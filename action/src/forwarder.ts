// The background forwarder the deploy step leaves running for later steps: a detached process of its own (the
// runner ends a step's process, not what it detached), forwarding local ports to the stack's entry points
// until the post step sends SIGTERM. It says where it listens in the file it was given, then only logs.
import { writeFileSync } from 'node:fs';
import { connect, describeError, forwardStack, quietKnownDeprecations, type LokiStack } from 'loki-microservices';
import { FORWARDER_ENV, type ForwarderConfig, type ForwarderReady } from './forward.js';

quietKnownDeprecations();

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

process.on('uncaughtException', (error) => {
  log(`crashed: ${describeError(error, { stack: true })}`);
  process.exit(1);
});
process.on('unhandledRejection', (error) => {
  log(`crashed: ${describeError(error, { stack: true })}`);
  process.exit(1);
});

const config = JSON.parse(process.env[FORWARDER_ENV] ?? '{}') as ForwarderConfig & { stack: LokiStack };
const connection = connect({ kubeconfig: config.kubeconfig, context: config.context });
const forward = await forwardStack(connection, config.stack, { onEvent: log });
const ready: ForwarderReady = { pushUrl: forward.pushUrl, queryUrl: forward.queryUrl };
writeFileSync(config.readyFile, JSON.stringify(ready));
log(`forwarding: push ${forward.pushUrl}, query ${forward.queryUrl}`);

const stop = async () => {
  await forward.close();
  connection.close();
  log('stopped');
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
