// plan: what apply would change, in Loki's terms. The apply itself runs as a server-side dry run with our
// field manager (the API merges, defaults and validates as it would for real), and each object's answer is
// compared with the live object: created, pruned, kept, changed in place, rolling pods, or refused.
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { LokiStack } from '../../spec/schema.js';
import { changedPaths, lokiWarnings } from '../../stack/plan-loki.js';
import {
  PLAN_API_VERSION,
  isChange,
  type ChangeImpact,
  type PlannedChange,
  type PlannedRoll,
  type StackPlan,
} from '../../stack/plan-model.js';
import { GATEWAY_CONFIG_HASH_ANNOTATION } from '../render/components/gateway.js';
import { configMapName, ZONE_LABEL, zonesOf } from '../render/common.js';
import { TLS_HASH_ANNOTATION } from '../render/tls.js';
import { CONFIG_HASH_ANNOTATION } from '../render/workload.js';
import { plannedWaves } from '../../stack/waves.js';
import { applyStack, contentOf, type ApplyOptions, type ApplyResult, type ObjectPreview } from './apply.js';
import type { Connection } from './connection.js';
import { CLI_OPTION_NAMES } from './option-names.js';
import { isIngesterSetName, zoneMigrationRefusal, zoneMigrationSteps } from './zone-migration.js';

export type PlanOptions = Pick<
  ApplyOptions,
  | 'credentials'
  | 'adopt'
  | 'forceConflicts'
  | 'pruneVolumes'
  | 'retry'
  | 'now'
  | 'optionNames'
  | 'recreateStatefulSets'
  | 'migrateZones'
>;

/** What applying the stack now would change; nothing is changed (every request is a read or a dry run). */
export async function planStack(
  connection: Connection,
  stack: LokiStack,
  options: PlanOptions = {},
): Promise<StackPlan> {
  const previews: ObjectPreview[] = [];
  const result = await applyStack(connection, stack, {
    ...options,
    dryRun: true,
    prune: true,
    onPreview: (preview) => previews.push(preview),
  });
  const plan = planOf(stack, result, previews);
  return withZoneMigration(stack, plan, options);
}

/** A plan that replaces running ingester StatefulSets: the migration's steps, a blocker without the option. */
function withZoneMigration(stack: LokiStack, plan: StackPlan, options: PlanOptions): StackPlan {
  const replaced = plan.changes
    .filter(
      (change) => change.kind === 'StatefulSet' && change.impact === 'prune' && isIngesterSetName(stack, change.name),
    )
    .map((change) => change.name)
    .sort();
  if (replaced.length === 0) return plan;
  if (!options.migrateZones) {
    const option = (options.optionNames ?? CLI_OPTION_NAMES).migrateZones;
    const message = zoneMigrationRefusal(stack, replaced, option);
    return { ...plan, blockers: [...plan.blockers, { kind: 'StatefulSet', name: replaced[0]!, message }] };
  }
  const steps = zoneMigrationSteps(stack, replaced).map((step, index) => `(${index + 1}) ${step}`);
  const warning = { code: 'ZonesMigrated' as const, message: `the ingesters move: ${steps.join('; ')}` };
  return { ...plan, warnings: [...plan.warnings, warning] };
}

type Json = Record<string, unknown>;
const keyOf = (object: { kind?: string; name?: string }) => `${object.kind}/${object.name}`;
const WORKLOADS = new Set(['Deployment', 'StatefulSet']);

