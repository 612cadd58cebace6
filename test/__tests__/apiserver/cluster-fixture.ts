// A store, an Api and a started simulated cluster with the namespace `demo`, for the cluster tests.
import { Api } from '../../src/apiserver/api.js';
import { Cluster, type ClusterOptions } from '../../src/apiserver/controllers/index.js';
import { Store } from '../../src/apiserver/store.js';

export function startCluster(options: Partial<ClusterOptions> = {}): { api: Api; cluster: Cluster } {
  const api = new Api(new Store());
  const cluster = new Cluster(api, { readyAfterMs: 20, ...options });
  createNamespace(api);
  cluster.start();
  return { api, cluster };
}

export function createNamespace(api: Api, name = 'demo'): void {
  api.create('Namespace', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { manager: 'test' });
}
