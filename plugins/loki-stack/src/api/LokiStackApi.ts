import { createApiRef } from '@backstage/core-plugin-api';
import type { StackLocation, StackStatus } from 'loki-microservices/types';

/** A stack's status as the loki-stack backend answers it. */
export type CheckedStackStatus = StackStatus & { checkedAt: string };

/** Why there is no status: each has its own message on the card. */
export type LokiStackErrorKind = 'not-found' | 'unauthorized' | 'unavailable' | 'other';

export class LokiStackError extends Error {
  constructor(
    readonly kind: LokiStackErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'LokiStackError';
  }
}

export interface LokiStackApi {
  getStatus(location: StackLocation): Promise<CheckedStackStatus>;
}

export const lokiStackApiRef = createApiRef<LokiStackApi>({ id: 'plugin.loki-stack.service' });
