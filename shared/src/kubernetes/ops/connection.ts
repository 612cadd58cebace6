// The only place that builds a KubeConfig and API clients. The kubeconfig is found as kubectl finds it: an
// explicit path, else $KUBECONFIG (a list of files), else ~/.kube/config, else the in-cluster service account.
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import {
  ApisApi,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  KubernetesObjectApi,
  ServerConfiguration,
  type SecurityAuthentication,
  type User,
} from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { registerSecret } from '../../redact.js';

/** How long one request may take, connection included, before it is given up (and retried if there is time). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ConnectOptions {
  /** Path to a kubeconfig file. @default $KUBECONFIG, ~/.kube/config, then in-cluster */
  kubeconfig?: string;
  /** Context to use. @default the kubeconfig's current context */
  context?: string;
  /** An already loaded configuration (Backstage builds one from its app-config); wins over `kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** How long one request may take, from connecting to the last byte of its answer. @default 30000 */
  requestTimeoutMs?: number;
}

/**
 * client-node's API for objects of any kind. Before its first request for an apiVersion it reads that
 * apiVersion's resource list, one round trip more in front of the request; `discover` reads the lists of several
 * apiVersions at once, up front, so that the requests after it go out at once.
 */
export class ObjectApi extends KubernetesObjectApi {
  async discover(objects: readonly { apiVersion?: string; kind?: string }[]): Promise<void> {
    const firstKindOf = new Map(objects.map((object) => [object.apiVersion ?? '', object.kind ?? '']));
    // A list that cannot be read now is read again, with retries, by the request that needs it.
    await Promise.all([...firstKindOf].map(([apiVersion, kind]) => this.resource(apiVersion, kind).catch(() => {})));
  }
}

export interface Connection {
  kubeConfig: KubeConfig;
  objects: ObjectApi;
  core: CoreV1Api;
  apps: AppsV1Api;
  /** The API group list (`/apis`). */
  apis: ApisApi;
  coordination: CoordinationV1Api;
  /** The API server URL, for messages. */
  server: string;
  requestTimeoutMs: number;
  /** Closes the kept-alive connections (a process that goes on after its work, such as a Backstage task, calls this). */
  close(): void;
}

export function connect(options: ConnectOptions = {}): Connection {
  const kubeConfig = options.kubeConfig ?? load(options.kubeconfig);
  if (options.context) {
    const names = kubeConfig.getContexts().map((context) => context.name);
    if (!names.includes(options.context)) {
      throw new ClusterError(
        `context "${options.context}" is not in the kubeconfig; it has: ${names.join(', ') || 'none'}`,
      );
    }
    kubeConfig.setCurrentContext(options.context);
  }
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server)
    throw new ClusterError('the kubeconfig has no current cluster: set a context with --context or KUBECONFIG');
  for (const secret of userSecrets(kubeConfig.getCurrentUser())) registerSecret(secret);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const agents = new Map<string, Agent>();
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: reusingConnections(kubeConfig, agents, requestTimeoutMs) },
  });
  return {
    kubeConfig,
    objects: new ObjectApi(configuration),
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    apis: new ApisApi(configuration),
    coordination: new CoordinationV1Api(configuration),
    server,
    requestTimeoutMs,
    close: () => {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

/**
 * The kubeconfig's authentication, on kept-alive connections, with a deadline per request. client-node gives
 * every request a new https.Agent, so every request opens a connection and pays a TLS handshake (10-15 ms on
 * the test server, more across a network); one keep-alive agent per TLS identity removes that. Proxy agents
 * are left alone. client-node sets no timeout at all: an API server that accepts the connection and never
 * answers would hold a request forever.
 */
function reusingConnections(
  kubeConfig: KubeConfig,
  agents: Map<string, Agent>,
  requestTimeoutMs: number,
): SecurityAuthentication {
  return {
    getName: () => 'default',
    async applySecurityAuthentication(context) {
      await kubeConfig.applySecurityAuthentication(context);
      context.setSignal(AbortSignal.timeout(requestTimeoutMs));
      const agent = context.getAgent();
      if (!agent || agent.constructor !== Agent) return;
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized } = (agent as Agent).options;
      const identity = JSON.stringify([ca, cert, key, pfx, passphrase, rejectUnauthorized]);
      if (!agents.has(identity)) {
        // One TLS context for all its connections: each would otherwise parse the CA and the keys again.
        const secureContext = createSecureContext({ ca, cert, key, pfx, passphrase });
        agents.set(identity, new Agent({ ...(agent as Agent).options, secureContext, keepAlive: true }));
      }
      context.setAgent(agents.get(identity)!);
    },
  };
}

/**
 * Every credential a kubeconfig can carry, for an adapter to mask in its logs: tokens, passwords, client keys
 * (inline or the key file's content), OIDC and other auth-provider tokens and client secrets, the values of
 * an exec plugin's environment. From the kubeconfig's text, or a file path; none (and no error) when there is
 * nothing to read. Text that is not a kubeconfig is masked line by line: which part is secret is unknown, and a
 * parser's message may quote any of it.
 */
export function kubeconfigSecrets(source: { text: string } | { path?: string }): string[] {
  const kubeConfig = new KubeConfig();
  try {
    if ('text' in source) kubeConfig.loadFromString(source.text);
    else if (source.path) kubeConfig.loadFromFile(source.path);
    else kubeConfig.loadFromDefault();
  } catch {
    const text = 'text' in source ? source.text : readOrEmpty(source.path);
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length >= 8);
  }
  return kubeConfig.users.flatMap(userSecrets);
}

const AUTH_PROVIDER_SECRETS = ['access-token', 'refresh-token', 'id-token', 'client-secret'];

function userSecrets(user: User | null): string[] {
  if (!user) return [];
  const exec = user.exec as { env?: { value?: string }[] | null } | undefined;
  const provider = user.authProvider as { config?: Record<string, string> } | undefined;
  const values = [
    user.token,
    user.password,
    user.keyData,
    user.keyFile ? readOrEmpty(user.keyFile) : undefined,
    ...AUTH_PROVIDER_SECRETS.map((key) => provider?.config?.[key]),
    ...(exec?.env ?? []).map((variable) => variable.value),
  ];
  // A log masks one line at a time: a multi-line value (a PEM key) is given line by line too.
  return values
    .filter((value): value is string => !!value && value.trim().length > 0)
    .flatMap((value) => [
      value.trim(),
      ...(value.includes('\n')
        ? value
            .split('\n')
            .map((line) => line.trim())
            .filter((line) => line.length >= 8)
        : []),
    ]);
}

function readOrEmpty(path: string | undefined): string {
  try {
    return path ? readFileSync(path, 'utf8') : '';
  } catch {
    return '';
  }
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
