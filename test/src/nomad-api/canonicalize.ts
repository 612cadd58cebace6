// Defaults, in the two places Nomad applies them: the API's Job.Canonicalize (POST /v1/jobs/parse with
// Canonicalize true, and every registration), then the server's own canonicalisation of the stored
// job, which GET /v1/job/:id shows (job-level update reduced to stagger and max_parallel, datacenters
// "*", node pool "default", check names, empty maps null).
import { clone, goMap, type Json } from './json.js';

const SECOND = 1e9;
const MINUTE = 60 * SECOND;

export const DEFAULT_UPDATE = {
  Stagger: 30 * SECOND,
  MaxParallel: 1,
  HealthCheck: 'checks',
  MinHealthyTime: 10 * SECOND,
  HealthyDeadline: 5 * MINUTE,
  ProgressDeadline: 10 * MINUTE,
  Canary: 0,
  AutoRevert: false,
  AutoPromote: false,
};

const SERVICE_RESTART = {
  Interval: 30 * MINUTE,
  Attempts: 2,
  Delay: 15 * SECOND,
  Mode: 'fail',
  RenderTemplates: false,
};
const BATCH_RESTART = {
  Interval: 24 * 60 * MINUTE,
  Attempts: 3,
  Delay: 15 * SECOND,
  Mode: 'fail',
  RenderTemplates: false,
};
const SERVICE_RESCHEDULE = {
  Attempts: 0,
  Interval: 0,
  Delay: 30 * SECOND,
  DelayFunction: 'exponential',
  MaxDelay: 60 * MINUTE,
  Unlimited: true,
};
const BATCH_RESCHEDULE = {
  Attempts: 1,
  Interval: 24 * 60 * MINUTE,
  Delay: 5 * SECOND,
  DelayFunction: 'constant',
  MaxDelay: 0,
  Unlimited: false,
};
const MIGRATE = { MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 10 * SECOND, HealthyDeadline: 5 * MINUTE };

/** Fill the unset (null or missing) fields of `target` from `defaults`. */
function defaults(target: Json, values: Json): Json {
  for (const [key, value] of Object.entries(values)) target[key] ??= clone(value);
  return target;
}

/** Fields of `override` that are set win over `base` (Go's Merge on pointer structs). */
const merge = (base: Json | null | undefined, override: Json | null | undefined): Json => {
  const merged = clone(base ?? {});
  for (const [key, value] of Object.entries(override ?? {}))
    if (value !== null && value !== undefined) merged[key] = clone(value);
  return merged;
};

/** api.Job.Canonicalize. Mutates and returns `job`. */
export function canonicalizeJob(job: Json): Json {
  defaults(job, {
    ID: '',
    ParentID: '',
    Namespace: 'default',
    Priority: 50,
    Stop: false,
    Region: 'global',
    NodePool: '',
    Type: 'service',
    AllAtOnce: false,
    ConsulToken: '',
    ConsulNamespace: '',
    VaultToken: '',
    VaultNamespace: '',
    NomadTokenID: '',
    Status: '',
    StatusDescription: '',
    Stable: false,
    Version: 0,
    CreateIndex: 0,
    ModifyIndex: 0,
    JobModifyIndex: 0,
  });
  job.Name ??= job.ID;
  if (job.Update) defaults(job.Update, DEFAULT_UPDATE);
  else if (job.Type === 'service') job.Update = clone(DEFAULT_UPDATE);
  for (const group of job.TaskGroups ?? []) canonicalizeGroup(group, job);
  for (const spread of job.Spreads ?? []) spread.Weight ??= 50;
  for (const affinity of job.Affinities ?? []) affinity.Weight ??= 50;
  return job;
}

function canonicalizeGroup(group: Json, job: Json): void {
  group.Name ??= '';
  group.Count ??= 1;
  group.EphemeralDisk = defaults(group.EphemeralDisk ?? {}, { Sticky: false, Migrate: false, SizeMB: 300 });
  group.Consul = defaults(group.Consul ?? {}, {
    Namespace: job.ConsulNamespace ?? '',
    Cluster: 'default',
    Partition: '',
  });
  if (group.Consul.Cluster === '') group.Consul.Cluster = 'default';
  if (job.Update && group.Update) group.Update = merge(job.Update, group.Update);
  else if (job.Update) group.Update = clone(job.Update);
  if (group.Update) defaults(group.Update, DEFAULT_UPDATE);
  if (job.Type !== 'system') {
    const base = job.Type === 'service' ? SERVICE_RESCHEDULE : BATCH_RESCHEDULE;
    group.ReschedulePolicy = defaults(merge(job.Reschedule, group.ReschedulePolicy), base);
  }
  if (job.Type === 'service' || job.Migrate || group.Migrate)
    group.Migrate = defaults(merge(job.Migrate, group.Migrate), MIGRATE);
  group.RestartPolicy = merge(
    job.Type === 'batch' || job.Type === 'sysbatch' ? BATCH_RESTART : SERVICE_RESTART,
    group.RestartPolicy,
  );
  for (const task of group.Tasks ?? []) canonicalizeTask(task, group, job);
  for (const spread of group.Spreads ?? []) spread.Weight ??= 50;
  for (const affinity of group.Affinities ?? []) affinity.Weight ??= 50;
  for (const network of group.Networks ?? []) if (!network.Mode) network.Mode = 'host';
  for (const service of group.Services ?? []) canonicalizeService(service, `${job.Name}-${group.Name}`);
}

