// Clusters as Backstage's Kubernetes plugin configures them (`kubernetes.clusterLocatorMethods[].clusters[]`
// of the `config` locator), so that a Backstage adopter configures a cluster once for both plugins. Reads any
// object shaped like Backstage's Config; the core does not depend on Backstage.
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterError } from '../errors.js';
import { connect, type Connection, type ConnectOptions } from './connection.js';

/** The part of Backstage's `Config` reader used here. */
export interface ConfigReader {
  getOptionalConfigArray(key: string): ConfigReader[] | undefined;
  getString(key: string): string;
  getOptionalString(key: string): string | undefined;
  getOptionalBoolean(key: string): boolean | undefined;
}

export interface ClusterEntry {
  name: string;
  url: string;
  /** Only `serviceAccount`: a token, or the pod's own service account when there is none. */
  authProvider: string;
  serviceAccountToken?: string;
  /** Base64 PEM of the API server's CA. */
  caData?: string;
  skipTLSVerify: boolean;
}

/** Every cluster of the `config` cluster locators under `kubernetes`. */
export function configuredClusters(config: ConfigReader): ClusterEntry[] {
  const locators = config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
  return locators
    .filter((locator) => locator.getString('type') === 'config')
    .flatMap((locator) => locator.getOptionalConfigArray('clusters') ?? [])
    .map((cluster) => ({
      name: cluster.getString('name'),
      url: cluster.getString('url'),
      authProvider: cluster.getString('authProvider'),
      serviceAccountToken: cluster.getOptionalString('serviceAccountToken'),
      caData: cluster.getOptionalString('caData'),
      skipTLSVerify: cluster.getOptionalBoolean('skipTLSVerify') ?? false,
    }));
}

/**
 * A connection to the configured cluster `name`; without a name, the default one (kubeconfig, then in-cluster).
 * An unknown name or an unsupported authProvider is a ClusterError naming what is configured.
 */
export function connectToCluster(clusters: ClusterEntry[], name: string | undefined, options: Pick<ConnectOptions, 'requestTimeoutMs'> = {}): Connection {
  if (!name) return connect(options);
  const cluster = clusters.find((candidate) => candidate.name === name);
  if (!cluster) {
    const known = clusters.map((candidate) => `"${candidate.name}"`).join(', ');
    throw new ClusterError(`cluster "${name}" is not configured; ${known ? `configured clusters: ${known}` : 'no cluster is configured under kubernetes.clusterLocatorMethods (type: config)'}`);
  }
  if (cluster.authProvider !== 'serviceAccount') {
    throw new ClusterError(`cluster "${name}": authProvider "${cluster.authProvider}" is not supported; use serviceAccount (with serviceAccountToken, or the backend's own service account)`);
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    { name: cluster.name, server: cluster.url, skipTLSVerify: cluster.skipTLSVerify, ...(cluster.caData ? { caData: cluster.caData } : {}) },
    { name: `${cluster.name}-service-account`, ...(cluster.serviceAccountToken ? { token: cluster.serviceAccountToken } : ownServiceAccount(name)) },
  );
  return connect({ kubeConfig, ...options });
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The backend pod's own service account, read from its (rotating) projected token file at each request. */
function ownServiceAccount(cluster: string) {
  if (!existsSync(SERVICE_ACCOUNT_TOKEN)) {
    throw new ClusterError(`cluster "${cluster}" has no serviceAccountToken, and the backend does not run in a pod with a service account token (${SERVICE_ACCOUNT_TOKEN})`);
  }
  return { authProvider: { name: 'tokenFile', config: { tokenFile: SERVICE_ACCOUNT_TOKEN } } };
}
