// The only place that builds a KubeConfig and API clients. The kubeconfig is found as kubectl finds it: an
// explicit path, else $KUBECONFIG (a list of files), else ~/.kube/config, else the in-cluster service account.
import { Agent } from 'node:https';
import { ApisApi, AppsV1Api, CoreV1Api, createConfiguration, KubeConfig, KubernetesObjectApi, ServerConfiguration, type SecurityAuthentication } from '@kubernetes/client-node';
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
  /** The API group list (`/apis`). */
  apis: ApisApi;
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
  const configuration = createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: reusingConnections(kubeConfig) } });
  return {
    kubeConfig,
    objects: new KubernetesObjectApi(configuration),
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    apis: new ApisApi(configuration),
    server,
  };
}

/**
 * The kubeconfig's authentication, on kept-alive connections. client-node gives every request a new
 * https.Agent, so every request opens a connection and pays a TLS handshake (10-15 ms on the test server,
 * more across a network); one keep-alive agent per TLS identity removes that. Proxy agents are left alone.
 */
function reusingConnections(kubeConfig: KubeConfig): SecurityAuthentication {
  const agents = new Map<string, Agent>();
  return {
    getName: () => 'default',
    async applySecurityAuthentication(context) {
      await kubeConfig.applySecurityAuthentication(context);
      const agent = context.getAgent();
      if (!agent || agent.constructor !== Agent) return;
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized } = (agent as Agent).options;
      const identity = JSON.stringify([ca, cert, key, pfx, passphrase, rejectUnauthorized]);
      if (!agents.has(identity)) agents.set(identity, new Agent({ ...(agent as Agent).options, keepAlive: true }));
      context.setAgent(agents.get(identity)!);
    },
  };
}

/** The credentials in a kubeconfig's text (tokens, passwords, client keys), for an adapter to mask in its logs. */
export function kubeconfigSecrets(text: string): string[] {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromString(text);
  } catch {
    // Unreadable, so which parts are secret is unknown (and a parser's message may quote any of them).
    return text.split('\n').map((line) => line.trim()).filter((line) => line.length >= 8);
  }
  return kubeConfig.users.flatMap((user) => [user.token, user.password, user.keyData, user.authProvider?.config?.['access-token'], user.authProvider?.config?.['refresh-token']]).filter((value): value is string => !!value);
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
