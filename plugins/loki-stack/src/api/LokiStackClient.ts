import { DEFAULT_NAMESPACE, type CompoundEntityRef } from '@backstage/catalog-model';
import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { LokiStackError, type CheckedStackStatus, type LokiStackApi, type LokiStackErrorKind } from './LokiStackApi.js';

const KIND_BY_STATUS: Record<number, LokiStackErrorKind> = {
  401: 'unauthorized',
  403: 'unauthorized',
  404: 'not-found',
  503: 'unavailable',
};

/** Reads statuses from the loki-stack backend plugin, with the user's Backstage token (fetchApi). */
export class LokiStackClient implements LokiStackApi {
  constructor(private readonly options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {}

  async getStatus(entityRef: CompoundEntityRef): Promise<CheckedStackStatus> {
    const base = await this.options.discoveryApi.getBaseUrl('loki-stack');
    const response = await this.options.fetchApi.fetch(`${base}/stacks/by-entity/${entityPath(entityRef)}`);
    if (response.ok) return (await response.json()) as CheckedStackStatus;
    const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new LokiStackError(
      KIND_BY_STATUS[response.status] ?? 'other',
      body?.error?.message ?? `HTTP ${response.status} ${response.statusText}`,
    );
  }
}

/** `kind/namespace/name` as the catalog's own routes write it: kind and namespace in lower case, each part encoded. */
function entityPath({ kind, namespace, name }: CompoundEntityRef): string {
  return [kind.toLocaleLowerCase('en-US'), (namespace || DEFAULT_NAMESPACE).toLocaleLowerCase('en-US'), name]
    .map(encodeURIComponent)
    .join('/');
}
