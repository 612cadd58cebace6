// The cluster options of the commands that talk to one: --kubeconfig and --context, resolved like kubectl.
import { resolve } from 'node:path';
import { connect, type Connection } from '../cluster/connection.js';
import { ClusterError } from '../errors.js';
import { UsageError, type CliIo } from './io.js';
import type { Options } from './options.js';

export const CLUSTER_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
} as const satisfies Options;

export const CLUSTER_HELP = `      --kubeconfig PATH  Kubeconfig file. Default: $KUBECONFIG, then ~/.kube/config, then in-cluster
      --context NAME     Kubeconfig context. Default: the current context`;

/** A connection from --kubeconfig and --context; a kubeconfig that cannot be used is a usage error. */
export function connectFrom(values: { kubeconfig?: string; context?: string }, io: CliIo): Connection {
  try {
    return connect({ kubeconfig: values.kubeconfig && resolve(io.cwd, values.kubeconfig), context: values.context });
  } catch (error) {
    if (error instanceof ClusterError) throw new UsageError(error.message);
    throw error;
  }
}
