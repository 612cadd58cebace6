/**
 * loki-microservices core: the stack spec, the Kubernetes and Nomad renderers, and the operations on a cluster
 * (deploy, status, destroy). Node only; browsers import `loki-microservices/types`; tests that look inside a
 * rendered stack import `loki-microservices/testing`.
 * @packageDocumentation
 */

// The spec: parsing, the inputs the Action and the scaffolder share, and its vocabulary.
export { parseSpec, readSpecDocument, type ParseOptions } from './spec/parse.js';
export { readRuleFiles } from './spec/rule-files.js';
export { specWarnings } from './spec/warnings.js';
export {
  kebabCase,
  parseSpecWithInputs,
  replicaFields,
  STACK_INPUTS,
  stackInputFields,
  storageInputFields,
  withInputs,
  type InputField,
  type ReplicaInput,
  type StackInputName,
  type StorageInputs,
} from './spec/inputs.js';
export { parseTimeoutMs, TIMEOUT_EXAMPLES } from './spec/quantity.js';
export { COMPONENT_NAMES, COMPONENTS, type ComponentName, type ComponentTraits } from './spec/components.js';
export {
  DEFAULT_LOKI_VERSION,
  PROFILES,
  STORAGE_TYPES,
  SUPPORTED_LOKI_MINORS,
  type ComponentSpec,
  type LokiStack,
  type LokiStackInput,
  type ProfileName,
  type Resources,
  type StorageType,
} from './spec/schema.js';
export { ClusterError, ConflictError, SpecError, StackNotFoundError, type SpecIssue } from './errors.js';
export { describeError, redact, REDACTED, registerSecret } from './redact.js';
export { VERSION } from './version.js';
export { quietKnownDeprecations } from './warnings.js';

