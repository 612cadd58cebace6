/**
 * Browser-safe entry: types and plain constants only, no Node built-ins and no runtime dependencies.
 * The Backstage frontend imports this; everything else imports the main entry.
 * @packageDocumentation
 */
export { COMPONENT_NAMES, COMPONENTS, type ComponentName, type ComponentTraits } from './spec/components.js';
export type { LokiStack, LokiStackInput, ProfileName, StorageType } from './spec/schema.js';
export type { SpecIssue } from './errors.js';
export type {
  ComponentStatus,
  ConditionType,
  PodProblem,
  PodState,
  RuleGroupCheck,
  RulesReport,
  RulesUnknown,
  SchemaPeriodStatus,
  StackStatus,
  StackUpgrade,
} from './stack/status-model.js';
export {
  describeRuleCounts,
  describeRuleProblem,
  describeRules,
  describeSchema,
  describeUpgrade,
} from './stack/status-model.js';
export {
  PLAN_API_VERSION,
  type ChangeImpact,
  type PlanBlocker,
  type PlannedChange,
  type PlannedRoll,
  type PlannedWave,
  type PlanWarning,
  type PlanWarningCode,
  type StackPlan,
} from './stack/plan-model.js';
export {
  formatStackAnnotation,
  parseStackAnnotation,
  STACK_ANNOTATION,
  type StackLocation,
} from './stack/annotation.js';
