// The only place that builds a KubeConfig and API clients. The kubeconfig is found as kubectl finds it: an
// explicit path, else $KUBECONFIG (a list of files), else ~/.kube/config, else the in-cluster service account.
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { ClusterError } from '../errors.js';

export interface ConnectOptions {
  /** Path to a kubeconfig file. @default $KUBECONFIG, ~/.kube/config, then in-cluster */
  kubeconfig?: string;
  /** Context to use. @default the kubeconfig's current context */
  context?: string;
  /** An already loaded configuration (Backstage builds one from its app-config); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
}

export interface Connection {
  kubeConfig: KubeConfig;
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  apps: AppsV1Api;
  /** The API server URL, for messages. */
  server: string;
}

export function connect(options: ConnectOptions = {}): Connection {
  const kubeConfig = options.kubeConfig ?? load(options.kubeconfig);
  if (options.context) {
    const names = kubeConfig.getContexts().map((context) => context.name);
    if (!names.includes(options.context)) {
      throw new ClusterError(`context "${options.context}" is not in the kubeconfig; it has: ${names.join(', ') || 'none'}`);
    }
    kubeConfig.setCurrentContext(options.context);
  }
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new ClusterError('the kubeconfig has no current cluster: set a context with --context or KUBECONFIG');
  return {
    kubeConfig,
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    server,
  };
}

function load(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (path) kubeConfig.loadFromFile(path);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new ClusterError(`cannot load the kubeconfig${path ? ` ${path}` : ''}: ${(error as Error).message}`);
  }
  return kubeConfig;
}
