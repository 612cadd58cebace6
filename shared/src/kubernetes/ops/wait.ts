// wait: until every workload of the stack is really ready (its controller saw the latest spec, every pod
// is up to date and ready, none is failing), watching workloads and pods rather than polling, so that
// readiness is seen as soon as the API server sees it. Progress is reported per component as it changes;
// on timeout, or once a pod keeps failing, it ends with a diagnosis.
import type { V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.js';
import { assertStackRef } from '../../stack/names.js';
import { stackSelector } from '../render/common.js';
import type { Connection } from './connection.js';
import { diagnose, formatDiagnosis, type Diagnosis } from './diagnose.js';
import { judgeReadiness, lastReadyAt, progressLines, type FailureMemory } from './readiness.js';
import { DEFAULT_RETRY, until, withRetry, type RetryPolicy } from './retry.js';
import type { StackRef } from './status.js';
import type { StackStatus } from '../../stack/status-model.js';
import { stackStatusOf } from './stack-status.js';
import { watch } from './watch.js';

export interface WaitOptions {
  /** Give up after this long. @default 600000 (10 minutes) */
  timeoutMs?: number;
  /** Stop early once a pod has been failing (crash loop, image pull, no node) this long. @default 30000 */
  failingForMs?: number;
  /** Told when a component's ready count changes, e.g. "ingester 2/3 ready". */
  onProgress?: (line: string, status: StackStatus) => void;
  signal?: AbortSignal;
  /** Delays between retries; transient failures (an API server away for a while) are retried until the timeout. */
  retry?: RetryPolicy;
  /** A watch that hears nothing this long is started again. @default 90000 */
  watchIdleTimeoutMs?: number;
}

export interface WaitResult {
  status: StackStatus;
  elapsedMs: number;
  /** When the last pod became ready (epoch ms, whole seconds: the kubelet's clock), if the pods say. */
  readyAt?: number;
}

/** The stack did not become ready: `why` says whether time ran out or pods keep failing. */
export class NotReadyError extends ClusterError {
  constructor(
    readonly why: 'timeout' | 'failing',
    readonly status: StackStatus,
    readonly diagnosis: Diagnosis,
    elapsedMs: number,
  ) {
    const what = why === 'timeout' ? `not ready after ${Math.round(elapsedMs / 1000)}s` : 'failing';
    super(
      `stack ${status.namespace}/${status.name} is ${what}: ${status.condition.message}\n${formatDiagnosis(diagnosis)}`,
    );
    this.name = 'NotReadyError';
  }
}

type Workload = V1Deployment | V1StatefulSet;

/** Answers to a watch request that watching again would only repeat (bad request, no credentials, no access). */
const PERMANENT_WATCH_STATUS = new Set([400, 401, 403]);

interface Source<T> {
  kind: string;
  path: string;
  list: () => Promise<{ metadata?: { resourceVersion?: string }; items: T[] }>;
  into: Map<string, T>;
}

export async function waitForStack(
  connection: Connection,
  ref: StackRef,
  options: WaitOptions = {},
): Promise<WaitResult> {
  assertStackRef(ref);
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 600_000;
  const failingForMs = options.failingForMs ?? 30_000;
  const retry = until(started + timeoutMs, options.retry ?? DEFAULT_RETRY);
  const labelSelector = stackSelector(ref.name);
  const { namespace } = ref;
  const deployments = new Map<string, Workload>();
  const statefulSets = new Map<string, Workload>();
  const pods = new Map<string, V1Pod>();
  const sources: Source<Workload | V1Pod>[] = [
    {
      kind: 'Deployment',
      path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
      list: () => connection.apps.listNamespacedDeployment({ namespace, labelSelector }),
      into: deployments,
    },
    {
      kind: 'StatefulSet',
      path: `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
      list: () => connection.apps.listNamespacedStatefulSet({ namespace, labelSelector }),
      into: statefulSets,
    },
    {
      kind: 'Pod',
      path: `/api/v1/namespaces/${namespace}/pods`,
      list: () => connection.core.listNamespacedPod({ namespace, labelSelector }),
      into: pods,
    },
  ] as Source<Workload | V1Pod>[];

  const current = () =>
    stackStatusOf({
      ...ref,
      workloads: [
        ...[...deployments.values()].map((w) => ({ ...w, kind: 'Deployment' })),
        ...[...statefulSets.values()].map((w) => ({ ...w, kind: 'StatefulSet' })),
      ],
      pods: [...pods.values()],
    });

  return new Promise<WaitResult>((resolve, reject) => {
    const stops: (() => void)[] = [];
    let failures: FailureMemory = new Map();
    const reported = new Map<string, string>();
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let recheck: ReturnType<typeof setTimeout> | undefined;

    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(recheck);
      for (const stop of stops) stop();
      options.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (why: 'timeout' | 'failing') => {
      const status = current();
      finish(() => {
        diagnose(connection, ref, status).then(
          (diagnosis) => reject(new NotReadyError(why, status, diagnosis, Date.now() - started)),
          (error: unknown) => reject(error),
        );
      });
    };
    const onAbort = () => finish(() => reject(new ClusterError('waiting was cancelled')));

    /** Look at the stack as it is now: report progress, and end when it is ready or keeps failing. */
    const listed = new Set<string>();
    const evaluate = () => {
      // Judge only a whole picture: every kind listed once, and some workload there.
      if (done || listed.size < sources.length || deployments.size + statefulSets.size === 0) return;
      const status = current();
      for (const [name, line] of progressLines(status)) {
        if (reported.get(name) !== line) {
          reported.set(name, line);
          options.onProgress?.(line, status);
        }
      }
      const judgement = judgeReadiness(status, failures, Date.now(), failingForMs);
      failures = judgement.failures;
      const { verdict } = judgement;
      clearTimeout(recheck);
      if (verdict.kind === 'ready') {
        const readyAt = lastReadyAt([...pods.values()]);
        finish(() => resolve({ status, elapsedMs: Date.now() - started, ...(readyAt ? { readyAt } : {}) }));
      } else if (verdict.kind === 'failing') fail('failing');
      // Nothing may change while a pod keeps failing: look again when it has failed long enough.
      else if (verdict.recheckInMs !== undefined) recheck = setTimeout(evaluate, verdict.recheckInMs);
    };

    /** List, then watch from the list's resourceVersion; on any end of the watch, do it again. */
    const follow = async (source: Source<Workload | V1Pod>) => {
      if (done) return;
      try {
        const list = await withRetry(`listing ${source.kind}s in ${namespace}`, source.list, retry);
        source.into.clear();
        for (const item of list.items) source.into.set(item.metadata?.name ?? '', item);
        listed.add(source.kind);
        evaluate();
        if (done) return;
        const stop = await watch(connection, source.path, {
          query: { labelSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: 'true' },
          idleTimeoutMs: options.watchIdleTimeoutMs,
          onEvent: ({ type, object }) => {
            const item = object as Workload | V1Pod;
            if (type === 'ADDED' || type === 'MODIFIED') source.into.set(item.metadata?.name ?? '', item);
            else if (type === 'DELETED') source.into.delete(item.metadata?.name ?? '');
            else return; // BOOKMARK, or ERROR (410 Gone): the watch ends and is started again
            evaluate();
          },
          onEnd: (error) => {
            if (done) return;
            // A refusal does not go away by watching again: end with it rather than at the timeout.
            const code = error?.statusCode;
            if (code !== undefined && PERMANENT_WATCH_STATUS.has(code)) {
              finish(() =>
                reject(
                  new ClusterError(`watching ${source.kind}s in ${namespace}: ${error!.message} (HTTP ${code})`, code),
                ),
              );
            } else setTimeout(() => void follow(source), error ? 1000 : 0);
          },
        });
        stops.push(stop);
        if (done) stop();
      } catch (error) {
        finish(() => reject(error));
      }
    };

    timer = setTimeout(() => fail('timeout'), timeoutMs);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    for (const source of sources) void follow(source);
  });
}
