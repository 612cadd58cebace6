// Every namespaced kind the cluster serves and lets us list, from its discovery documents (`/api/v1`, `/apis`
// and the preferred version of each group): what destroy looks through before it deletes a namespace, so
// that a namespace holding anything but what the stack made (another team's ReplicaSet, a CRD's object) is
// kept. A group whose discovery fails (an aggregated API that is down) is named, not skipped.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { ClusterError } from '../../errors.js';
import type { Connection } from './connection.js';
import type { ManagedKind } from '../render/apply-order.js';
import { withRetry, type RetryPolicy } from './retry.js';

/** Discovery documents are small; anything larger is not one. */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

interface APIResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

interface APIGroupList {
  groups: { name: string; preferredVersion?: { groupVersion: string }; versions: { groupVersion: string }[] }[];
}

export interface NamespacedKinds {
  kinds: ManagedKind[];
  /** Group versions whose resources could not be read, with why. */
  unreadable: string[];
}

export async function namespacedKinds(connection: Connection, retry: RetryPolicy): Promise<NamespacedKinds> {
  const [core, groups] = await Promise.all([
    getJson<APIResourceList>(connection, '/api/v1', retry),
    getJson<APIGroupList>(connection, '/apis', retry),
  ]);
  const groupVersions = groups.groups
    .map((group) => group.preferredVersion?.groupVersion ?? group.versions[0]?.groupVersion)
    .filter((gv): gv is string => !!gv);
  const unreadable: string[] = [];
  const lists = await Promise.all(
    groupVersions.map((groupVersion) =>
      getJson<APIResourceList>(connection, `/apis/${groupVersion}`, retry).catch((error: unknown) => {
        unreadable.push(`${groupVersion} (${error instanceof Error ? error.message : String(error)})`);
        return undefined;
      }),
    ),
  );
  const kinds = [core, ...lists]
    .filter((list): list is APIResourceList => !!list)
    .flatMap((list) =>
      list.resources
        .filter((resource) => resource.namespaced && !resource.name.includes('/') && resource.verbs.includes('list'))
        .map((resource) => ({ apiVersion: list.groupVersion, kind: resource.kind })),
    );
  return { kinds, unreadable };
}

/** A GET of a JSON document with the kubeconfig's credentials, the connection's timeout and a size limit. */
function getJson<T>(connection: Connection, path: string, retry: RetryPolicy): Promise<T> {
  return withRetry(`reading ${path}`, () => fetchJson<T>(connection, path), retry);
}

async function fetchJson<T>(connection: Connection, path: string): Promise<T> {
  const url = new URL(path, connection.server);
  const options: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await connection.kubeConfig.applyToHTTPSOptions(options);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise<T>((resolve, reject) => {
    const req = send(url, { ...options, timeout: connection.requestTimeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_DOCUMENT_BYTES)
          req.destroy(new ClusterError(`${path} is larger than ${MAX_DOCUMENT_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status !== 200) return reject(new ClusterError(`HTTP ${status}${statusMessage(text)}`, status));
        try {
          resolve(JSON.parse(text) as T);
        } catch {
          reject(new ClusterError(`${path} did not answer JSON`));
        }
      });
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('the API server did not answer in time'), { name: 'TimeoutError' })),
    );
    req.on('error', reject);
    req.end();
  });
}

function statusMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: string }).message;
    return message ? `: ${message}` : '';
  } catch {
    return '';
  }
}
