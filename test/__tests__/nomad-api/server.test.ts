// The Nomad HTTP API double, driven with plain fetch as a deployment tool drives Nomad: parse a job file,
// register it, follow its allocations and deployment with blocking queries, update, stop and purge it.
import {
  formatGoDuration,
  parseGoDuration,
  type NomadApiServer,
  type NomadApiServerOptions,
} from '../../src/nomad-api/index.js';
import { closeHclParser } from '../../src/hcl.js';
import { jobFile } from './job-file.js';
import { all, allocsOf, call, deploy, deploymentIs, evaluated, running, serverStarter, waitFor } from './nomad.js';

afterAll(closeHclParser);

type Json = Record<string, any>;

const FAST: NomadApiServerOptions = {
  runDelayMs: 20,
  healthyDelayMs: 20,
  healthyDeadlineMs: 2000,
  progressDeadlineMs: 5000,
  evalDelayMs: 5,
};

let server: NomadApiServer;
const startServer = serverStarter(FAST);
const start = async (options: NomadApiServerOptions = {}) => (server = await startServer(options));

const parse = async (hcl: string, canonicalize = true) =>
  call(server, 'POST', '/v1/jobs/parse', { JobHCL: hcl, Canonicalize: canonicalize });

describe('Go durations', () => {
  test('parse to nanoseconds and print as Go does', () => {
    expect(parseGoDuration('10s')).toBe(10e9);
    expect(parseGoDuration('1h30m')).toBe(5400e9);
    expect(parseGoDuration('250ms')).toBe(250e6);
    expect(parseGoDuration('1.5s')).toBe(1.5e9);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('abc')).toBeUndefined();
    expect(formatGoDuration(1800e9)).toBe('30m0s');
    expect(formatGoDuration(15e9)).toBe('15s');
    expect(formatGoDuration(90e9)).toBe('1m30s');
    expect(formatGoDuration(250e6)).toBe('250ms');
  });
});

