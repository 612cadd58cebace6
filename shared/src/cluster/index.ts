// The cluster half of the core: apply, wait, status, smoke test and destroy, through @kubernetes/client-node.
export { applyStack, describeAdoption, describeGeneratedSecret, ForeignObjectsError, type AppliedObject, type ApplyOptions, type ApplyResult, type ObjectAction } from './apply.js';
export { connect, DEFAULT_REQUEST_TIMEOUT_MS, type Connection, type ConnectOptions } from './connection.js';
export { deployStack, SMOKE_MIN_MS, summarizeApply, verifyStack, type DeployOptions, type DeployPhase, type DeployResult, type PhaseListener, type Verified, type VerifyOptions } from './deploy.js';
export { destroyStack, type DestroyOptions, type DestroyResult } from './destroy.js';
export { diagnose, formatDiagnosis, type Diagnosis } from './diagnose.js';
export { LOCK_DURATION_SECONDS, lockName, StackLockedError } from './lock.js';
export { CLI_OPTION_NAMES, type OptionNames } from './option-names.js';
export { DEFAULT_RETRY, until, type RetryPolicy } from './retry.js';
export { smokeOptionsOf, smokePassed, smokeTenant, smokeTest, SmokeTestError, type SmokeOptions, type SmokeResult } from './smoke.js';
export { getStackStatus, type StackRef } from './status.js';
export * from './status-model.js';
export { NotReadyError, waitForStack, type WaitOptions, type WaitResult } from './wait.js';
export { configuredClusters, connectToCluster, DEFAULT_REFUSED_NAMESPACES, findCluster, namespaceRefusal, type ClusterEntry, type ConfigReader } from './clusters.js';