/** The plan a dry run's result and previews make. */
export function planOf(stack: LokiStack, result: ApplyResult, previews: ObjectPreview[]): StackPlan {
  const previewOf = new Map(previews.map((preview) => [keyOf(preview), preview]));
  const lokiConfigKeys = configKeysChanged(previewOf.get(keyOf({ kind: 'ConfigMap', name: configMapName(stack) })));
  const changes: PlannedChange[] = [];
  const rolls: PlannedRoll[] = [];
  const blockers: StackPlan['blockers'] = [];
  for (const object of result.objects) {
    if (object.action === 'created' || object.action === 'pruned') {
      const impact = object.action === 'created' ? 'create' : 'prune';
      changes.push({ kind: object.kind, name: object.name, impact, fields: [] });
      continue;
    }
    const preview = previewOf.get(keyOf(object));
    if (object.action !== 'configured' || !preview || 'kept' in preview) continue;
    if ('refusal' in preview) {
      changes.push({ kind: object.kind, name: object.name, impact: 'immutable', fields: [] });
      blockers.push({ kind: object.kind, name: object.name, message: preview.refusal });
      continue;
    }
    const fields = changedPaths(contentOf(preview.live ?? {}), contentOf(preview.next));
    const roll = WORKLOADS.has(object.kind) ? rollOf(preview.live, preview.next, lokiConfigKeys) : undefined;
    if (roll) rolls.push(roll);
    if ('recreation' in preview) {
      // The immutable fields first, then what the new StatefulSet changes in place; its claims grow in place.
      const recreated = [...preview.recreation.fields, ...fields.filter((f) => !preview.recreation.fields.includes(f))];
      changes.push({ kind: object.kind, name: object.name, impact: 'recreate', fields: recreated });
      for (const claim of preview.recreation.claims)
        changes.push({
          kind: 'PersistentVolumeClaim',
          name: claim.name,
          impact: 'in-place',
          fields: ['spec.resources.requests.storage'],
        });
      continue;
    }
    changes.push({ kind: object.kind, name: object.name, impact: roll ? 'rolls' : 'in-place', fields });
  }
  for (const secret of result.secrets)
    if (secret.action !== 'kept')
      changes.push({
        kind: 'Secret',
        name: secret.name,
        impact: secret.action === 'created' ? 'create' : 'in-place',
        fields: [],
      });
  for (const preview of previews)
    if ('kept' in preview) changes.push({ kind: preview.kind, name: preview.name, impact: 'keep', fields: [] });
  return {
    apiVersion: PLAN_API_VERSION,
    kind: 'StackPlan',
    name: stack.metadata.name,
    namespace: stack.metadata.namespace,
    target: 'kubernetes',
    hasChanges: changes.some(isChange),
    changes: changes.sort(byImpactKindName),
    rolls: rolls.sort((a, b) => a.component.localeCompare(b.component)),
    ...plannedWaves(stack, rolls),
    blockers,
    warnings: warningsOf(stack, previewOf),
  };
}

/** The order a plan lists its changes in, the ones that matter most first; the same plan reads the same. */
const IMPACT_ORDER: ChangeImpact[] = ['immutable', 'recreate', 'rolls', 'in-place', 'create', 'prune', 'keep'];
const byImpactKindName = (a: PlannedChange, b: PlannedChange) =>
  IMPACT_ORDER.indexOf(a.impact) - IMPACT_ORDER.indexOf(b.impact) ||
  a.kind.localeCompare(b.kind) ||
  a.name.localeCompare(b.name);

/** The Loki config of a config ConfigMap, parsed. */
function lokiConfigOf(configMap: KubernetesObject | undefined): Json | undefined {
  const text = (configMap as { data?: Record<string, string> } | undefined)?.data?.['config.yaml'];
  return text === undefined ? undefined : ((parse(text) ?? {}) as Json);
}

function configKeysChanged(preview: ObjectPreview | undefined): string[] {
  if (!preview || !('next' in preview)) return [];
  return changedPaths(lokiConfigOf(preview.live) ?? {}, lokiConfigOf(preview.next) ?? {});
}

interface Container {
  name: string;
  image?: string;
  resources?: unknown;
}

interface Workload {
  metadata?: KubernetesObject['metadata'];
  spec?: {
    replicas?: number;
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: { containers?: Container[]; initContainers?: Container[] };
    };
  };
}

