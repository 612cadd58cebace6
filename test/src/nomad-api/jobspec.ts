// POST /v1/jobs/parse: a job file as Nomad's jobspec2 decodes it into the API's Job, before Canonicalize.
// Fields that are pointers in Nomad's Go API are null when the file leaves them out; the others take Go's
// zero value. Unknown attributes and blocks are ignored (Nomad refuses them: see README.md).
import { parseFailure, parseHcl, Block, Source } from './hcl.js';
import type { Json } from './json.js';

type Kind = 'string' | 'int' | 'bool' | 'duration' | 'strings' | 'map';
/** [API field, HCL name, kind, pointer in Go's API]. */
type Field = readonly [string, string, Kind, boolean?];

const ZERO: Record<Kind, unknown> = { string: '', int: 0, bool: false, duration: 0, strings: null, map: null };

function read(block: Block, name: string, kind: Kind): unknown {
  switch (kind) {
    case 'string':
      return block.string(name);
    case 'int':
      return block.number(name);
    case 'bool':
      return block.bool(name);
    case 'duration':
      return block.duration(name);
    case 'strings':
      return block.strings(name);
    case 'map':
      return block.stringMap(name);
  }
}

function fields(block: Block, spec: readonly Field[]): Json {
  return Object.fromEntries(
    spec.map(([key, name, kind, pointer]) => [key, read(block, name, kind) ?? (pointer ? null : ZERO[kind])]),
  );
}

const optional = (block: Block | undefined, decode: (block: Block) => Json): Json | null =>
  block ? decode(block) : null;
const list = (blocks: Block[], decode: (block: Block) => Json): Json[] | null =>
  blocks.length > 0 ? blocks.map(decode) : null;

