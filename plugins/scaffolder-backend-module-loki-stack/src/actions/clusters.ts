// Which cluster an action works on: the `cluster` input names an entry of the Kubernetes plugin's configuration,
// whose credentials are the only ones used; and which namespaces of it an action may touch
// (`lokiStack.clusters.<name>.namespaces`).
import { InputError } from '@backstage/errors';
import {
  ClusterError,
  configuredClusters,
  connectToCluster,
  findCluster,
  namespaceRefusal,
  type ClusterEntry,
  type ConfigReader,
  type Connection,
} from 'loki-microservices';
import type { z as zod } from 'zod/v3';

export const CLUSTER_INPUT = {
  cluster: (z: typeof zod) =>
    z
      .string()
      .min(1)
      .describe(
        'A cluster name from kubernetes.clusterLocatorMethods (type config) in app-config; its namespaces may be narrowed by lokiStack.clusters.<name>.namespaces.',
      ),
};

export class Clusters {
  private readonly entries: ClusterEntry[];

  constructor(config: ConfigReader) {
    this.entries = configuredClusters(config);
  }

  /** A connection to `name` for work in `namespace`; an unknown cluster or a namespace not allowed there is an InputError saying what is. */
  connect(name: string, namespace: string): Connection {
    try {
      const refusal = namespaceRefusal(findCluster(this.entries, name), namespace);
      if (refusal) throw new InputError(`input namespace: ${refusal}`);
      return connectToCluster(this.entries, name);
    } catch (error) {
      if (error instanceof ClusterError) throw new InputError(`input cluster: ${error.message}`);
      throw error;
    }
  }
}
