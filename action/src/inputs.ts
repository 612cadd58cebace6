// The Action's inputs, read and checked before anything touches a cluster. Inline inputs become spec fields
// over the spec file, so they get the spec's own validation; its messages name the input that set a field.
// Credentials are masked the moment they are read.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as core from '@actions/core';
import {
  COMPONENT_NAMES,
  kebabCase,
  kubeconfigSecrets,
  MAX_LINES,
  namingCredentialsSecret,
  parseTimeoutMs,
  parseSpecWithInputs,
  readRuleFiles,
  readSpecDocument,
  replicaFields,
  type ReplicaInput,
  STACK_INPUTS,
  stackInputFields,
  storageInputFields,
  SpecError,
  TIMEOUT_EXAMPLES,
  upgradeTestIssue,
  withInputs,
  withStorageCredentials,
  type InputField,
  type LokiStack,
  type OptionNames,
  type StorageCredentials,
} from 'loki-microservices';

export const COMMANDS = ['deploy', 'plan', 'render', 'status', 'destroy', 'upgrade-test'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** The Action's inputs that the core's messages may advise. */
export const ACTION_OPTION_NAMES: OptionNames = {
  adopt: 'adopt: true',
  deleteVolumes: 'delete-volumes: true',
  allowDowngrade: 'allow-downgrade: true',
  allowSkip: 'allow-skip: true',
};

export interface Inputs {
  command: CommandName;
  stack: LokiStack;
  credentials: StorageCredentials;
  /** A kubeconfig file (the input's, or one written from its content); undefined = the runner's default. */
  kubeconfig?: string;
  context?: string;
  wait: boolean;
  timeoutMs: number;
  smokeTest: boolean;
  cleanup: boolean;
  deleteVolumes: boolean;
  adopt: boolean;
  outputDir: string;
  /** How later steps reach the stack: `port-forward` (local URLs) or `none`. */
  expose: Expose;
  /** When deploy writes diagnostics files, and where. */
  diagnostics: (typeof DIAGNOSTICS_MODES)[number];
  diagnosticsDir: string;
  /** Accept a change of Loki version to an older minor, or past one minor or more. */
  allowDowngrade: boolean;
  allowSkip: boolean;
  /** upgrade-test: the stack at the version to upgrade from, and how many lines to push before the upgrade. */
  upgrade?: { from: LokiStack; lines: number };
}

const DIAGNOSTICS_MODES = ['on-failure', 'always', 'never'] as const;

export type Expose = 'port-forward' | 'none';
const EXPOSE_MODES = ['port-forward', 'none'] as const;

/** An input is wrong: the message names it and says what would be right. */
export class InputError extends Error {
  override name = 'InputError';
}

/** The names of the storage inputs. */
const STORAGE_INPUT_NAMES = {
  type: 'storage-type',
  bucket: 'bucket',
  region: 'region',
  endpoint: 'endpoint',
  accountName: 'azure-account-name',
  secretName: 'secret-name',
};

/** Spec fields set by inline inputs, and which input set each (for error messages). */
type Fields = InputField[];

export async function readInputs(): Promise<Inputs> {
  const credentials = readCredentials();
  const command = oneOf('command', COMMANDS);
  const wait = boolean('wait');
  const timeout = core.getInput('timeout');
  const timeoutMs = parseTimeoutMs(timeout);
  if (timeoutMs === undefined) throw new InputError(`input "timeout" must be ${TIMEOUT_EXAMPLES}, not "${timeout}"`);
  const { stack, at } = await readStack(credentials);
  const allowDowngrade = boolean('allow-downgrade');
  const allowSkip = boolean('allow-skip');
  return {
    command,
    stack,
    credentials,
    ...(await readKubeconfig()),
    wait,
    timeoutMs,
    smokeTest: boolean('smoke-test'),
    cleanup: boolean('cleanup'),
    deleteVolumes: boolean('delete-volumes'),
    adopt: boolean('adopt'),
    outputDir: resolve(core.getInput('output-dir') || 'loki-manifests'),
    expose: readExpose(command),
    diagnostics: oneOf('diagnostics', DIAGNOSTICS_MODES),
    diagnosticsDir: resolve(
      core.getInput('diagnostics-dir') || join(process.env.RUNNER_TEMP ?? '.', 'loki-diagnostics'),
    ),
    allowDowngrade,
    allowSkip,
    ...(command === 'upgrade-test' ? { upgrade: readUpgrade(stack, at, { allowDowngrade, allowSkip }) } : {}),
  };
}

/** upgrade-test's inputs: a version to upgrade from that the spec accepts and the version rules allow, and a count. */
function readUpgrade(
  stack: LokiStack,
  at: (version: string, input: string) => LokiStack,
  rules: { allowDowngrade: boolean; allowSkip: boolean },
): { from: LokiStack; lines: number } {
  const version = core.getInput('upgrade-from');
  if (!version)
    throw new InputError(
      `input "upgrade-from" is required by command upgrade-test: the Loki version to deploy first, e.g. 3.6.2 (the upgrade goes to input "version" or spec.version, now ${stack.spec.version})`,
    );
  const from = at(version, 'upgrade-from');
  if (from.spec.version === stack.spec.version)
    throw new InputError(
      `input "upgrade-from" must differ from the version upgraded to (input "version" or spec.version): both are ${from.spec.version}`,
    );
  const issue = upgradeTestIssue(from.spec.version, stack.spec.version, rules, ACTION_OPTION_NAMES);
  if (issue) throw new InputError(`input "upgrade-from": ${issue.message}`);
  const text = core.getInput('upgrade-lines');
  const lines = Number(text);
  if (!/^\d+$/.test(text) || lines < 1 || lines > MAX_LINES)
    throw new InputError(`input "upgrade-lines" must be a whole number from 1 to ${MAX_LINES}, not "${text}"`);
  return { from, lines };
}

/**
 * Local URLs for later steps by default when deploying from a runner outside the cluster; a runner in a pod
 * of the cluster (KUBERNETES_SERVICE_HOST set, e.g. Actions Runner Controller) reaches the in-cluster URLs.
 */
function readExpose(command: CommandName): Expose {
  if (core.getInput('expose')) return oneOf('expose', EXPOSE_MODES);
  return command === 'deploy' && !process.env.KUBERNETES_SERVICE_HOST ? 'port-forward' : 'none';
}

/** The credential inputs, masked at once, by the Secret key they fill. */
function readCredentials(): StorageCredentials {
  const read = (input: string) => {
    const value = core.getInput(input);
    if (value) core.setSecret(value);
    return value || undefined;
  };
  const credentials: StorageCredentials = {
    AWS_ACCESS_KEY_ID: read('access-key-id'),
    AWS_SECRET_ACCESS_KEY: read('secret-access-key'),
    'key.json': read('gcs-key'),
    AZURE_STORAGE_ACCOUNT_KEY: read('azure-account-key'),
  };
  return Object.fromEntries(Object.entries(credentials).filter(([, value]) => value)) as StorageCredentials;
}

const CREDENTIAL_INPUTS: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'access-key-id',
  AWS_SECRET_ACCESS_KEY: 'secret-access-key',
  'key.json': 'gcs-key',
  AZURE_STORAGE_ACCOUNT_KEY: 'azure-account-key',
};

