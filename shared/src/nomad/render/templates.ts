// The `template` blocks of a task: the Loki config, the object-store credentials (Vault or a Nomad
// Variable, rendered into the task's secrets directory, never into the job) and the Vault PKI
// certificates for gRPC mTLS. Each renders a file the Loki config or the task's `env` refers to.
import { ENV, SECRET_KEYS } from '../../stack/object-store.js';
import { tenantRules } from '../../stack/rule-files.js';
import { RUNTIME_CONFIG_FILE } from '../../stack/runtime-config.js';
import { NOMAD_RULE_DELIMITERS } from '../../spec/rules.js';
import type { LokiStack } from '../../spec/schema.js';
import { attributes, block, heredoc, type HclBlock } from './hcl.js';
import { jobId, runtimeVariablePath, TASK_PATHS } from './common.js';
import { nomadLokiConfigTemplate, tlsServerName } from './loki-config.js';

function template(destination: string, data: string, extra: Record<string, string | boolean> = {}): HclBlock {
  return block('template', [], attributes({ destination, change_mode: 'restart', ...extra, data: heredoc(data) }));
}

const configTemplates = new WeakMap<LokiStack, HclBlock>();

/** The same for every group: made once per stack (stacks are never mutated). */
export function configTemplate(stack: LokiStack): HclBlock {
  let block = configTemplates.get(stack);
  if (!block) {
    block = template(TASK_PATHS.configFile, nomadLokiConfigTemplate(stack));
    configTemplates.set(stack, block);
  }
  return block;
}

const runtimeTemplates = new WeakMap<LokiStack, HclBlock>();

/**
 * Per-tenant overrides, read from the job's Nomad Variable (item `runtime.yaml`, written by apply) rather
 * than embedded: Nomad replaces every allocation when a task's templates change in the job
 * (scheduler/util.go tasksUpdated), but only re-renders the file when the data a template reads changes.
 * Loki re-reads the file every `runtime_config.period`, so that re-render restarts nothing (`noop`).
 * The job text is the same whatever the overrides are. Without the variable or its item (apply not run yet,
 * variable deleted) the file is an empty overrides map: `nomadVar` alone would wait for the variable.
 * Item values are data to consul-template, never parsed as template text.
 */
export function runtimeConfigTemplate(stack: LokiStack): HclBlock {
  let block = runtimeTemplates.get(stack);
  if (!block) {
    const path = JSON.stringify(runtimeVariablePath(jobId(stack)));
    const text =
      `{{ $runtime := "" }}{{ if nomadVarExists ${path} }}{{ with nomadVar ${path} }}` +
      `{{ $runtime = (index . "${RUNTIME_CONFIG_FILE}").Value }}{{ end }}{{ end }}` +
      `{{ or $runtime "overrides: {}" }}\n`;
    block = template(TASK_PATHS.runtimeConfigFile, text, { change_mode: 'noop' });
    runtimeTemplates.set(stack, block);
  }
  return block;
}

/**
 * The declared rule files of the ruler, at `local/rules/<tenant>/<file>`. Rule files carry Prometheus templates
 * (`{{ $labels.job }}`) for Loki to expand when an alert fires: the template stanza takes other delimiters
 * (which the spec refuses in rules), so consul-template writes the text as it is. Loki re-reads the directory
 * every poll_interval (`noop`); a change of the text in the job still replaces the ruler's allocations.
 */
export function ruleTemplates(stack: LokiStack): HclBlock[] {
  return tenantRules(stack).flatMap(({ tenant, files }) =>
    files.map((file) =>
      template(`${TASK_PATHS.rulesDir}/${tenant}/${file.name}`, file.text, {
        change_mode: 'noop',
        left_delimiter: NOMAD_RULE_DELIMITERS.left,
        right_delimiter: NOMAD_RULE_DELIMITERS.right,
      }),
    ),
  );
}

/** consul-template text that reads one key of the stack's credentials. */
function credentialReader(stack: LokiStack): (key: string) => string {
  const credentials = stack.spec.nomad.credentials!;
  const item = (key: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `index . "${key}"`);
  return credentials.source === 'vault'
    ? (key) => `{{ with secret "${credentials.path}" }}{{ index .Data.data "${key}" }}{{ end }}`
    : (key) => `{{ with nomadVar "${credentials.path}" }}{{ ${item(key)} }}{{ end }}`;
}

/** Templates that deliver the object-store credentials, for the components that touch the store. */
export function credentialTemplates(stack: LokiStack): HclBlock[] {
  if (!stack.spec.nomad.credentials) return [];
  const read = credentialReader(stack);
  const envFile = (lines: [string, string][]) =>
    template(TASK_PATHS.credentialsEnv, lines.map(([variable, key]) => `${variable}=${read(key)}\n`).join(''), {
      env: true,
      perms: '0600',
    });
  switch (stack.spec.storage.type) {
    case 's3':
      return [
        envFile([
          [ENV.s3AccessKeyId, SECRET_KEYS.s3AccessKeyId],
          [ENV.s3SecretAccessKey, SECRET_KEYS.s3SecretAccessKey],
        ]),
      ];
    case 'azure':
      return [envFile([[ENV.azureAccountKey, SECRET_KEYS.azureAccountKey]])];
    case 'gcs':
      return [template(TASK_PATHS.gcsKeyFile, read(SECRET_KEYS.gcsKeyFile), { perms: '0600' })];
    case 'bundled':
      return [];
  }
}

/**
 * Certificate, key and CA from one Vault PKI issue call: the three templates make the identical
 * `secret` call, which Nomad's template runner fetches once and shares, so the files always match.
 */
export function tlsTemplates(stack: LokiStack): HclBlock[] {
  const { tls } = stack.spec.nomad;
  if (!tls.enabled) return [];
  const issue = `secret "${tls.pkiIssuePath}" "common_name=${tlsServerName(stack)}" "ttl=${tls.ttl}"`;
  const file = (name: string, field: string, perms: string) =>
    template(`${TASK_PATHS.tlsDir}/${name}`, `{{ with ${issue} }}{{ .Data.${field} }}{{ end }}`, { perms });
  return [
    file('ca.pem', 'issuing_ca', '0644'),
    file('cert.pem', 'certificate', '0644'),
    file('key.pem', 'private_key', '0600'),
  ];
}