describe('POST /v1/jobs/parse', () => {
  test("maps a job file to Nomad's Job, canonicalised", async () => {
    await start();
    const answer = await parse(jobFile());
    expect(answer.status).toBe(200);
    const job = answer.json;
    expect(job).toMatchObject({
      ID: 'loki',
      Name: 'loki',
      Namespace: 'default',
      Region: 'global',
      Type: 'service',
      Priority: 50,
      Datacenters: ['dc1'],
      Meta: { managed_by: 'loki-microservices' },
      Constraints: [{ LTarget: '${attr.kernel.name}', RTarget: 'linux', Operand: '=' }],
      Update: {
        MaxParallel: 1,
        HealthCheck: 'checks',
        MinHealthyTime: 10e9,
        HealthyDeadline: 300e9,
        ProgressDeadline: 600e9,
        AutoRevert: false,
      },
    });
    // Groups, tasks and ports in the order written, not hcl2json's alphabetical one.
    expect(job.TaskGroups.map((group: Json) => group.Name)).toEqual(['ingester', 'distributor']);
    const [ingester, distributor] = job.TaskGroups as [Json, Json];
    expect(ingester).toMatchObject({
      Count: 2,
      Constraints: [{ LTarget: '', RTarget: 'true', Operand: 'distinct_hosts' }],
      Spreads: [{ Attribute: '${node.datacenter}', Weight: 50 }],
      EphemeralDisk: { Sticky: true, Migrate: true, SizeMB: 2048 },
      Networks: [
        {
          Mode: 'host',
          DynamicPorts: [
            { Label: 'http', Value: 0, To: 0 },
            { Label: 'grpc', Value: 0, To: 0 },
          ],
          ReservedPorts: null,
        },
      ],
      Services: [
        {
          Name: 'loki-ingester',
          PortLabel: 'http',
          Provider: 'nomad',
          Tags: ['loki', 'ingester'],
          Meta: { alloc_id: '${NOMAD_ALLOC_ID}' },
          Checks: [{ Name: 'ready', Type: 'http', Path: '/ready', Interval: 10e9, Timeout: 3e9 }],
        },
      ],
    });
    const [ingesterTask] = ingester.Tasks as [Json];
    expect(ingesterTask).toMatchObject({
      Name: 'ingester',
      Driver: 'docker',
      Config: {
        image: 'grafana/loki:3.7.8',
        ports: ['http', 'grpc'],
        args: ['-target=ingester', '-config.file=${NOMAD_TASK_DIR}/config.yaml', '-config.expand-env=true'],
      },
      Resources: { CPU: 500, MemoryMB: 1024, MemoryMaxMB: 2048 },
      KillTimeout: 300e9,
      KillSignal: 'SIGTERM',
      Templates: [{ DestPath: 'local/config.yaml', ChangeMode: 'restart', Envvars: false, Perms: '0644' }],
    });
    // `$${…}` is HCL's escape for a literal `${…}`: Nomad holds the unescaped text; consul-template's `{{ }}` stays.
    expect(ingesterTask.Templates[0].EmbeddedTmpl).toBe(
      'server:\n  http_listen_port: {{ env "NOMAD_PORT_http" }}\ncommon:\n  path_prefix: ${LOKI_DATA:-/loki}\n',
    );
    expect(distributor).toMatchObject({
      Count: 1,
      Volumes: {
        data: {
          Name: 'data',
          Type: 'host',
          Source: 'loki-data',
          ReadOnly: false,
          PerAlloc: false,
          AccessMode: '',
          AttachmentMode: '',
        },
      },
      Networks: [{ Mode: 'bridge', ReservedPorts: [{ Label: 'http', Value: 3100, To: 3100 }], DynamicPorts: null }],
      // A service without a name gets job-group; a provider, Consul.
      Services: [
        {
          Name: 'loki-distributor',
          PortLabel: 'http',
          Provider: 'consul',
          Checks: [{ Interval: 90e9, Timeout: 250e6 }],
        },
      ],
    });
    expect(distributor.Tasks[0]).toMatchObject({
      Env: { CONSUL_HTTP_ADDR: '${attr.unique.network.ip-address}:8500' },
      Templates: [
        {
          DestPath: 'secrets/object-store.env',
          Envvars: true,
          Perms: '0600',
          ChangeMode: 'signal',
          ChangeSignal: 'SIGHUP',
          EmbeddedTmpl: 'AWS_ACCESS_KEY_ID={{ with secret "kv/data/loki" }}{{ .Data.data.key }}{{ end }}\n',
        },
      ],
      Vault: { Role: 'loki', ChangeMode: 'restart', Env: true },
      VolumeMounts: [{ Volume: 'data', Destination: '/loki', ReadOnly: false }],
      // Defaults of Nomad's Canonicalize.
      KillTimeout: 5e9,
      Resources: { CPU: 100, MemoryMB: 300 },
      LogConfig: { MaxFiles: 10, MaxFileSizeMB: 10 },
    });
  });

  test('without Canonicalize, what the file leaves out is null, as in Go pointers', async () => {
    await start();
    const { json: job } = await parse(jobFile(), false);
    expect(job).toMatchObject({
      ID: 'loki',
      Region: null,
      Namespace: null,
      Priority: null,
      Type: 'service',
      Stop: null,
      Version: null,
    });
    const distributor = job.TaskGroups[1];
    expect(distributor).toMatchObject({ Name: 'distributor', Count: null, EphemeralDisk: null, RestartPolicy: null });
    expect(distributor.Tasks[0]).toMatchObject({ KillTimeout: null, Resources: null, LogConfig: null });
    // Nomad's parser itself defaults a template's change mode.
    expect(job.TaskGroups[0].Tasks[0].Templates[0]).toMatchObject({
      ChangeMode: 'restart',
      Perms: '0644',
      Splay: 5e9,
      LeftDelim: null,
    });
  });

  test("takes the job's namespace attribute", async () => {
    await start();
    expect((await parse(jobFile({ namespace: 'observability' }))).json.Namespace).toBe('observability');
  });

  test('answers 400 in plain text for what Nomad cannot parse', async () => {
    await start();
    const broken = await parse('job "loki" {\n  group "x" {\n');
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(broken.text).toMatch(/^Failed to parse job: input\.hcl:\d+,\d+-\d+: Unclosed configuration block;/);
    expect((await parse('variable "x" {\n  default = 1\n}\n')).text).toBe(
      'Failed to parse job: input.hcl:1,1-1: Missing job block; A job block is required.',
    );
    expect((await parse('job "a" {\n}\njob "b" {\n}\n')).text).toMatch(
      /^Failed to parse job: input\.hcl:3,1-4: Duplicate job block;/,
    );
    expect((await parse('job "a" {\n  group "g" {\n    count = "many"\n  }\n}\n')).text).toMatch(
      /^Failed to parse job: .*a number is required \(job "a" group "g" count\)/,
    );
    expect(await call(server, 'POST', '/v1/jobs/parse', { JobHCL: '' })).toMatchObject({
      status: 400,
      text: 'Job spec is empty',
    });
    expect(await call(server, 'POST', '/v1/jobs/parse', 'not json')).toMatchObject({ status: 400 });
  });

  test('refuses expressions it cannot evaluate rather than pass them on unevaluated', async () => {
    await start();
    const answer = await parse('job "loki" {\n  group "g" {\n    count = var.replicas\n  }\n}\n');
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('does not evaluate HCL variables');
  });
});

