export interface Config {
  /**
   * The loki:stack:* actions find clusters where Backstage's Kubernetes plugin does: the clusters of the
   * `config` cluster locators. Only `authProvider: serviceAccount` is used: the token, or, without one, the
   * backend pod's own service account.
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
