// The Kubernetes API test double: a programmatic entry that starts one server per test on a free port
// and writes a kubeconfig for it. It is a test double, not Kubernetes: see README.md in this folder for
// what it implements and where it knowingly differs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { TestApiServer, type TestApiServerOptions } from './server.js';
import { serverCredentials } from './tls.js';

export { TestApiServer, type TestApiServerOptions } from './server.js';
export type { FailureMode, FailureTarget } from './controllers/index.js';
export type { AccessRule, AdmissionReview, DenyRule, Fault, RequestRecord } from './faults.js';
export type { CustomResourceGroup } from './resources.js';

export interface RunningApiServer {
  server: TestApiServer;
  url: string;
  /** A kubeconfig file for kubectl and client-node (context `test-apiserver`, namespace `default`). */
  kubeconfigPath: string;
  /** The same configuration, loaded. */
  kubeConfig: KubeConfig;
  close(): Promise<void>;
}

/** Start a server on `port` (0 = a free one) and write its kubeconfig (to `kubeconfigPath` or a temp file). */
export async function startTestApiServer(
  options: TestApiServerOptions & { port?: number; kubeconfigPath?: string } = {},
): Promise<RunningApiServer> {
  const server = new TestApiServer(options);
  const url = await server.listen(options.port ?? 0);
  const kubeconfigPath = options.kubeconfigPath ?? join(mkdtempSync(join(tmpdir(), 'test-apiserver-')), 'kubeconfig');
  const yaml = kubeconfigYaml(url, server.token, (await serverCredentials()).caPem);
  writeFileSync(kubeconfigPath, yaml, { mode: 0o600 });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(yaml);
  return { server, url, kubeconfigPath, kubeConfig, close: () => server.close() };
}

export function kubeconfigYaml(url: string, token: string, caPem: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'test-apiserver',
        cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    ],
    users: [{ name: 'test-user', user: { token } }],
    contexts: [
      { name: 'test-apiserver', context: { cluster: 'test-apiserver', user: 'test-user', namespace: 'default' } },
    ],
    'current-context': 'test-apiserver',
  });
}
