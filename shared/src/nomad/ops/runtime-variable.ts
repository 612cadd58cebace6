// The per-tenant overrides on Nomad: the item `runtime.yaml` of the job's Nomad Variable
// (`nomad/jobs/<job>`), which every task's runtime template reads (render/templates.ts). Apply writes it
// before registering the job, only when it differs, with check-and-set so that a concurrent edit is not
// lost silently; other items of the variable (credentials kept there) are preserved. Variables HTTP API:
// GET/PUT/DELETE /v1/var/:path?namespace=&cas= (https://developer.hashicorp.com/nomad/api-docs/variables/variables).
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { RUNTIME_CONFIG_FILE, runtimeConfigText } from '../../stack/runtime-config.js';
import type { LokiStack } from '../../spec/schema.js';
import { jobId, runtimeVariablePath } from '../render/common.js';
import { NomadApiError, type NomadClient } from './client.js';

export type RuntimeVariableAction = 'created' | 'updated' | 'unchanged';

/** A variable as GET /v1/var/:path answers it. */
interface NomadVariable {
  Namespace: string;
  Path: string;
  ModifyIndex: number;
  Items?: Record<string, string> | null;
}

const url = (path: string) => `/v1/var/${path.split('/').map(encodeURIComponent).join('/')}`;

export async function readVariable(
  client: NomadClient,
  path: string,
  namespace: string,
): Promise<NomadVariable | undefined> {
  try {
    return (await client.request<NomadVariable>('GET', url(path), { namespace })).body;
  } catch (error) {
    if (error instanceof NomadApiError && error.code === 404) return undefined;
    throw error;
  }
}

/** What apply would do to the variable, and the tenants whose overrides change (`overrides.<tenant>`). */
export async function plannedRuntimeVariable(
  client: NomadClient,
  stack: LokiStack,
): Promise<{ path: string; action: RuntimeVariableAction; tenants: string[] }> {
  const path = runtimeVariablePath(jobId(stack));
  const current = await readVariable(client, path, stack.spec.nomad.namespace);
  const text = runtimeConfigText(stack);
  const before = current?.Items?.[RUNTIME_CONFIG_FILE];
  const action = !current ? 'created' : before === text ? 'unchanged' : 'updated';
  return { path, action, tenants: action === 'unchanged' ? [] : changedTenants(before, text) };
}

/** Write the overrides when they differ; a check-and-set conflict (someone wrote meanwhile) is retried on the new version. */
export async function writeRuntimeVariable(client: NomadClient, stack: LokiStack): Promise<RuntimeVariableAction> {
  const path = runtimeVariablePath(jobId(stack));
  const namespace = stack.spec.nomad.namespace;
  const text = runtimeConfigText(stack);
  for (let attempt = 1; ; attempt++) {
    const current = await readVariable(client, path, namespace);
    if (current?.Items?.[RUNTIME_CONFIG_FILE] === text) return 'unchanged';
    try {
      await client.request('PUT', url(path), {
        namespace,
        // cas=0: create only if absent; otherwise only over the version just read.
        query: { cas: String(current?.ModifyIndex ?? 0) },
        body: { Namespace: namespace, Path: path, Items: { ...current?.Items, [RUNTIME_CONFIG_FILE]: text } },
      });
      return current ? 'updated' : 'created';
    } catch (error) {
      if (!(error instanceof NomadApiError && error.code === 409) || attempt >= 3) throw error;
    }
  }
}

/** Remove the overrides (destroy --purge): the whole variable when they are all it holds. */
export async function removeRuntimeVariable(client: NomadClient, path: string, namespace: string): Promise<boolean> {
  const current = await readVariable(client, path, namespace);
  if (current?.Items?.[RUNTIME_CONFIG_FILE] === undefined) return false;
  const { [RUNTIME_CONFIG_FILE]: _removed, ...rest } = current.Items;
  const query = { cas: String(current.ModifyIndex) };
  if (Object.keys(rest).length === 0) await client.request('DELETE', url(path), { namespace, query });
  else
    await client.request('PUT', url(path), {
      namespace,
      query,
      body: { Namespace: namespace, Path: path, Items: rest },
    });
  return true;
}

/** The tenants whose overrides differ between two runtime files, as `overrides.<tenant>`. */
export function changedTenants(before: string | undefined, after: string): string[] {
  const tenants = (text: string | undefined): Record<string, unknown> => {
    try {
      const parsed = text ? (parse(text) as { overrides?: Record<string, unknown> } | null) : null;
      return parsed?.overrides ?? {};
    } catch {
      return {};
    }
  };
  const old = tenants(before);
  const next = tenants(after);
  return [...new Set([...Object.keys(old), ...Object.keys(next)])]
    .filter((tenant) => !isDeepStrictEqual(old[tenant], next[tenant]))
    .sort()
    .map((tenant) => `overrides.${tenant}`);
}