/** The stack of the inputs, and the same stack at another version (set by `input`, which messages name). */
async function readStack(
  credentials: StorageCredentials,
): Promise<{ stack: LokiStack; at: (version: string, input: string) => LokiStack }> {
  const file = core.getInput('spec');
  let document: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(resolve(file), 'utf8');
    } catch (error) {
      throw new InputError(
        `input "spec": cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      );
    }
    try {
      document = readSpecDocument(text, file);
    } catch (error) {
      if (error instanceof SpecError) throw new InputError(`input "spec": ${error.message}`);
      throw error;
    }
  }
  const prepare = Object.keys(credentials).length > 0 ? namingCredentialsSecret : undefined;
  const parse = (fields: Fields) => {
    try {
      const stack = parseSpecWithInputs(document, fields, prepare);
      withStorageCredentials(stack, credentials); // only to check them here: apply renders them into their Secret
      return stack;
    } catch (error) {
      if (error instanceof SpecError) throw new InputError(describeIssues(error));
      throw error;
    }
  };
  let fields: Fields;
  try {
    fields = inlineFields(document);
    // The input's glob is relative to the workspace, the spec file's globs to the spec file.
    const rules = fields.filter((field) => field.input === 'rules');
    const rulesDir = rules.length > 0 || !file ? process.cwd() : dirname(resolve(file));
    document = await readRuleFiles(withInputs(document, rules), rulesDir);
  } catch (error) {
    if (error instanceof SpecError) throw new InputError(describeIssues(error));
    throw error;
  }
  return {
    stack: parse(fields),
    at: (version, input) =>
      parse([
        ...fields.filter((field) => field.path !== 'spec.version'),
        { path: 'spec.version', value: version, input },
      ]),
  };
}

function inlineFields(document: Record<string, unknown>): Fields {
  const values = Object.fromEntries(
    Object.entries(STACK_INPUTS).map(([name, { type }]) => [
      name,
      type === 'boolean' ? optionalBoolean(kebabCase(name)) : core.getInput(kebabCase(name)),
    ]),
  );
  const storage = {
    type: core.getInput('storage-type'),
    bucket: core.getInput('bucket'),
    region: core.getInput('region'),
    endpoint: core.getInput('endpoint'),
    accountName: core.getInput('azure-account-name'),
    secretName: core.getInput('secret-name'),
  };
  return [
    ...stackInputFields(values, kebabCase),
    ...storageInputFields(document, storage, STORAGE_INPUT_NAMES),
    ...replicaFields(Object.fromEntries(replicaOverrides()), 'replicas'),
  ];
}

/** A switch that may be left empty for the spec's own setting ('' = not given). */
function optionalBoolean(input: string): boolean | '' {
  const value = core.getInput(input);
  if (value && !/^(true|false)$/i.test(value))
    throw new InputError(`input "${input}" must be true or false (or empty for the spec's setting), not "${value}"`);
  return value && value.toLowerCase() === 'true';
}

function replicaOverrides(): [string, ReplicaInput][] {
  const text = core.getInput('replicas');
  if (!text) return [];
  return text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^([A-Za-z]+)\s*=\s*(\d+)(?:\s*-\s*(\d+))?$/.exec(entry);
      if (!match)
        throw new InputError(
          `input "replicas": "${entry}" must be component=count or component=min-max, e.g. ingester=3, querier=2-10`,
        );
      if (!(COMPONENT_NAMES as readonly string[]).includes(match[1]!))
        throw new InputError(
          `input "replicas": unknown component "${match[1]}"; components: ${COMPONENT_NAMES.join(', ')}`,
        );
      const count = Number(match[2]);
      return [match[1]!, match[3] === undefined ? count : { min: count, max: Number(match[3]) }];
    });
}