const UPDATE: readonly Field[] = [
  ['Stagger', 'stagger', 'duration', true],
  ['MaxParallel', 'max_parallel', 'int', true],
  ['HealthCheck', 'health_check', 'string', true],
  ['MinHealthyTime', 'min_healthy_time', 'duration', true],
  ['HealthyDeadline', 'healthy_deadline', 'duration', true],
  ['ProgressDeadline', 'progress_deadline', 'duration', true],
  ['Canary', 'canary', 'int', true],
  ['AutoRevert', 'auto_revert', 'bool', true],
  ['AutoPromote', 'auto_promote', 'bool', true],
];
const RESTART: readonly Field[] = [
  ['Interval', 'interval', 'duration', true],
  ['Attempts', 'attempts', 'int', true],
  ['Delay', 'delay', 'duration', true],
  ['Mode', 'mode', 'string', true],
  ['RenderTemplates', 'render_templates', 'bool', true],
];
const RESCHEDULE: readonly Field[] = [
  ['Attempts', 'attempts', 'int', true],
  ['Interval', 'interval', 'duration', true],
  ['Delay', 'delay', 'duration', true],
  ['DelayFunction', 'delay_function', 'string', true],
  ['MaxDelay', 'max_delay', 'duration', true],
  ['Unlimited', 'unlimited', 'bool', true],
];
const MIGRATE: readonly Field[] = [
  ['MaxParallel', 'max_parallel', 'int', true],
  ['HealthCheck', 'health_check', 'string', true],
  ['MinHealthyTime', 'min_healthy_time', 'duration', true],
  ['HealthyDeadline', 'healthy_deadline', 'duration', true],
];
const EPHEMERAL_DISK: readonly Field[] = [
  ['Sticky', 'sticky', 'bool', true],
  ['Migrate', 'migrate', 'bool', true],
  ['SizeMB', 'size', 'int', true],
];
const RESOURCES: readonly Field[] = [
  ['CPU', 'cpu', 'int', true],
  ['Cores', 'cores', 'int', true],
  ['MemoryMB', 'memory', 'int', true],
  ['MemoryMaxMB', 'memory_max', 'int', true],
  ['DiskMB', 'disk', 'int', true],
];
const LOGS: readonly Field[] = [
  ['MaxFiles', 'max_files', 'int', true],
  ['MaxFileSizeMB', 'max_file_size', 'int', true],
  ['Disabled', 'disabled', 'bool', true],
];
const VAULT: readonly Field[] = [
  ['Policies', 'policies', 'strings'],
  ['Role', 'role', 'string'],
  ['Namespace', 'namespace', 'string', true],
  ['Cluster', 'cluster', 'string'],
  ['Env', 'env', 'bool', true],
  ['DisableFile', 'disable_file', 'bool', true],
  ['ChangeMode', 'change_mode', 'string', true],
  ['ChangeSignal', 'change_signal', 'string', true],
  ['AllowTokenExpiration', 'allow_token_expiration', 'bool', true],
];
const TEMPLATE: readonly Field[] = [
  ['SourcePath', 'source', 'string', true],
  ['DestPath', 'destination', 'string', true],
  ['EmbeddedTmpl', 'data', 'string', true],
  ['ChangeMode', 'change_mode', 'string', true],
  ['ChangeSignal', 'change_signal', 'string', true],
  ['Splay', 'splay', 'duration', true],
  ['Perms', 'perms', 'string', true],
  ['Uid', 'uid', 'int', true],
  ['Gid', 'gid', 'int', true],
  ['LeftDelim', 'left_delimiter', 'string', true],
  ['RightDelim', 'right_delimiter', 'string', true],
  ['Envvars', 'env', 'bool', true],
  ['VaultGrace', 'vault_grace', 'duration', true],
  ['ErrMissingKey', 'error_on_missing_key', 'bool', true],
  ['Once', 'once', 'bool', true],
];
const VOLUME_MOUNT: readonly Field[] = [
  ['Volume', 'volume', 'string', true],
  ['Destination', 'destination', 'string', true],
  ['ReadOnly', 'read_only', 'bool', true],
  ['PropagationMode', 'propagation_mode', 'string', true],
  ['SELinuxLabel', 'selinux_label', 'string', true],
];
const VOLUME: readonly Field[] = [
  ['Type', 'type', 'string'],
  ['Source', 'source', 'string'],
  ['ReadOnly', 'read_only', 'bool'],
  ['Sticky', 'sticky', 'bool'],
  ['AccessMode', 'access_mode', 'string'],
  ['AttachmentMode', 'attachment_mode', 'string'],
  ['PerAlloc', 'per_alloc', 'bool'],
];
const CHECK: readonly Field[] = [
  ['Name', 'name', 'string'],
  ['Type', 'type', 'string'],
  ['Command', 'command', 'string'],
  ['Args', 'args', 'strings'],
  ['Path', 'path', 'string'],
  ['Protocol', 'protocol', 'string'],
  ['PortLabel', 'port', 'string'],
  ['Expose', 'expose', 'bool'],
  ['AddressMode', 'address_mode', 'string'],
  ['Advertise', 'advertise', 'string'],
  ['Interval', 'interval', 'duration'],
  ['Timeout', 'timeout', 'duration'],
  ['InitialStatus', 'initial_status', 'string'],
  ['Notes', 'notes', 'string'],
  ['TLSServerName', 'tls_server_name', 'string'],
  ['TLSSkipVerify', 'tls_skip_verify', 'bool'],
  ['Method', 'method', 'string'],
  ['GRPCService', 'grpc_service', 'string'],
  ['GRPCUseTLS', 'grpc_use_tls', 'bool'],
  ['TaskName', 'task', 'string'],
  ['SuccessBeforePassing', 'success_before_passing', 'int'],
  ['FailuresBeforeCritical', 'failures_before_critical', 'int'],
  ['FailuresBeforeWarning', 'failures_before_warning', 'int'],
  ['Body', 'body', 'string'],
  ['OnUpdate', 'on_update', 'string'],
];
const CHECK_RESTART: readonly Field[] = [
  ['Limit', 'limit', 'int'],
  ['Grace', 'grace', 'duration', true],
  ['IgnoreWarnings', 'ignore_warnings', 'bool'],
];
const SERVICE: readonly Field[] = [
  ['Name', 'name', 'string'],
  ['Tags', 'tags', 'strings'],
  ['CanaryTags', 'canary_tags', 'strings'],
  ['EnableTagOverride', 'enable_tag_override', 'bool'],
  ['PortLabel', 'port', 'string'],
  ['AddressMode', 'address_mode', 'string'],
  ['Address', 'address', 'string'],
];
const SERVICE_TAIL: readonly Field[] = [
  ['TaskName', 'task', 'string'],
  ['OnUpdate', 'on_update', 'string'],
  ['Provider', 'provider', 'string'],
  ['Cluster', 'cluster', 'string'],
  ['Kind', 'kind', 'string'],
];
const ARTIFACT: readonly Field[] = [
  ['GetterSource', 'source', 'string', true],
  ['GetterOptions', 'options', 'map'],
  ['GetterHeaders', 'headers', 'map'],
  ['GetterMode', 'mode', 'string', true],
  ['GetterInsecure', 'insecure', 'bool', true],
  ['RelativeDest', 'destination', 'string', true],
  ['Chown', 'chown', 'bool'],
];