describe('registration and deployment', () => {
  test('places every allocation; the deployment succeeds and the version becomes stable', async () => {
    await start();
    const { register } = await deploy(server);
    expect(register.json).toEqual({
      EvalID: expect.stringMatching(/^[0-9a-f-]{36}$/),
      EvalCreateIndex: register.index,
      JobModifyIndex: register.index,
      Warnings: '',
      Index: register.index,
      LastContact: 0,
      KnownLeader: false,
      NextToken: '',
    });
    const healthy = await waitFor(
      server,
      '/v1/job/loki/allocations',
      (allocs: Json[]) => allocs.length === 3 && all(allocs, (alloc) => alloc.DeploymentStatus?.Healthy === true),
    );
    expect(healthy.headers.get('x-nomad-knownleader')).toBe('true');
    expect(healthy.headers.get('x-nomad-lastcontact')).toBe('0');
    const allocs: Json[] = healthy.json;
    expect(allocs.map((alloc) => alloc.Name).sort()).toEqual([
      'loki.distributor[0]',
      'loki.ingester[0]',
      'loki.ingester[1]',
    ]);
    for (const alloc of allocs) {
      expect(alloc).toMatchObject({
        Namespace: 'default',
        JobID: 'loki',
        JobVersion: 0,
        EvalID: register.json.EvalID,
        DesiredStatus: 'run',
        ClientStatus: 'running',
        ClientDescription: 'Tasks are running',
        DeploymentStatus: {
          Healthy: true,
          Canary: false,
          Timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
        },
        NodeName: expect.stringMatching(/^nomad-client-\d$/),
      });
      const [state] = Object.values(alloc.TaskStates) as Json[];
      expect(state).toMatchObject({ State: 'running', Failed: false, Restarts: 0 });
      expect(state!.Events.map((event: Json) => event.Type)).toEqual(['Received', 'Task Setup', 'Driver', 'Started']);
      expect(state!.Events[2]).toMatchObject({ DisplayMessage: 'Downloading image' });
      expect(alloc.CreateTime).toBeGreaterThan(1.6e18);
    }
    // Replicas of a group land on different nodes.
    expect(new Set(allocsOf(allocs, 'ingester').map((alloc) => alloc.NodeID)).size).toBe(2);

    const deployment = (await deploymentIs(server, 'successful')).json;
    expect(deployment).toMatchObject({
      JobID: 'loki',
      JobVersion: 0,
      StatusDescription: 'Deployment completed successfully',
      TaskGroups: {
        ingester: { DesiredTotal: 2, PlacedAllocs: 2, HealthyAllocs: 2, UnhealthyAllocs: 0, ProgressDeadline: 600e9 },
        distributor: { DesiredTotal: 1, PlacedAllocs: 1, HealthyAllocs: 1, UnhealthyAllocs: 0 },
      },
    });
    expect(Date.parse(deployment.TaskGroups.ingester.RequireProgressBy)).toBeGreaterThan(Date.now());

    const job = (await waitFor(server, '/v1/job/loki', (body) => body.Stable === true)).json;
    expect(job).toMatchObject({
      Status: 'running',
      Version: 0,
      Stop: false,
      Stable: true,
      CreateIndex: register.index,
      JobModifyIndex: register.index,
      NodePool: 'default',
    });
    expect(job.SubmitTime).toBeGreaterThan(1.6e18);
    expect(job.ModifyIndex).toBeGreaterThan(job.JobModifyIndex);
    // The server keeps stagger and max_parallel at the job level; each group has the whole strategy.
    expect(job.Update).toMatchObject({ MaxParallel: 1, Stagger: 30e9, ProgressDeadline: 0, HealthCheck: '' });
    expect(job.TaskGroups[0].Update).toMatchObject({ MaxParallel: 1, ProgressDeadline: 600e9, HealthCheck: 'checks' });
    expect(job.TaskGroups[1].Services[0].Checks[0].Name).toBe('service: "loki-distributor" check');

    const summary = await call(server, 'GET', '/v1/job/loki/summary');
    expect(summary.json).toMatchObject({
      JobID: 'loki',
      Summary: { ingester: { Running: 2, Queued: 0, Starting: 0, Failed: 0 }, distributor: { Running: 1 } },
    });
    const list = await call(server, 'GET', '/v1/jobs?prefix=lo');
    expect(list.json).toEqual([
      expect.objectContaining({
        ID: 'loki',
        Name: 'loki',
        Namespace: 'default',
        Type: 'service',
        Status: 'running',
        JobSummary: expect.objectContaining({ JobID: 'loki' }),
      }),
    ]);
    expect((await call(server, 'GET', '/v1/jobs?prefix=mimir')).json).toEqual([]);
    const evaluation = (await call(server, 'GET', `/v1/evaluation/${register.json.EvalID}`)).json;
    expect(evaluation).toMatchObject({
      Status: 'complete',
      TriggeredBy: 'job-register',
      DeploymentID: deployment.ID,
      QueuedAllocations: { ingester: 0, distributor: 0 },
      FailedTGAllocs: null,
    });
  });

  test('an identical registration keeps the version, the deployment and the allocations', async () => {
    await start();
    const first = await deploy(server);
    const deployment = (await deploymentIs(server, 'successful')).json;
    const allocIds = (await call(server, 'GET', '/v1/job/loki/allocations')).json.map((alloc: Json) => alloc.ID).sort();
    const again = await call(server, 'POST', '/v1/jobs', { Job: first.job });
    expect(again.status).toBe(200);
    expect(again.json.JobModifyIndex).toBe(first.register.json.JobModifyIndex);
    expect(again.json.EvalID).not.toBe(first.register.json.EvalID);
    await evaluated(server, again.json.EvalID);
    expect((await call(server, 'GET', '/v1/job/loki')).json).toMatchObject({
      Version: 0,
      JobModifyIndex: first.register.index,
      Stable: true,
    });
    expect((await call(server, 'GET', '/v1/job/loki/deployment')).json.ID).toBe(deployment.ID);
    expect((await call(server, 'GET', '/v1/job/loki/allocations')).json.map((alloc: Json) => alloc.ID).sort()).toEqual(
      allocIds,
    );
    // Registering through /v1/job/:id is the same.
    const byPath = await call(server, 'POST', '/v1/job/loki', { Job: first.job });
    expect(byPath.json.JobModifyIndex).toBe(first.register.json.JobModifyIndex);
    expect((await call(server, 'POST', '/v1/job/other', { Job: first.job })).text).toBe('Job ID does not match name');
  });

  test('a new count is a new version; the group is scaled in place, surplus allocations stop', async () => {
    await start();
    await deploy(server);
    await deploymentIs(server, 'successful', 0);
    const before = allocsOf((await call(server, 'GET', '/v1/job/loki/allocations')).json, 'ingester');

    const up = await deploy(server, { ingesterCount: 3 });
    expect(up.register.json.JobModifyIndex).toBeGreaterThan(0);
    const deployment = (await deploymentIs(server, 'successful', 1)).json;
    expect(deployment.TaskGroups.ingester).toMatchObject({ DesiredTotal: 3, HealthyAllocs: 3 });
    const scaled = running(allocsOf((await call(server, 'GET', '/v1/job/loki/allocations')).json, 'ingester'));
    expect(scaled.map((alloc) => alloc.Name).sort()).toEqual([
      'loki.ingester[0]',
      'loki.ingester[1]',
      'loki.ingester[2]',
    ]);
    // The two allocations that ran version 0 run version 1 now: updated in place, not replaced.
    for (const alloc of before)
      expect(scaled.find((candidate) => candidate.ID === alloc.ID)).toMatchObject({
        JobVersion: 1,
        ClientStatus: 'running',
      });
    expect((await call(server, 'GET', '/v1/job/loki')).json.Version).toBe(1);

    await deploy(server, { ingesterCount: 1 });
    await deploymentIs(server, 'successful', 2);
    const down = await waitFor(
      server,
      '/v1/job/loki/allocations',
      (allocs: Json[]) =>
        allocsOf(allocs, 'ingester').filter((alloc) => alloc.DesiredStatus === 'stop').length === 2 &&
        all(
          allocsOf(allocs, 'ingester').filter((alloc) => alloc.DesiredStatus === 'stop'),
          (alloc) => alloc.ClientStatus === 'complete',
        ),
    );
    const ingesters = allocsOf(down.json, 'ingester');
    expect(running(ingesters).map((alloc) => alloc.Name)).toEqual(['loki.ingester[0]']);
    const stopped = ingesters.filter((alloc) => alloc.DesiredStatus === 'stop');
    expect(stopped.map((alloc) => alloc.Name).sort()).toEqual(['loki.ingester[1]', 'loki.ingester[2]']);
    for (const alloc of stopped) {
      expect(alloc).toMatchObject({
        ClientStatus: 'complete',
        DesiredDescription: 'alloc not needed due to job update',
        ClientDescription: 'All tasks have completed',
      });
      expect(
        all(Object.values(alloc.TaskStates as Json), (state: Json) => state.State === 'dead' && !state.Failed),
      ).toBe(true);
      expect(
        (Object.values(alloc.TaskStates as Json)[0] as Json).Events.map((event: Json) => event.Type).slice(-2),
      ).toEqual(['Killing', 'Killed']);
    }
  });

  test('a changed task replaces the allocations of its group, max_parallel at a time; other groups are updated in place', async () => {
    await start();
    await deploy(server);
    await deploymentIs(server, 'successful', 0);
    const before: Json[] = (await call(server, 'GET', '/v1/job/loki/allocations')).json;

    await deploy(server, { image: 'grafana/loki:3.7.9' });
    await deploymentIs(server, 'successful', 1);
    const after = (
      await waitFor(server, '/v1/job/loki/allocations', (allocs: Json[]) =>
        all(allocs, (alloc) => alloc.DesiredStatus === 'run' || alloc.ClientStatus === 'complete'),
      )
    ).json as Json[];
    const oldIngesters = allocsOf(before, 'ingester').map((alloc) =>
      after.find((candidate) => candidate.ID === alloc.ID)!,
    );
    for (const alloc of oldIngesters) {
      expect(alloc).toMatchObject({
        JobVersion: 0,
        DesiredStatus: 'stop',
        ClientStatus: 'complete',
        DesiredDescription: 'alloc is being updated due to job update',
      });
    }
    const newIngesters = running(allocsOf(after, 'ingester')).sort((a, b) => a.CreateIndex - b.CreateIndex);
    expect(newIngesters).toHaveLength(2);
    expect(newIngesters.every((alloc) => alloc.JobVersion === 1 && !before.some((old) => old.ID === alloc.ID))).toBe(
      true,
    );
    // max_parallel = 1: the second replacement was placed only once the first was healthy.
    expect(newIngesters[1]!.CreateIndex).toBeGreaterThanOrEqual(newIngesters[0]!.DeploymentStatus.ModifyIndex);
    // The distributor's group did not change: same allocation, now on version 1.
    const distributor = allocsOf(before, 'distributor')[0]!;
    expect(after.find((alloc) => alloc.ID === distributor.ID)).toMatchObject({
      JobVersion: 1,
      DesiredStatus: 'run',
      ClientStatus: 'running',
    });
    const deployment = (await call(server, 'GET', '/v1/job/loki/deployment')).json;
    expect(deployment.TaskGroups).toMatchObject({
      ingester: { PlacedAllocs: 2, HealthyAllocs: 2 },
      distributor: { PlacedAllocs: 1, HealthyAllocs: 1 },
    });
    expect((await call(server, 'GET', '/v1/job/loki/deployments')).json).toHaveLength(2);
    const versions = (await call(server, 'GET', '/v1/job/loki/versions')).json.Versions as Json[];
    expect(versions.map((version) => [version.Version, version.Stable])).toEqual([
      [1, true],
      [0, true],
    ]);
  });
});