// A stack on any platform: its name rules, its catalog annotation, its status.
export { assertStackRef, isClusterName, isNamespaceName, isStackName, stackRefProblems } from './stack/names.js';
export {
  formatStackAnnotation,
  parseStackAnnotation,
  STACK_ANNOTATION,
  type StackLocation,
} from './stack/annotation.js';
export {
  activeSchemaPeriod,
  checkSchemaChange,
  DEFAULT_SCHEMA_PERIODS,
  nextSafeSchemaDate,
  SchemaChangeError,
  schemaChangeIssues,
  schemaPeriodIssues,
  schemaPeriodsOf,
  stackSchemaPeriods,
  type SchemaChangeOptions,
  type SchemaPeriod,
} from './stack/schema-periods.js';
export {
  describeRuleCounts,
  describeRuleProblem,
  describeRules,
  describeSchema,
  describeUpgrade,
  type RuleGroupCheck,
  type RulesReport,
  type RulesUnknown,
  type StackUpgrade,
  STATUS_API_VERSION,
  type SchemaPeriodStatus,
  type ComponentStatus,
  type ConditionType,
  type PodProblem,
  type PodState,
  type StackEndpoints,
  type StackStatus,
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

// Kubernetes: render.
export { renderKubernetes, toYaml, type RenderedStack, type RenderOptions } from './kubernetes/render/index.js';
export {
  CREDENTIAL_KEYS,
  credentialsSecretNameOf,
  namingCredentialsSecret,
  withStorageCredentials,
  type StorageCredentials,
} from './kubernetes/render/credentials.js';
export { generatedSecretsNote, writeFileWithin, writeManifests } from './kubernetes/render/manifests.js';
export { flowCollectorLoki } from './kubernetes/render/netobserv.js';

// Kubernetes: operations on a cluster.
export { connect, kubeconfigSecrets, type Connection, type ConnectOptions } from './kubernetes/ops/connection.js';
export {
  configuredClusters,
  connectToCluster,
  DEFAULT_REFUSED_NAMESPACES,
  findCluster,
  namespaceRefusal,
  type ClusterEntry,
  type ConfigReader,
} from './kubernetes/ops/clusters.js';
export type { OptionNames } from './kubernetes/ops/option-names.js';
export {
  deployStack,
  describeTimeline,
  describeWave,
  verifyStack,
  type WaveTiming,
  type DeployOptions,
  type DeployTimeline,
  type DeployPhase,
  type DeployResult,
  type PhaseListener,
  type Verified,
  type VerifyOptions,
} from './kubernetes/ops/deploy.js';
export {
  actionCounts,
  applyStack,
  describeAdoption,
  describeGeneratedSecret,
  ForeignObjectsError,
  type AppliedObject,
  type AppliedWave,
  type WaveRollout,
  type ApplyOptions,
  type ApplyResult,
  type ObjectAction,
} from './kubernetes/ops/apply.js';
export { ImmutableFieldError } from './kubernetes/ops/immutable.js';
export { ZoneMigrationRefusedError } from './kubernetes/ops/zone-migration.js';
export { describeRecreation, type ClaimExpansion, type Recreation } from './kubernetes/ops/recreate.js';
export { planStack, type PlanOptions } from './kubernetes/ops/plan.js';
export { formatPlanMarkdown, formatPlanText, planSummary } from './stack/plan-format.js';
export { StackLockedError } from './kubernetes/ops/lock.js';
export { NotReadyError, waitForStack, type WaitOptions, type WaitResult } from './kubernetes/ops/wait.js';
export {
  ingesterRing,
  preflightUpgrade,
  UpgradeNotReadyError,
  type PreflightOptions,
  type RingMember,
} from './kubernetes/ops/preflight.js';
export {
  checkUpgrade,
  describePreflight,
  describeReleaseNote,
  parseLokiRelease,
  upgradeTestIssue,
  versionIssue,
  UpgradeRefusedError,
  type UpgradeCheck,
  type UpgradeRules,
  type VersionStep,
} from './stack/upgrade.js';
export { LOKI_RELEASE_ITEMS, releaseNotesBetween, type ReleaseNote } from './stack/loki-releases.js';
export {
  MAX_LINES,
  pushLines,
  readLines,
  smokeOptionsOf,
  smokeTest,
  SmokeTestError,
  type LinesOptions,
  type LinesRead,
  type PushedLines,
  type SmokeOptions,
  type SmokeResult,
} from './kubernetes/ops/smoke.js';
export {
  describeLinesRead,
  upgradeTest,
  UpgradeTestError,
  type UpgradeDeployOptions,
  type UpgradeStepListener,
  type UpgradeTestOptions,
  type UpgradeTestReport,
} from './kubernetes/ops/upgrade-test.js';
export { getStackState, getStackStatus, type StackRef, type StackState } from './kubernetes/ops/status.js';
export { stackEndpoints } from './kubernetes/ops/stack-status.js';
export { rulesReport } from './kubernetes/ops/rules-check.js';
export type { DeclaredRuleFile } from './stack/rule-files.js';
export { forwardStack, type ForwardOptions, type LocalForward } from './kubernetes/ops/forward.js';
export { diagnose, type Diagnosis } from './kubernetes/ops/diagnose.js';
export { writeDiagnostics, type DiagnosticsOptions } from './kubernetes/ops/diagnostics.js';
export { destroyStack, type DestroyOptions, type DestroyResult } from './kubernetes/ops/destroy.js';
export { until, type RetryPolicy } from './kubernetes/ops/retry.js';

// Nomad: render and operations.
export { renderNomad, type RenderedNomadJob } from './nomad/render/index.js';
export { NomadApiError, NomadClient, type NomadConnectionOptions } from './nomad/ops/client.js';
export {
  applyNomadJob,
  NomadWaveFailedError,
  type NomadApplyOptions,
  type NomadApplyResult,
  type NomadRollout,
  type NomadWaveResult,
  type NomadWaveStart,
} from './nomad/ops/apply.js';
export { getNomadStatus, NomadJobNotFoundError, type NomadStackRef } from './nomad/ops/status.js';
export { NomadNotReadyError, waitForNomadJob, type NomadWaitOptions } from './nomad/ops/wait.js';
export { destroyNomadJob, type NomadDestroyResult } from './nomad/ops/destroy.js';
export { planNomadJob } from './nomad/ops/plan.js';
export { wavesOf, wavesOfComponents, type Wave } from './stack/waves.js';