/** The job of a job file, as POST /v1/jobs/parse answers with Canonicalize false. */
export async function parseJobFile(text: string): Promise<Json> {
  const source = new Source(text);
  const file = new Block(await parseHcl(text), '', source);
  const jobs = file.labelled('job');
  if (jobs.length === 0) throw parseFailure('input.hcl:1,1-1: Missing job block; A job block is required.');
  if (jobs.length > 1) {
    const [second, first] = [jobs[1]![1].offset, jobs[0]![1].offset].map((offset) => lineOf(text, offset));
    throw parseFailure(
      `input.hcl:${second},1-4: Duplicate job block; Only one job block is allowed. Another was defined at input.hcl:${first},1-4.`,
    );
  }
  const [name, body] = jobs[0]!;
  return job(name, body);
}

const lineOf = (text: string, offset: number) =>
  text.slice(0, Number.isFinite(offset) ? offset + 1 : 0).split('\n').length;

function job(name: string, block: Block): Json {
  const vault = optional(block.block('vault'), (b) => fields(b, VAULT));
  return {
    Region: block.string('region') ?? null,
    Namespace: block.string('namespace') ?? null,
    ID: block.string('id') ?? name,
    Name: block.string('name') ?? name,
    Type: block.string('type') ?? null,
    Priority: block.number('priority') ?? null,
    AllAtOnce: block.bool('all_at_once') ?? null,
    Datacenters: block.strings('datacenters') ?? null,
    NodePool: block.string('node_pool') ?? null,
    Constraints: list(block.blocks('constraint'), constraint),
    Affinities: list(block.blocks('affinity'), affinity),
    TaskGroups: block.labelled('group').map(([label, group]) => taskGroup(label, group, vault)),
    Update: optional(block.block('update'), (b) => fields(b, UPDATE)),
    Multiregion: null,
    Spreads: list(block.blocks('spread'), spread),
    Periodic: optional(block.block('periodic'), periodic),
    ParameterizedJob: optional(block.block('parameterized'), (b) => ({
      Payload: b.string('payload') ?? '',
      MetaRequired: b.strings('meta_required') ?? null,
      MetaOptional: b.strings('meta_optional') ?? null,
    })),
    Reschedule: optional(block.block('reschedule'), (b) => fields(b, RESCHEDULE)),
    Migrate: optional(block.block('migrate'), (b) => fields(b, MIGRATE)),
    Meta: block.stringMap('meta') ?? null,
    ConsulToken: block.string('consul_token') ?? null,
    VaultToken: block.string('vault_token') ?? null,
    Stop: null,
    ParentID: null,
    Dispatched: false,
    DispatchIdempotencyToken: null,
    Payload: null,
    ConsulNamespace: null,
    VaultNamespace: null,
    NomadTokenID: null,
    Status: null,
    StatusDescription: null,
    Stable: null,
    Version: null,
    SubmitTime: null,
    CreateIndex: null,
    ModifyIndex: null,
    JobModifyIndex: null,
  };
}

function periodic(block: Block): Json {
  const crons = block.strings('crons');
  return {
    Enabled: block.bool('enabled') ?? null,
    Spec: block.string('cron') ?? crons ?? null,
    // jobspec2 sets the one spec type there is.
    SpecType: 'cron',
    ProhibitOverlap: block.bool('prohibit_overlap') ?? null,
    TimeZone: block.string('time_zone') ?? null,
  };
}

