export interface Config {
  lokiStack?: {
    /** Per cluster (by its name under kubernetes.clusterLocatorMethods), what the actions may touch. */
    clusters?: {
      [name: string]: {
        /**
         * Namespace patterns loki:stack:deploy and loki:stack:destroy may work in; `*` matches any run of
         * characters, e.g. ['team-*', 'loki']. Without a list: every namespace but kube-* and default.
         */
        namespaces?: string[];
      };
    };
  };
  /**
   * The loki:stack:* actions find clusters where Backstage's Kubernetes plugin does: the clusters of the
   * `config` cluster locators; an action's `cluster` input must name one. Only `authProvider: serviceAccount`
   * is used: the token, or, for an entry without one, the backend pod's own service account.
   */
  kubernetes?: {
    clusterLocatorMethods?: Array<{
      /** Only `config` locators are read. */
      type: string;
      clusters?: Array<{
        /** The name the `cluster` input of the actions refers to. */
        name: string;
        /** The API server URL. */
        url: string;
        /** `serviceAccount`. */
        authProvider: string;
        /**
         * A service account token with the rights listed in the README ("Backstage").
         * @visibility secret
         */
        serviceAccountToken?: string;
        /** Base64 PEM of the API server's certificate authority. */
        caData?: string;
        /** Skip TLS verification (test clusters only). */
        skipTLSVerify?: boolean;
      }>;
    }>;
  };
}
