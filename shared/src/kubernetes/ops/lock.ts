// One run at a time per stack: apply and destroy hold a `coordination.k8s.io/v1` Lease named
// `<name>-loki-microservices` in the stack's namespace while they change anything (two applies at once would
// each generate passwords and leave the gateway's htpasswd not matching its Secret; a destroy beside an apply
// leaves half a stack). The Lease is created, or taken over once stale, with the API server's optimistic
// concurrency (create is refused if it exists; an update with a stale resourceVersion is refused), renewed
// while the run goes on, and deleted at its end. A run that died leaves it to go stale after
// LOCK_DURATION_SECONDS without renewal; staleness is judged on this machine's clock against the renewTime
// the holder wrote, so clocks are assumed to agree within seconds (as NTP keeps them).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { MANAGER } from '../../stack/names.js';
import { CREATED_FOR_ANNOTATION } from '../render/common.js';
import type { Connection } from './connection.js';
import { toClusterError, withRetry, type RetryPolicy } from './retry.js';
import type { StackRef } from './status.js';

/** A lock not renewed for this long is stale: its holder is taken to have died. */
export const LOCK_DURATION_SECONDS = 60;
const RENEW_EVERY_MS = (LOCK_DURATION_SECONDS * 1000) / 4;

export const lockName = (ref: StackRef) => `${ref.name}-loki-microservices`;

/** Another run holds the stack's lock: nothing was changed. */
export class StackLockedError extends ClusterError {
  constructor(
    ref: StackRef,
    readonly holder: string,
    since: string,
    renewedAgoSeconds: number,
  ) {
    super(
      `stack ${ref.namespace}/${ref.name} is locked by ${holder} (since ${since}, renewed ${renewedAgoSeconds}s ago): another apply or destroy of this stack is running; nothing was changed. ` +
        `Try again when it is done; a run that died leaves the lock to go stale ${LOCK_DURATION_SECONDS}s after its last renewal (Lease ${ref.namespace}/${lockName(ref)}).`,
      409,
      'Conflict',
    );
    this.name = 'StackLockedError';
  }
}

export interface StackLock {
  /** Rejects if the lock was lost (taken over after this run failed to renew it): stop changing the stack. */
  check(): Promise<void>;
  /** Stops renewing and deletes the Lease (if it is still ours). */
  release(): Promise<void>;
}

/** Who holds the lock, as `kubectl get lease` and our refusal show it. */
function holderIdentity(operation: string): string {
  return `loki-microservices ${operation} on ${hostname()} (pid ${process.pid}, run ${randomUUID().slice(0, 8)})`;
}

const renewedAt = (lease: V1Lease) => new Date(String(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? 0)).getTime();
const staleAt = (lease: V1Lease) =>
  renewedAt(lease) + (lease.spec?.leaseDurationSeconds ?? LOCK_DURATION_SECONDS) * 1000;

/**
 * Takes the stack's lock, or throws StackLockedError naming the holder. The namespace must exist. Transient
 * failures are retried by `retry`; refusals of access say which permission is missing.
 */
