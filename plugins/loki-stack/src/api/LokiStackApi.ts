import { createApiRef } from '@backstage/core-plugin-api';
import type { CompoundEntityRef } from '@backstage/catalog-model';
import type { StackStatus } from 'loki-microservices/types';

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
  /** The status of the stack the entity's annotation names, read by the backend as the signed-in user. */
  getStatus(entityRef: CompoundEntityRef): Promise<CheckedStackStatus>;
}

export const lokiStackApiRef = createApiRef<LokiStackApi>({ id: 'plugin.loki-stack.service' });