/** jobspec2's constraint decoding: `attribute`/`operator`/`value`, and the shorthand attributes. */
function constraint(block: Block): Json {
  let LTarget = block.string('attribute') ?? '';
  let RTarget = block.string('value') ?? '';
  let Operand = block.string('operator') ?? '';
  for (const [shorthand, operand] of [
    ['version', 'version'],
    ['semver', 'semver'],
    ['regexp', 'regexp'],
    ['set_contains', 'set_contains'],
  ] as const) {
    const value = block.string(shorthand);
    if (value !== undefined) [Operand, RTarget] = [operand, value];
  }
  if (block.bool('distinct_hosts') === true) Operand = 'distinct_hosts';
  const property = block.string('distinct_property');
  if (property !== undefined) [Operand, LTarget] = ['distinct_property', property];
  return { LTarget, RTarget, Operand: Operand || '=' };
}

function affinity(block: Block): Json {
  let RTarget = block.string('value') ?? '';
  let Operand = block.string('operator') ?? '';
  for (const [shorthand, operand] of [
    ['version', 'version'],
    ['semver', 'semver'],
    ['regexp', 'regexp'],
    ['set_contains_all', 'set_contains_all'],
    ['set_contains_any', 'set_contains_any'],
  ] as const) {
    const value = block.string(shorthand);
    if (value !== undefined) [Operand, RTarget] = [operand, value];
  }
  return {
    LTarget: block.string('attribute') ?? '',
    RTarget,
    Operand: Operand || '=',
    Weight: block.number('weight') ?? null,
  };
}

function spread(block: Block): Json {
  const targets = block
    .labelled('target')
    .map(([value, target]) => ({ Value: value, Percent: target.number('percent') ?? 0 }));
  return {
    Attribute: block.string('attribute') ?? '',
    Weight: block.number('weight') ?? null,
    SpreadTarget: targets.length > 0 ? targets : null,
  };
}

function taskGroup(name: string, block: Block, jobVault: Json | null): Json {
  const volumes = block.labelled('volume').map(([label, volume]) => [
    label,
    {
      Name: label,
      ...fields(volume, VOLUME),
      MountOptions: optional(volume.block('mount_options'), (b) => ({
        FSType: b.string('fs_type') ?? '',
        MountFlags: b.strings('mount_flags') ?? null,
      })),
    },
  ]);
  return {
    Name: name,
    Count: block.number('count') ?? null,
    Constraints: list(block.blocks('constraint'), constraint),
    Affinities: list(block.blocks('affinity'), affinity),
    Tasks: block.labelled('task').map(([label, task]) => taskOf(label, task, jobVault)),
    Spreads: list(block.blocks('spread'), spread),
    Volumes: volumes.length > 0 ? Object.fromEntries(volumes) : null,
    RestartPolicy: optional(block.block('restart'), (b) => fields(b, RESTART)),
    Disconnect: null,
    ReschedulePolicy: optional(block.block('reschedule'), (b) => fields(b, RESCHEDULE)),
    EphemeralDisk: optional(block.block('ephemeral_disk'), (b) => fields(b, EPHEMERAL_DISK)),
    Update: optional(block.block('update'), (b) => fields(b, UPDATE)),
    Migrate: optional(block.block('migrate'), (b) => fields(b, MIGRATE)),
    Networks: list(block.blocks('network'), network),
    Meta: block.stringMap('meta') ?? null,
    Services: list(block.blocks('service'), service),
    ShutdownDelay: block.duration('shutdown_delay') ?? null,
    StopAfterClientDisconnect: block.duration('stop_after_client_disconnect') ?? null,
    MaxClientDisconnect: block.duration('max_client_disconnect') ?? null,
    Scaling: null,
    Consul: optional(block.block('consul'), (b) => ({
      Namespace: b.string('namespace') ?? '',
      Cluster: b.string('cluster') ?? '',
      Partition: b.string('partition') ?? '',
    })),
    PreventRescheduleOnLost: block.bool('prevent_reschedule_on_lost') ?? null,
  };
}