describe('deregistration', () => {
  test('without purge the job stays, stopped and dead, and every allocation stops', async () => {
    await start();
    await deploy(server);
    await deploymentIs(server, 'successful');
    const stop = await call(server, 'DELETE', '/v1/job/loki');
    expect(stop.status).toBe(200);
    expect(stop.json).toMatchObject({
      EvalID: expect.any(String),
      EvalCreateIndex: stop.index,
      JobModifyIndex: stop.index,
      Index: stop.index,
    });
    const job = (await waitFor(server, '/v1/job/loki', (body) => body.Status === 'dead')).json;
    expect(job).toMatchObject({ Stop: true, Version: 1, Stable: false });
    const allocs = (
      await waitFor(server, '/v1/job/loki/allocations', (body: Json[]) =>
        all(body, (alloc) => alloc.ClientStatus === 'complete'),
      )
    ).json as Json[];
    expect(allocs).toHaveLength(3);
    expect(allocs.every((alloc) => alloc.DesiredStatus === 'stop')).toBe(true);
    expect((await call(server, 'GET', `/v1/evaluation/${stop.json.EvalID}`)).json).toMatchObject({
      TriggeredBy: 'job-deregister',
      Status: 'complete',
    });
    expect((await call(server, 'GET', '/v1/job/loki/summary')).json.Summary.ingester).toMatchObject({
      Running: 0,
      Complete: 2,
    });
    // Registering it again starts it again, as a new version.
    await deploy(server);
    await deploymentIs(server, 'successful', 2);
  });

  test('stopping a job cancels its running deployment', async () => {
    await start({ behaviours: { 'loki/ingester': 'unhealthy' } });
    await deploy(server);
    await waitFor(server, '/v1/job/loki/allocations', (allocs: Json[]) => allocs.length === 3);
    await call(server, 'DELETE', '/v1/job/loki');
    const deployment = (await deploymentIs(server, 'cancelled')).json;
    expect(deployment.StatusDescription).toBe('Cancelled because job is stopped');
  });

  test('with purge the job is gone; its allocations are listed until collected', async () => {
    await start();
    await deploy(server);
    const first = (await deploymentIs(server, 'successful')).json;
    const purge = await call(server, 'DELETE', '/v1/job/loki?purge=true');
    expect(purge.status).toBe(200);
    expect(await call(server, 'GET', '/v1/job/loki')).toMatchObject({ status: 404, text: 'job not found' });
    expect(await call(server, 'GET', '/v1/job/loki/summary')).toMatchObject({ status: 404, text: 'job not found' });
    expect((await call(server, 'GET', '/v1/jobs')).json).toEqual([]);
    const allocs = (
      await waitFor(server, '/v1/job/loki/allocations', (body: Json[]) =>
        all(body, (alloc) => alloc.ClientStatus === 'complete'),
      )
    ).json;
    expect(allocs).toHaveLength(3);
    expect(await call(server, 'DELETE', '/v1/job/loki?purge=maybe')).toMatchObject({
      status: 500,
      text: expect.stringContaining('Failed to parse value of "purge" (maybe) as a bool'),
    });

    // Registered again, it is a new job: version 0, and the old allocations are not its own.
    const again = await deploy(server);
    expect(again.register.json.JobModifyIndex).toBeGreaterThan(purge.index);
    // Until the new evaluation has run, the latest deployment is the old job's (also version 0, successful).
    const second = await waitFor(
      server,
      '/v1/job/loki/deployment',
      (deployment) => deployment.ID !== first.ID && deployment.Status === 'successful',
    );
    expect(second.json).toMatchObject({ JobVersion: 0, JobCreateIndex: again.register.index });
    expect((await call(server, 'GET', '/v1/job/loki')).json).toMatchObject({
      Version: 0,
      CreateIndex: again.register.index,
    });
    expect((await call(server, 'GET', '/v1/job/loki/allocations')).json).toHaveLength(3);
    expect((await call(server, 'GET', '/v1/job/loki/allocations?all=true')).json).toHaveLength(6);
    expect((await call(server, 'GET', '/v1/job/loki/summary')).json.Summary.ingester).toMatchObject({
      Running: 2,
      Complete: 0,
    });
  });

  test('a job Nomad does not have: 404 to read, an empty success to deregister', async () => {
    await start();
    const missing = await call(server, 'GET', '/v1/job/nothing');
    expect(missing).toMatchObject({ status: 404, text: 'job not found' });
    expect(missing.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(missing.index).toBeGreaterThanOrEqual(1);
    const deregister = await call(server, 'DELETE', '/v1/job/nothing?purge=true');
    expect(deregister).toMatchObject({
      status: 200,
      json: { EvalID: '', EvalCreateIndex: 0, JobModifyIndex: 0, Index: 0 },
    });
    expect((await call(server, 'GET', '/v1/job/nothing/deployment')).json).toBeNull();
    expect((await call(server, 'GET', '/v1/job/nothing/allocations')).json).toEqual([]);
  });
});

describe('blocking queries', () => {
  test('answer as soon as the index passes the one given', async () => {
    await start();
    await deploy(server);
    await deploymentIs(server, 'successful');
    const now = await call(server, 'GET', '/v1/job/loki/allocations');
    const started = Date.now();
    const blocked = call(server, 'GET', `/v1/job/loki/allocations?index=${now.index}&wait=20s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await deploy(server, { ingesterCount: 3 });
    const answer = await blocked;
    expect(answer.status).toBe(200);
    expect(answer.index).toBeGreaterThan(now.index);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  test('time out with the same index when nothing changes', async () => {
    await start();
    await deploy(server);
    await waitFor(server, '/v1/job/loki', (job) => job.Stable === true);
    const now = await call(server, 'GET', '/v1/job/loki');
    const started = Date.now();
    const answer = await call(server, 'GET', `/v1/job/loki?index=${now.index}&wait=300ms`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.status).toBe(200);
    expect(answer.index).toBe(now.index);
    expect(answer.json.Version).toBe(0);
  });

  test('refuse a wait or index that is not one', async () => {
    await start();
    expect(await call(server, 'GET', '/v1/jobs?index=1&wait=soon')).toMatchObject({
      status: 400,
      text: 'Invalid wait time',
    });
    expect(await call(server, 'GET', '/v1/jobs?index=-1')).toMatchObject({ status: 400, text: 'Invalid index' });
  });
});

describe('ACLs', () => {
  const TOKEN = '9a3f1c2e-5b7d-4e8f-a1b2-c3d4e5f60718';

  test('without the token: 403 Permission denied; the leader is open to all', async () => {
    await start({ aclToken: TOKEN });
    expect(await call(server, 'GET', '/v1/jobs')).toMatchObject({ status: 403, text: 'Permission denied' });
    // A token the servers do not know is denied the same way by their endpoints…
    expect(
      await call(server, 'GET', '/v1/jobs', undefined, { 'X-Nomad-Token': 'f0f0f0f0-0000-4000-8000-000000000000' }),
    ).toMatchObject({ status: 403, text: 'Permission denied' });
    // …while the agent's parse endpoint resolves it and says so.
    const parseWrong = await call(
      server,
      'POST',
      '/v1/jobs/parse',
      { JobHCL: jobFile() },
      { 'X-Nomad-Token': 'f0f0f0f0-0000-4000-8000-000000000000' },
    );
    expect(parseWrong).toMatchObject({ status: 403, text: 'ACL token not found' });
    expect(await call(server, 'POST', '/v1/jobs/parse', { JobHCL: jobFile() })).toMatchObject({
      status: 403,
      text: 'Permission denied',
    });
    expect(await call(server, 'DELETE', '/v1/job/loki')).toMatchObject({ status: 403, text: 'Permission denied' });
    expect(await call(server, 'GET', '/v1/status/leader')).toMatchObject({ status: 200, json: '127.0.0.1:4647' });

    const parsed = await call(
      server,
      'POST',
      '/v1/jobs/parse',
      { JobHCL: jobFile(), Canonicalize: true },
      { 'X-Nomad-Token': TOKEN },
    );
    expect(parsed.status).toBe(200);
    expect(await call(server, 'POST', '/v1/jobs', { Job: parsed.json })).toMatchObject({
      status: 403,
      text: 'Permission denied',
    });
    expect(
      (await call(server, 'POST', '/v1/jobs', { Job: parsed.json }, { Authorization: `Bearer ${TOKEN}` })).status,
    ).toBe(200);
    expect((await call(server, 'GET', '/v1/job/loki', undefined, { 'X-Nomad-Token': TOKEN })).status).toBe(200);
    expect(await call(server, 'GET', '/v1/job/loki', undefined, { Authorization: `Basic ${TOKEN}` })).toMatchObject({
      status: 403,
    });
    await waitFor(server, '/v1/job/loki/deployment', (deployment) => deployment?.Status === 'successful', 15_000, {
      'X-Nomad-Token': TOKEN,
    });
    // The request log keeps methods and paths, never the token.
    expect(server.requests.length).toBeGreaterThan(5);
    expect(JSON.stringify(server.requests)).not.toContain(TOKEN);
  });
});

describe('namespaces', () => {
  test('jobs are keyed by namespace and ID; registering in an unknown namespace fails as Nomad does', async () => {
    await start({ namespaces: ['default', 'observability'] });
    const { register } = await deploy(server, { namespace: 'observability' });
    await evaluated(server, register.json.EvalID, 'observability');
    expect(await call(server, 'GET', '/v1/job/loki')).toMatchObject({ status: 404, text: 'job not found' });
    expect((await call(server, 'GET', '/v1/job/loki?namespace=observability')).json).toMatchObject({
      ID: 'loki',
      Namespace: 'observability',
    });
    await deploymentIs(server, 'successful', 0, 'loki', '?namespace=observability');
    expect((await call(server, 'GET', '/v1/job/loki/allocations?namespace=observability')).json).toHaveLength(3);
    expect((await call(server, 'GET', '/v1/job/loki/allocations')).json).toEqual([]);

    // ?namespace= wins over the job's own, as with `nomad job run -namespace`.
    const { job } = await deploy(server, {}, '?namespace=default');
    expect((await call(server, 'GET', '/v1/job/loki')).json.Namespace).toBe('default');
    expect((await call(server, 'GET', '/v1/jobs?namespace=*')).json.map((stub: Json) => stub.Namespace)).toEqual([
      'default',
      'observability',
    ]);
    expect((await call(server, 'GET', '/v1/namespaces')).json.map((namespace: Json) => namespace.Name)).toEqual([
      'default',
      'observability',
    ]);

    const unknown = await call(server, 'POST', '/v1/jobs?namespace=nope', { Job: job });
    expect(unknown).toMatchObject({
      status: 500,
      text: '1 error occurred:\n\t* job "loki" is in nonexistent namespace "nope"\n\n',
    });
  });
});

describe('errors', () => {
  test('validation: 400 from the agent for the request, 500 from the servers for the job', async () => {
    await start();
    const { json: job } = await parse(jobFile());
    expect(await call(server, 'POST', '/v1/jobs', {})).toMatchObject({ status: 400, text: 'Job must be specified' });
    expect(await call(server, 'POST', '/v1/jobs', '')).toMatchObject({ status: 400, text: 'EOF' });
    expect(await call(server, 'POST', '/v1/jobs', { Job: { ...job, ID: undefined } })).toMatchObject({
      status: 400,
      text: "Job ID hasn't been provided",
    });
    const noGroups = await call(server, 'POST', '/v1/jobs', { Job: { ID: 'empty', Datacenters: ['dc1'] } });
    expect(noGroups).toMatchObject({ status: 500, text: '1 error occurred:\n\t* Missing job task groups\n\n' });
    const negative = structuredClone(job);
    negative.TaskGroups[0].Count = -1;
    expect(await call(server, 'POST', '/v1/jobs', { Job: negative })).toMatchObject({
      status: 500,
      text: "1 error occurred:\n\t* Task group ingester validation failed: 1 error occurred:\n\t* Task group count can't be negative\n\n\n\n",
    });
    const wrongType = structuredClone(job);
    wrongType.TaskGroups[0].Count = '2';
    expect(await call(server, 'POST', '/v1/jobs', { Job: wrongType })).toMatchObject({
      status: 400,
      text: 'json: cannot unmarshal string into Go struct field TaskGroup.Job.TaskGroups.Count of type int',
    });
    expect((await call(server, 'GET', '/v1/jobs')).json).toEqual([]);
  });

  test('unknown routes 404 with no body, wrong methods 405, endpoints the double lacks 501', async () => {
    await start();
    expect(await call(server, 'GET', '/v1/nothing')).toMatchObject({ status: 404, text: '' });
    expect(await call(server, 'DELETE', '/v1/jobs')).toMatchObject({ status: 405, text: 'Invalid method' });
    expect(await call(server, 'POST', '/v1/job/loki/allocations', {})).toMatchObject({
      status: 405,
      text: 'Invalid method',
    });
    expect(await call(server, 'POST', '/v1/status/leader')).toMatchObject({ status: 405, text: 'Invalid method' });
    expect(await call(server, 'GET', '/v1/jobs/parse')).toMatchObject({ status: 405, text: 'Invalid method' });
    expect((await call(server, 'GET', '/v1/nodes')).status).toBe(501);
    expect((await call(server, 'POST', '/v1/job/loki/evaluate', {})).status).toBe(501);
    expect(await call(server, 'GET', '/v1/jobs?region=eu-west')).toMatchObject({
      status: 500,
      text: 'No path to region',
    });
  });
});

describe('variables', () => {
  test('GET, PUT and DELETE /v1/var/:path per namespace; cas conflicts answer 409 with the current variable', async () => {
    await start({ namespaces: ['default', 'observability'] });
    const path = '/v1/var/nomad/jobs/loki';
    expect(await call(server, 'GET', `${path}?namespace=observability`)).toMatchObject({
      status: 404,
      text: 'variable not found',
    });
    const created = await call(server, 'PUT', `${path}?namespace=observability&cas=0`, {
      Path: 'nomad/jobs/loki',
      Items: { 'runtime.yaml': 'overrides: {}\n' },
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      Namespace: 'observability',
      Path: 'nomad/jobs/loki',
      Items: { 'runtime.yaml': 'overrides: {}\n' },
    });
    const first = created.json as Json;
    expect(first.CreateIndex).toBe(first.ModifyIndex);
    expect(created.index).toBe(first.ModifyIndex);
    // Another namespace has no such variable.
    expect((await call(server, 'GET', path)).status).toBe(404);
    // cas=0 on an existing variable, or a stale index: 409 and the variable as it is.
    const again = await call(server, 'PUT', `${path}?namespace=observability&cas=0`, { Items: { a: 'b' } });
    expect(again).toMatchObject({ status: 409, json: first });
    const updated = await call(server, 'PUT', `${path}?namespace=observability&cas=${first.ModifyIndex}`, {
      Items: { a: 'b' },
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ CreateIndex: first.CreateIndex, Items: { a: 'b' } });
    expect((updated.json as Json).ModifyIndex).toBeGreaterThan(first.ModifyIndex);
    expect(
      (await call(server, 'PUT', `${path}?namespace=observability&cas=${first.ModifyIndex}`, { Items: { c: 'd' } }))
        .status,
    ).toBe(409);
    expect(await call(server, 'GET', '/v1/vars?prefix=nomad/jobs&namespace=observability')).toMatchObject({
      status: 200,
      json: [{ Namespace: 'observability', Path: 'nomad/jobs/loki', ModifyIndex: (updated.json as Json).ModifyIndex }],
    });
    expect(((await call(server, 'GET', '/v1/vars?namespace=*')).json as Json[])[0]).not.toHaveProperty('Items');
    // Invalid requests.
    expect(await call(server, 'PUT', `${path}?namespace=observability`, { Items: {} })).toMatchObject({
      status: 400,
      text: 'variable missing required Items object',
    });
    expect((await call(server, 'PUT', '/v1/var/a.b', { Items: { a: 'b' } })).status).toBe(400);
    expect((await call(server, 'PUT', `${path}?namespace=nowhere`, { Items: { a: 'b' } })).status).toBe(500);
    // Delete: a stale cas conflicts; without cas it goes.
    expect((await call(server, 'DELETE', `${path}?namespace=observability&cas=1`)).status).toBe(409);
    expect((await call(server, 'DELETE', `${path}?namespace=observability`)).status).toBe(200);
    expect((await call(server, 'GET', `${path}?namespace=observability`)).status).toBe(404);
  });

  test('with ACLs, variables need the token', async () => {
    await start({ aclToken: 'tok' });
    expect(await call(server, 'GET', '/v1/var/x')).toMatchObject({ status: 403, text: 'Permission denied' });
    expect((await call(server, 'PUT', '/v1/var/x', { Items: { a: 'b' } })).status).toBe(403);
    expect((await call(server, 'PUT', '/v1/var/x', { Items: { a: 'b' } }, { 'X-Nomad-Token': 'tok' })).status).toBe(
      200,
    );
  });
});
