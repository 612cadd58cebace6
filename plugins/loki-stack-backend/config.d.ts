export interface Config {
  lokiStack?: {
    /**
     * How long a stack's status is served from memory, in seconds, so that a page of cards does not hammer
     * the API server. Default 5.
     */
    statusCacheSeconds?: number;
    /**
     * How long one status lookup may take, retries included, in seconds; then the answer is 503 saying the
     * cluster did not answer in time. Keep it below the timeouts of whatever sits in front of Backstage. Default 10.
     */
    statusTimeoutSeconds?: number;
    /**
     * How long what a stack's ruler reports about its declared rule groups (spec.rules) is served from memory, in
     * seconds: reading it takes a port-forward to a ruler pod per tenant. A change of the declared groups asks
     * again at once; an unknown answer is asked again after statusCacheSeconds. Default 30.
     */
    rulesCacheSeconds?: number;
    /**
     * How long reading the ruler's rules API may take, in seconds; then the status is served with its rules
     * "unknown" and why. The whole status still answers within statusTimeoutSeconds. Default 3.
     */
    rulesTimeoutSeconds?: number;
  };
  // Clusters: `kubernetes.clusterLocatorMethods` (type config), as for the Kubernetes plugin and the
  // loki:stack:* scaffolder actions (see @loki-microservices/plugin-scaffolder-backend-module-loki-stack).
}
