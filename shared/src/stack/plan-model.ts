// What an apply would change, on any platform: each object with its impact, the pods that would roll and why,
// what the platform refuses (blockers) and the Loki-level consequences no generic diff knows (warnings). The
// JSON shape is a contract (StackPlan, loki-microservices/v1alpha1), like StackStatus. Browser-safe: no imports.

export const PLAN_API_VERSION = 'loki-microservices/v1alpha1';

/**
 * - `create`, `prune`: the object is made, or deleted because the render no longer has it.
 * - `keep`: a volume the render no longer has, left in place (it holds data; `--prune-volumes` deletes it).
 * - `in-place`: changed without replacing any pod.
 * - `rolls`: changed so that its pods are replaced (a workload's pod template).
 * - `immutable`: refused by the platform as an update (a StatefulSet's volumes, selector…); a blocker.
 * - `recreate`: such a StatefulSet deleted with its pods left running and created again (`--recreate-statefulsets`);
 *   its pods roll only if its pod template changes too (then listed in `rolls`).
 */
export type ChangeImpact = 'create' | 'prune' | 'keep' | 'in-place' | 'rolls' | 'immutable' | 'recreate';

export interface PlannedChange {
  /** Kubernetes kind, or `Job` / `TaskGroup` / `Variable` on Nomad. */
  kind: string;
  name: string;
  impact: ChangeImpact;
  /** The changed fields as paths (`spec.replicas`, `data.config.yaml`); a Secret's by key name only, never values. */
  fields: string[];
}

/** Pods a change replaces, by component. */
export interface PlannedRoll {
  component: string;
  /** The workload: a Kubernetes Deployment or StatefulSet, or a Nomad task group. */
  workload: string;
  /** The zone of a zone-aware ingester's StatefulSet. */
  zone?: string;
  pods: number;
  /** Why, in Loki's terms: `config: limits_config.ingestion_rate_mb`, `image: grafana/loki:3.6.0 → 3.7.0`… */
  reasons: string[];
}

/** A wave of a rollout: its components (their `app.kubernetes.io/component` labels) and the pods it replaces. */
export interface PlannedWave {
  number: number;
  components: string[];
  /** The zone a zone-aware ingester's wave rolls. */
  zone?: string;
  pods: number;
}

/** A change the platform refuses: apply stops on it, saying what it would take. */
export interface PlanBlocker {
  kind: string;
  name: string;
  message: string;
}

export type PlanWarningCode =
  | 'SchemaChanged'
  | 'ReplicationFactorChanged'
  | 'StorageChanged'
  | 'IngestersScaledDown'
  | 'RetentionShortened'
  | 'AuthToggled'
  | 'ZonesMigrated';

export interface PlanWarning {
  code: PlanWarningCode;
  message: string;
}

export interface StackPlan {
  apiVersion: typeof PLAN_API_VERSION;
  kind: 'StackPlan';
  name: string;
  namespace: string;
  target: 'kubernetes' | 'nomad';
  /** Whether apply would change anything (objects, kept volumes aside). */
  hasChanges: boolean;
  /** Every object apply would touch; unchanged objects are left out. */
  changes: PlannedChange[];
  rolls: PlannedRoll[];
  /**
   * When pods roll in several components: the waves `apply` rolls them in, servers before clients, each ready
   * before the next (by default for a new spec.version, with `--waves` for any change). `number` counts among
   * all of the stack's waves (those with nothing to roll left out); `pods` is how many pods the wave replaces.
   */
  waves?: PlannedWave[];
  blockers: PlanBlocker[];
  warnings: PlanWarning[];
}

/** Whether a change is one apply makes (a kept volume is not). */
export const isChange = (change: PlannedChange) => change.impact !== 'keep';
