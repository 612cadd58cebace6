import * as core from '@actions/core';
import { describeError } from 'loki-microservices';

/**
 * A crash (a bug, an error event nobody listens to) fails the step with one redacted line, never with Node's
 * dump of the error object, which may hold a request and its Authorization header.
 */
export function reportCrashes(): void {
  const crash = (error: unknown) => {
    core.setFailed(`loki-microservices crashed: ${describeError(error, { stack: true })}`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
