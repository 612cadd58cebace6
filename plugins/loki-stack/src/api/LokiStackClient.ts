import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import type { StackLocation } from 'loki-microservices/types';
import { LokiStackError, type CheckedStackStatus, type LokiStackApi, type LokiStackErrorKind } from './LokiStackApi.js';

const KIND_BY_STATUS: Record<number, LokiStackErrorKind> = { 401: 'unauthorized', 403: 'unauthorized', 404: 'not-found', 503: 'unavailable' };

/** Reads statuses from the loki-stack backend plugin, with the user's Backstage token (fetchApi). */
export class LokiStackClient implements LokiStackApi {
  constructor(private readonly options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {}

  async getStatus(location: StackLocation): Promise<CheckedStackStatus> {
    const base = await this.options.discoveryApi.getBaseUrl('loki-stack');
    const path = [location.cluster, location.namespace, location.name].map(encodeURIComponent).join('/');
    const response = await this.options.fetchApi.fetch(`${base}/stacks/${path}`);
    if (response.ok) return (await response.json()) as CheckedStackStatus;
    const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new LokiStackError(KIND_BY_STATUS[response.status] ?? 'other', body?.error?.message ?? `HTTP ${response.status} ${response.statusText}`);
  }
}
