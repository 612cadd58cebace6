// How soon a fresh stack may call itself ready, per profile. A `demo` stack is a single replica of each
// component in a test cluster, waited on by a CI job; `small` and `production` keep Loki's and Kubernetes'
// cautious defaults, which exist for rollouts among peers.
import type { ProfileName } from '../spec/schema.js';

export interface StartupTimings {
  /**
   * The ingester's `lifecycler.min_ready_duration`: how long /ready stays 503 after the ingester is ACTIVE in the
   * ring. Loki's reference: "used to slowdown deployment controllers (eg. Kubernetes) after an instance is ready
   * and before they proceed with a rolling update, to give the rest of the cluster instances enough time to
   * receive ring updates" (default 15s). One ingester has no peers to wait for.
   */
  ingesterMinReadyDuration: string;
  /**
   * When Kubernetes (or Nomad) first asks a Loki pod's /ready, and how often after: only how soon readiness is
   * noticed, never whether a pod is restarted (that is the liveness probe's job, unchanged).
   */
  readinessInitialDelaySeconds: number;
  readinessPeriodSeconds: number;
}

const CAUTIOUS: StartupTimings = {
  ingesterMinReadyDuration: '15s',
  readinessInitialDelaySeconds: 15,
  readinessPeriodSeconds: 10,
};

export const STARTUP: Record<ProfileName, StartupTimings> = {
  demo: { ingesterMinReadyDuration: '1s', readinessInitialDelaySeconds: 2, readinessPeriodSeconds: 2 },
  small: CAUTIOUS,
  production: CAUTIOUS,
};