/** jobspec2 moves dynamic ports that were given a value among the reserved ones. */
function network(block: Block): Json {
  const ports = block.labelled('port').map(([label, port]) => ({
    Label: label,
    Value: port.number('static') ?? 0,
    To: port.number('to') ?? 0,
    HostNetwork: port.string('host_network') ?? '',
    IgnoreCollision: port.bool('ignore_collision') ?? false,
  }));
  const reserved = ports.filter((port) => port.Value > 0);
  const dynamic = ports.filter((port) => port.Value === 0);
  const dns = block.block('dns');
  return {
    Mode: block.string('mode') ?? '',
    Device: '',
    CIDR: '',
    IP: '',
    Hostname: block.string('hostname') ?? '',
    MBits: block.number('mbits') ?? null,
    DNS: dns
      ? {
          Servers: dns.strings('servers') ?? null,
          Searches: dns.strings('searches') ?? null,
          Options: dns.strings('options') ?? null,
        }
      : null,
    ReservedPorts: reserved.length > 0 ? reserved : null,
    DynamicPorts: dynamic.length > 0 ? dynamic : null,
  };
}

function service(block: Block): Json {
  const header = (check: Block): Json | null => {
    const bodies = check.blocks('header');
    if (bodies.length === 0) return null;
    return Object.fromEntries(
      bodies.flatMap((body) => Object.keys(body.body).map((key) => [key, body.strings(key) ?? []])),
    );
  };
  return {
    ...fields(block, SERVICE),
    Checks: list(block.blocks('check'), (check) => ({
      ...fields(check, CHECK),
      Header: header(check),
      CheckRestart: optional(check.block('check_restart'), (b) => fields(b, CHECK_RESTART)),
    })),
    CheckRestart: optional(block.block('check_restart'), (b) => fields(b, CHECK_RESTART)),
    Connect: null,
    Meta: block.stringMap('meta') ?? null,
    CanaryMeta: block.stringMap('canary_meta') ?? null,
    TaggedAddresses: block.stringMap('tagged_addresses') ?? null,
    Identity: null,
    ...fields(block, SERVICE_TAIL),
  };
}

function taskOf(name: string, block: Block, jobVault: Json | null): Json {
  const lifecycle = block.block('lifecycle');
  const config = block.blocks('config');
  return {
    Name: name,
    Driver: block.string('driver') ?? '',
    User: block.string('user') ?? '',
    Lifecycle: lifecycle ? { Hook: lifecycle.string('hook') ?? '', Sidecar: lifecycle.bool('sidecar') ?? false } : null,
    Config: config.length > 0 ? Object.assign({}, ...config.map((b) => b.contents())) : null,
    Constraints: list(block.blocks('constraint'), constraint),
    Affinities: list(block.blocks('affinity'), affinity),
    Env: block.stringMap('env') ?? null,
    Services: list(block.blocks('service'), service),
    Resources: optional(block.block('resources'), (b) => ({
      ...fields(b, RESOURCES),
      Networks: null,
      Devices: null,
      NUMA: null,
    })),
    RestartPolicy: optional(block.block('restart'), (b) => fields(b, RESTART)),
    Meta: block.stringMap('meta') ?? null,
    KillTimeout: block.duration('kill_timeout') ?? null,
    LogConfig: optional(block.block('logs'), (b) => fields(b, LOGS)),
    Artifacts: list(block.blocks('artifact'), (b) => fields(b, ARTIFACT)),
    // A job-level vault block applies to the tasks that have none.
    Vault: optional(block.block('vault'), (b) => fields(b, VAULT)) ?? jobVault,
    Templates: list(block.blocks('template'), template),
    DispatchPayload: optional(block.block('dispatch_payload'), (b) => ({ File: b.string('file') ?? '' })),
    VolumeMounts: list(block.blocks('volume_mount'), (b) => fields(b, VOLUME_MOUNT)),
    CSIPluginConfig: null,
    Leader: block.bool('leader') ?? false,
    ShutdownDelay: block.duration('shutdown_delay') ?? 0,
    KillSignal: block.string('kill_signal') ?? '',
    Kind: block.string('kind') ?? '',
    ScalingPolicies: null,
    Identity: null,
    Identities: null,
    Actions: null,
  };
}

/** jobspec2 normalises templates as it parses: restart on change, 0644, a 5 s splay. */
function template(block: Block): Json {
  const decoded = fields(block, TEMPLATE);
  decoded.ChangeMode ??= 'restart';
  decoded.Perms ??= '0644';
  decoded.Splay ??= 5e9;
  return decoded;
}
