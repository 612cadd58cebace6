// The cluster options of the commands that talk to one: --kubeconfig and --context, resolved like kubectl.
import { resolve } from 'node:path';
import { connect, type Connection } from '../kubernetes/ops/connection.js';
import { ClusterError } from '../errors.js';
import { UsageError, type CliIo } from './io.js';
import { parseDuration, type Options } from './options.js';

export const CLUSTER_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'request-timeout': { type: 'string', default: '30s' },
} as const satisfies Options;

export const CLUSTER_HELP = `      --kubeconfig PATH  Kubeconfig file. Default: $KUBECONFIG, then ~/.kube/config, then in-cluster
      --context NAME     Kubeconfig context. Default: the current context
      --request-timeout DURATION  Give up on one API request after this long (retried while there is time;
                         default 30s)`;

/** A connection from --kubeconfig, --context and --request-timeout; a kubeconfig that cannot be used is a usage error. */
export function connectFrom(
  values: { kubeconfig?: string; context?: string; 'request-timeout': string },
  io: CliIo,
): Connection {
  const requestTimeoutMs = parseDuration(values['request-timeout'], '--request-timeout');
  if (requestTimeoutMs === 0) throw new UsageError('--request-timeout must be longer than 0');
  let connection: Connection;
  try {
    connection = connect({
      kubeconfig: values.kubeconfig && resolve(io.cwd, values.kubeconfig),
      context: values.context,
      requestTimeoutMs,
    });
  } catch (error) {
    if (error instanceof ClusterError) throw new UsageError(error.message);
    throw error;
  }
  // Without any kubeconfig (none given, $KUBECONFIG empty, no ~/.kube/config, not in a pod), client-node
  // makes one up for http://localhost:8080, which it then refuses to use: say what is missing instead.
  const cluster = connection.kubeConfig.getCurrentCluster();
  if (
    !values.kubeconfig &&
    cluster?.name === 'cluster' &&
    cluster.server === 'http://localhost:8080' &&
    connection.kubeConfig.getCurrentUser()?.name === 'user'
  ) {
    throw new UsageError('no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config');
  }
  return connection;
}
