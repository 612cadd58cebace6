export interface Config {
  lokiStack?: {
    /**
     * How long a stack's status is served from memory, in seconds, so that a page of cards does not hammer
     * the API server. Default 5.
     */
    statusCacheSeconds?: number;
  };
  // Clusters: `kubernetes.clusterLocatorMethods` (type config), as for the Kubernetes plugin and the
  // loki:stack:* scaffolder actions (see @loki-microservices/plugin-scaffolder-backend-module-loki-stack).
}