function canonicalizeTask(task: Json, group: Json, job: Json): void {
  const resources = (task.Resources ??= {});
  if (resources.Cores === null || resources.Cores === undefined) {
    resources.Cores = 0;
    resources.CPU ??= 100;
  }
  resources.CPU ??= 0;
  resources.MemoryMB ??= 300;
  task.KillTimeout ??= 5 * SECOND;
  task.LogConfig = defaults(task.LogConfig ?? {}, { MaxFiles: 10, MaxFileSizeMB: 10, Disabled: false });
  if (task.Vault) {
    defaults(task.Vault, {
      Env: true,
      DisableFile: false,
      Namespace: '',
      ChangeMode: 'restart',
      ChangeSignal: 'SIGHUP',
      AllowTokenExpiration: false,
    });
    if (!task.Vault.Cluster) task.Vault.Cluster = 'default';
  }
  for (const template of task.Templates ?? []) {
    defaults(template, { SourcePath: '', DestPath: '', EmbeddedTmpl: '', ChangeMode: 'restart' });
    template.ChangeSignal = template.ChangeSignal
      ? String(template.ChangeSignal).toUpperCase()
      : template.ChangeMode === 'signal'
        ? 'SIGHUP'
        : '';
    defaults(template, {
      Splay: 5 * SECOND,
      Perms: '0644',
      LeftDelim: '{{',
      RightDelim: '}}',
      Envvars: false,
      ErrMissingKey: false,
      VaultGrace: 0,
      Once: false,
    });
  }
  for (const mount of task.VolumeMounts ?? [])
    defaults(mount, { ReadOnly: false, PropagationMode: 'private', SELinuxLabel: '' });
  for (const service of task.Services ?? []) canonicalizeService(service, `${job.Name}-${group.Name}-${task.Name}`);
  for (const affinity of task.Affinities ?? []) affinity.Weight ??= 50;
  task.RestartPolicy = merge(group.RestartPolicy, task.RestartPolicy);
}

function canonicalizeService(service: Json, defaultName: string): void {
  if (!service.Name) service.Name = defaultName;
  if (!service.AddressMode) service.AddressMode = 'auto';
  if (!service.OnUpdate) service.OnUpdate = 'require_healthy';
  if (!service.Provider) service.Provider = 'consul';
  if (!service.Cluster) service.Cluster = 'default';
  service.Meta = goMap(service.Meta);
  for (const check of service.Checks ?? []) {
    if (!check.OnUpdate) check.OnUpdate = service.OnUpdate;
  }
}

/**
 * The job as the server stores it (structs.Job): the API job canonicalised, then the server's own
 * defaults. `region` is the agent's: a job for "global" belongs to the region of the agent it reached.
 */
export function toStoredJob(apiJob: Json, namespace: string, region: string): Json {
  const job = canonicalizeJob(clone(apiJob));
  job.Namespace = namespace;
  if (!job.Region || job.Region === 'global') job.Region = region;
  if (!job.Datacenters || job.Datacenters.length === 0) job.Datacenters = ['*'];
  if (!job.NodePool) job.NodePool = 'default';
  job.Meta = goMap(job.Meta);
  // The groups carry the merged update strategy; the job keeps only stagger and max_parallel.
  const update = job.Update;
  job.Update = {
    ...Object.fromEntries(
      Object.entries(DEFAULT_UPDATE).map(([key, value]) => [
        key,
        typeof value === 'number' ? 0 : typeof value === 'boolean' ? false : '',
      ]),
    ),
  };
  if (update && update.MaxParallel > 0)
    Object.assign(job.Update, { Stagger: update.Stagger, MaxParallel: update.MaxParallel });
  for (const group of job.TaskGroups ?? []) {
    group.Meta = goMap(group.Meta);
    group.Volumes = goMap(group.Volumes);
    for (const service of group.Services ?? []) nameChecks(service);
    for (const task of group.Tasks ?? []) {
      task.Env = goMap(task.Env);
      task.Meta = goMap(task.Meta);
      for (const service of task.Services ?? []) nameChecks(service);
    }
  }
  delete job.Multiregion;
  return job;
}

function nameChecks(service: Json): void {
  if (service.Tags?.length === 0) service.Tags = null;
  if (service.Checks?.length === 0) service.Checks = null;
  for (const check of service.Checks ?? [])
    if (!check.Name) check.Name = `service: ${JSON.stringify(service.Name)} check`;
}

/** Fields the server sets: two registrations that differ only in these are the same job. */
export const SERVER_FIELDS = [
  'Status',
  'StatusDescription',
  'Stable',
  'Version',
  'CreateIndex',
  'ModifyIndex',
  'JobModifyIndex',
  'SubmitTime',
  'NomadTokenID',
] as const;

export function specOf(job: Json): Json {
  const spec = clone(job);
  for (const field of SERVER_FIELDS) delete spec[field];
  return spec;
}