/** Template changes the reasons above already say (the version label changes with the image). */
const EXPLAINED_TEMPLATE_PATHS = [
  /^metadata\.annotations\.loki-microservices\/(config-hash|gateway-config-hash|tls-hash)$/,
  /^metadata\.labels\.app\.kubernetes\.io\/version$/,
  /^spec\.(initContainers|containers)\[\d+\]\.(image|resources)(\.|$)/,
];

/** The pods a workload's change replaces and why, or nothing when its pod template stays as it is. */
function rollOf(
  live: KubernetesObject | undefined,
  next: KubernetesObject,
  lokiConfigKeys: string[],
): PlannedRoll | undefined {
  if (!live) return undefined;
  const before = live as Workload;
  const after = next as Workload;
  const templatePaths = changedPaths(before.spec?.template ?? {}, after.spec?.template ?? {});
  if (templatePaths.length === 0) return undefined;
  const annotation = (object: Workload, key: string) => object.spec?.template?.metadata?.annotations?.[key];
  const changed = (key: string) => annotation(before, key) !== annotation(after, key);
  const containers = (object: Workload) => {
    const pod = object.spec?.template?.spec;
    return new Map([...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].map((c) => [c.name, c]));
  };
  const beforeContainers = containers(before);
  const reasons = [
    ...(changed(CONFIG_HASH_ANNOTATION)
      ? [lokiConfigKeys.length > 0 ? `config: ${lokiConfigKeys.join(', ')}` : 'config']
      : []),
    ...(changed(GATEWAY_CONFIG_HASH_ANNOTATION) ? ['gateway config'] : []),
    ...(changed(TLS_HASH_ANNOTATION) ? ['TLS certificates'] : []),
    ...[...containers(after).values()].flatMap((container) => {
      const old = beforeContainers.get(container.name);
      return [
        ...(old?.image !== container.image ? [`image: ${old?.image ?? 'none'} → ${container.image}`] : []),
        ...(old && JSON.stringify(old.resources) !== JSON.stringify(container.resources)
          ? [`resources of ${container.name}`]
          : []),
      ];
    }),
  ];
  const other = templatePaths.filter((path) => !EXPLAINED_TEMPLATE_PATHS.some((pattern) => pattern.test(path)));
  if (other.length > 0 || reasons.length === 0) reasons.push(`pod template: ${templatePaths.join(', ')}`);
  return {
    component: after.metadata?.labels?.['app.kubernetes.io/component'] ?? after.metadata?.name ?? '',
    workload: `${next.kind} ${next.metadata?.name}`,
    ...(after.metadata?.labels?.[ZONE_LABEL] ? { zone: after.metadata.labels[ZONE_LABEL] } : {}),
    // Pods added by a scale-up start new; pods removed by a scale-down are not replaced.
    pods: Math.min(before.spec?.replicas ?? 1, after.spec?.replicas ?? 1),
    reasons: [...new Set(reasons)],
  };
}

function warningsOf(stack: LokiStack, previewOf: Map<string, ObjectPreview>): StackPlan['warnings'] {
  const config = previewOf.get(keyOf({ kind: 'ConfigMap', name: configMapName(stack) }));
  if (!config || !('next' in config) || !config.live) return [];
  // Every ingester StatefulSet that runs: the one, or one per zone (both while a zone migration runs).
  const live = [...previewOf.values()]
    .map((preview) => preview.live)
    .filter(
      (object) =>
        object?.kind === 'StatefulSet' && object.metadata?.labels?.['app.kubernetes.io/component'] === 'ingester',
    );
  const replicas = (object: KubernetesObject | undefined) => (object as Workload | undefined)?.spec?.replicas ?? 0;
  const desired = stack.spec.components.ingester.replicas * Math.max(1, zonesOf(stack, 'ingester').length);
  return lokiWarnings(
    {
      config: lokiConfigOf(config.live) ?? {},
      ingesters: live.length > 0 ? live.reduce((sum, object) => sum + replicas(object), 0) : desired,
    },
    { config: lokiConfigOf(config.next) ?? {}, ingesters: desired },
  );
}
