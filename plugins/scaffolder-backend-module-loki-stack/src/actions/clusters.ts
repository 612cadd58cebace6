// Which cluster an action works on: a `cluster` input naming an entry of the Kubernetes plugin's
// configuration, or, without one, the backend's kubeconfig or in-cluster service account.
import { InputError } from '@backstage/errors';
import { ClusterError, configuredClusters, connectToCluster, type ClusterEntry, type ConfigReader, type Connection } from 'loki-microservices';
import type { z as zod } from 'zod/v3';

export const CLUSTER_INPUT = {
  cluster: (z: typeof zod) =>
    z.string().optional().describe('A cluster name from kubernetes.clusterLocatorMethods (type config) in app-config. Without it: the backend\'s kubeconfig or in-cluster service account.'),
};

export class Clusters {
  private readonly entries: ClusterEntry[];

  constructor(config: ConfigReader) {
    this.entries = configuredClusters(config);
  }

  /** A connection to `name`; an unknown name is an InputError listing the configured ones. */
  connect(name: string | undefined): Connection {
    try {
      return connectToCluster(this.entries, name);
    } catch (error) {
      if (error instanceof ClusterError) throw new InputError(error.message);
      throw error;
    }
  }
}