export async function acquireStackLock(
  connection: Connection,
  ref: StackRef,
  operation: string,
  retry: RetryPolicy,
): Promise<StackLock> {
  const name = lockName(ref);
  const { namespace } = ref;
  const identity = holderIdentity(operation);
  const what = `the lock of stack ${namespace}/${ref.name} (Lease ${name})`;
  const spec = (previous?: V1Lease) => {
    // V1MicroTime writes RFC 3339 with microseconds, as Lease times must be.
    const now = new V1MicroTime();
    return {
      holderIdentity: identity,
      leaseDurationSeconds: LOCK_DURATION_SECONDS,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: previous ? (previous.spec?.leaseTransitions ?? 0) + 1 : 0,
    };
  };
  const body: V1Lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/instance': ref.name, 'app.kubernetes.io/managed-by': MANAGER },
      annotations: { [CREATED_FOR_ANNOTATION]: ref.name },
    },
  };

  let held: V1Lease | undefined;
  while (!held) {
    try {
      held = await withRetry(
        `taking ${what}`,
        () => connection.coordination.createNamespacedLease({ namespace, body: { ...body, spec: spec() } }),
        retry,
      );
    } catch (error) {
      if (!(error instanceof ClusterError) || error.code !== 409) throw explainRefusal(error, what);
      const current = await withRetry(
        `reading ${what}`,
        () => connection.coordination.readNamespacedLease({ name, namespace }),
        retry,
      ).catch(() => undefined);
      if (!current) continue; // released meanwhile: try to create it again
      if (current.spec?.holderIdentity && Date.now() < staleAt(current)) {
        throw new StackLockedError(
          ref,
          current.spec.holderIdentity,
          String(current.spec.acquireTime ?? 'unknown'),
          Math.round((Date.now() - renewedAt(current)) / 1000),
        );
      }
      // Stale, or released without being deleted: take it over, unless another run does so first (409).
      held = await withRetry(
        `taking over ${what}`,
        () =>
          connection.coordination.replaceNamespacedLease({
            name,
            namespace,
            body: { ...current, spec: spec(current) },
          }),
        retry,
      ).catch((error: unknown) => {
        if (error instanceof ClusterError && error.code === 409) return undefined;
        throw explainRefusal(error, what);
      });
    }
  }
  return keep(connection, ref, held, retry);
}

/** Renews the lock in the background until released; a renewal that finds it taken marks it lost. */
function keep(connection: Connection, ref: StackRef, taken: V1Lease, retry: RetryPolicy): StackLock {
  const name = lockName(ref);
  const { namespace } = ref;
  let current = taken;
  let lost: ClusterError | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const lostTo = (taker: string | undefined) =>
    new ClusterError(
      `lost the lock of stack ${namespace}/${ref.name} to ${taker ?? 'another run'} (a lock not renewed for ${LOCK_DURATION_SECONDS}s may be taken over): stopped before changing more`,
      409,
      'Conflict',
    );
  const renew = async () => {
    try {
      current = await connection.coordination.replaceNamespacedLease({
        name,
        namespace,
        body: { ...current, spec: { ...current.spec, renewTime: new V1MicroTime() } },
      });
    } catch (error) {
      // Anything but a 409 (the API server away for a while) is tried again at the next renewal. A 409 means
      // someone else wrote the Lease: lost at once (the run stops at its next step), unless it is still ours.
      if (toClusterError(error, 'renewing').code !== 409) return;
      lost = lostTo(undefined);
      const read = await connection.coordination.readNamespacedLease({ name, namespace }).catch(() => undefined);
      if (read?.spec?.holderIdentity === current.spec?.holderIdentity) {
        current = read!;
        lost = undefined;
      } else lost = lostTo(read?.spec?.holderIdentity);
    }
  };
  const timer = setInterval(() => {
    renewing = renewing.then(renew);
  }, RENEW_EVERY_MS);
  timer.unref();
  return {
    // A renewal under way may be the one that finds the lock taken: its answer first.
    check: async () => {
      await renewing;
      if (lost) throw lost;
    },
    release: async () => {
      clearInterval(timer);
      await renewing;
      if (lost) return;
      // Deleted only if it is still this run's (the preconditions make the API server refuse otherwise); where
      // deleting is not allowed, emptied as client-go's leader election releases. A lock that cannot be released
      // at all goes stale: it does not fail a run that is done.
      const preconditions = { uid: current.metadata?.uid, resourceVersion: current.metadata?.resourceVersion };
      await withRetry(
        `releasing the lock of stack ${namespace}/${ref.name}`,
        () => connection.coordination.deleteNamespacedLease({ name, namespace, body: { preconditions } }),
        retry,
      )
        .catch((error: unknown) => {
          if (error instanceof ClusterError && error.code === 404) return;
          return connection.coordination.replaceNamespacedLease({
            name,
            namespace,
            body: { ...current, spec: { ...current.spec, holderIdentity: '' } },
          });
        })
        .catch(() => undefined);
    },
  };
}

function explainRefusal(error: unknown, what: string): unknown {
  if (error instanceof ClusterError && error.code === 403) {
    return new ClusterError(
      `${error.message}: taking ${what} needs get, create, update and delete on leases.coordination.k8s.io in the namespace`,
      403,
      'Forbidden',
    );
  }
  return error;
}