/** The spec's messages (which name the input that set a field), credential keys as their inputs. */
function describeIssues(error: SpecError): string {
  const lines = error.issues.map((issue) => {
    const credential = /^credentials\.(.+)$/.exec(issue.path)?.[1];
    if (credential)
      return `  - input "${CREDENTIAL_INPUTS[credential] ?? credential}": ${issue.message.replace(/\b(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|key\.json|AZURE_STORAGE_ACCOUNT_KEY)\b/g, (key) => `"${CREDENTIAL_INPUTS[key]}"`)}`;
    if (issue.path === 'credentials')
      return `  - inputs ${Object.values(CREDENTIAL_INPUTS)
        .map((input) => `"${input}"`)
        .join(', ')}: ${issue.message}`;
    return `  - ${issue.path}: ${issue.message}`;
  });
  return `invalid stack spec:\n${lines.join('\n')}`;
}

/**
 * The kubeconfig input: a path, or the kubeconfig itself (written to a private file). Whichever kubeconfig the
 * steps will use (this one, or the runner's $KUBECONFIG or ~/.kube/config), its credentials are masked in the
 * job's log before anything can print them.
 */
async function readKubeconfig(): Promise<{ kubeconfig?: string; context?: string }> {
  const value = core.getInput('kubeconfig');
  const context = core.getInput('context') || undefined;
  if (!value.includes('\n')) {
    const kubeconfig = value ? resolve(value) : undefined;
    for (const secret of kubeconfigSecrets({ path: kubeconfig })) core.setSecret(secret);
    return { kubeconfig, context };
  }
  for (const secret of kubeconfigSecrets({ text: value })) core.setSecret(secret);
  const directory = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'loki-microservices-'));
  const path = join(directory, 'kubeconfig');
  await writeFile(path, value, { mode: 0o600 });
  return { kubeconfig: path, context };
}

function boolean(input: string): boolean {
  try {
    return core.getBooleanInput(input);
  } catch {
    throw new InputError(`input "${input}" must be true or false, not "${core.getInput(input)}"`);
  }
}

function oneOf<T extends string>(input: string, values: readonly T[]): T {
  const value = core.getInput(input) || values[0]!;
  if (!(values as readonly string[]).includes(value))
    throw new InputError(`input "${input}" must be one of ${values.join(', ')}, not "${value}"`);
  return value as T;
}
