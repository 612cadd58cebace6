// Clusters as Backstage's Kubernetes plugin configures them (`kubernetes.clusterLocatorMethods[].clusters[]`
// of the `config` locator), so that a Backstage adopter configures a cluster once for both plugins. Reads any
// object shaped like Backstage's Config; the core does not depend on Backstage.
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { connect, type Connection, type ConnectOptions } from './connection.js';

/** The part of Backstage's `Config` reader used here. */
export interface ConfigReader {
  getOptionalConfigArray(key: string): ConfigReader[] | undefined;
  getString(key: string): string;
  getOptionalString(key: string): string | undefined;
  getOptionalBoolean(key: string): boolean | undefined;
  getOptionalStringArray(key: string): string[] | undefined;
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
  /** Namespace patterns deploys and destroys may touch (`lokiStack.clusters.<name>.namespaces`); see namespaceRefusal. */
  namespaces?: string[];
}

/** What may not be touched on a cluster without a `namespaces` list: the cluster's own namespaces and `default`. */
export const DEFAULT_REFUSED_NAMESPACES = ['kube-*', 'default'];

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
      namespaces: config.getOptionalStringArray(`lokiStack.clusters.${cluster.getString('name')}.namespaces`),
    }));
}

/** Whether `namespace` matches a pattern in which `*` stands for any run of characters. */
const matches = (pattern: string, namespace: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(namespace);

/**
 * Why `namespace` may not be deployed to or destroyed in on `cluster`, naming what is allowed; undefined when it
 * may. With `namespaces` configured, only those patterns; without, every namespace but DEFAULT_REFUSED_NAMESPACES.
 */
export function namespaceRefusal(cluster: ClusterEntry, namespace: string): string | undefined {
  const key = `lokiStack.clusters.${cluster.name}.namespaces`;
  if (cluster.namespaces) {
    if (cluster.namespaces.some((pattern) => matches(pattern, namespace))) return undefined;
    const allowed =
      cluster.namespaces.length > 0
        ? `the namespaces allowed are ${cluster.namespaces.join(', ')}`
        : 'no namespace is allowed';
    return `namespace "${namespace}" is not allowed on cluster "${cluster.name}": ${allowed} (${key})`;
  }
  if (!DEFAULT_REFUSED_NAMESPACES.some((pattern) => matches(pattern, namespace))) return undefined;
  return `namespace "${namespace}" is not allowed on cluster "${cluster.name}": every namespace but ${DEFAULT_REFUSED_NAMESPACES.join(' and ')} is allowed unless ${key} lists patterns, e.g. [team-*]`;
}

/** The configured cluster `name`; an unknown name is a ClusterError naming what is configured. */
export function findCluster(clusters: ClusterEntry[], name: string): ClusterEntry {
  const cluster = clusters.find((candidate) => candidate.name === name);
  if (cluster) return cluster;
  const known = clusters.map((candidate) => `"${candidate.name}"`).join(', ');
  throw new ClusterError(
    `cluster "${name}" is not configured; ${known ? `configured clusters: ${known}` : 'no cluster is configured under kubernetes.clusterLocatorMethods (type: config)'}`,
  );
}

/**
 * A connection to the configured cluster `name`, only ever with the credentials configured for it (a token, or the
 * backend pod's own service account for an entry without one). An unknown name or an unsupported authProvider is
 * a ClusterError naming what is configured.
 */
export function connectToCluster(
  clusters: ClusterEntry[],
  name: string,
  options: Pick<ConnectOptions, 'requestTimeoutMs'> = {},
): Connection {
  const cluster = findCluster(clusters, name);
  if (cluster.authProvider !== 'serviceAccount') {
    throw new ClusterError(
      `cluster "${name}": authProvider "${cluster.authProvider}" is not supported; use serviceAccount (with serviceAccountToken, or the backend's own service account)`,
    );
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    {
      name: cluster.name,
      server: cluster.url,
      skipTLSVerify: cluster.skipTLSVerify,
      ...(cluster.caData ? { caData: cluster.caData } : {}),
    },
    {
      name: `${cluster.name}-service-account`,
      ...(cluster.serviceAccountToken ? { token: cluster.serviceAccountToken } : ownServiceAccount(name)),
    },
  );
  return connect({ kubeConfig, ...options });
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The backend pod's own service account, read from its (rotating) projected token file at each request. */
function ownServiceAccount(cluster: string) {
  if (!existsSync(SERVICE_ACCOUNT_TOKEN)) {
    throw new ClusterError(
      `cluster "${cluster}" has no serviceAccountToken, and the backend does not run in a pod with a service account token (${SERVICE_ACCOUNT_TOKEN})`,
    );
  }
  return { authProvider: { name: 'tokenFile', config: { tokenFile: SERVICE_ACCOUNT_TOKEN } } };
}
