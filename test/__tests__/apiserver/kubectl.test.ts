// kubectl against the test API server: apply --server-side, get, rollout status, logs and delete of the
// rendered stack. Runs every kubectl it finds: $KUBECTL (npm test sets it to Debian's kubernetes-client, 1.20),
// `kubectl` on PATH, and Debian's unpacked into .cache/kubernetes-client as npm test does it. At least one
// must be there.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { parseSpec, renderKubernetes, toYaml } from 'loki-microservices';
import { startTestApiServer, type RunningApiServer } from '../../src/apiserver/index.js';
import { generatedSecrets } from './stack.js';

// kubectl is a separate process that starts in about a second; the stack needs a few of those.
jest.setTimeout(60_000);

const onPath = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'kubectl'))
  .find(existsSync);
const unpacked = fileURLToPath(new URL('../../../.cache/kubernetes-client/usr/bin/kubectl', import.meta.url));
const KUBECTLS = [
  ...new Set(
    [process.env.KUBECTL, onPath, unpacked]
      .filter((path): path is string => !!path && existsSync(path))
      .map((path) => realpathSync(path)),
  ),
];

/**
 * Longer than any kubectl takes to send every DELETE of the stack, on any machine: the delete test then cuts it
 * short itself, once kubectl has sent them all.
 */
const NAMESPACE_DELETION_DELAY_MS = 10 * 60_000;

test('a kubectl to test with is installed ($KUBECTL, PATH or .cache/kubernetes-client)', () => {
  expect(KUBECTLS.length).toBeGreaterThan(0);
});

describe.each(KUBECTLS)('%s', (kubectl) => {
  let running: RunningApiServer;
  let version: { major: number; minor: number };
  const manifest = join(mkdtempSync(join(tmpdir(), 'kubectl-')), 'stack.yaml');
  let objectsInManifest = 0;

  const run = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(kubectl, args, {
        env: { ...process.env, KUBECONFIG: running.kubeconfigPath },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
  // kubectl before 1.27 validates against OpenAPI v2 (protobuf), which the double does not serve; later
  // ones ask the server to validate (fieldValidation=Strict), which it does.
  const validate = () => (version.minor < 27 ? ['--validate=false'] : []);

  beforeAll(async () => {
    running = await startTestApiServer({ readyAfterMs: 20, namespaceDeletionDelayMs: NAMESPACE_DELETION_DELAY_MS });
    // With the Secrets `apply` would generate, as a GitOps user provides them: the pods cannot start without them.
    const rendered = renderKubernetes(parseSpec({ spec: { profile: 'small' } }));
    const namespaces = rendered.objects.filter((object) => object.kind === 'Namespace');
    const others = rendered.objects.filter((object) => object.kind !== 'Namespace');
    const objects = [...namespaces, ...generatedSecrets(rendered.generatedSecrets), ...others];
    objectsInManifest = objects.length;
    writeFileSync(manifest, toYaml(objects));
    const { stdout } = await run('version', '--client', '-o', 'json');
    const client = (JSON.parse(stdout) as { clientVersion: { major: string; minor: string } }).clientVersion;
    version = { major: Number(client.major), minor: Number.parseInt(client.minor, 10) };
  });
  afterAll(async () => {
    await running.close();
  });

  test('apply --server-side creates every object, and applying again changes nothing', async () => {
    const first = await run('apply', '--server-side', ...validate(), '-f', manifest);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/namespace\/loki serverside-applied/);
    expect(first.stdout).toMatch(/statefulset\.apps\/loki-ingester serverside-applied/);
    const versions = running.server.store.list('StatefulSet', 'loki').map((s) => s.metadata.resourceVersion);
    const again = await run('apply', '--server-side', ...validate(), '-f', manifest);
    expect(again.code).toBe(0);
    expect(running.server.store.list('StatefulSet', 'loki').map((s) => s.metadata.resourceVersion)).toEqual(versions);
  });

  test('get shows the workloads as server-side tables, and they become ready', async () => {
    await running.server.cluster.idle();
    const { code, stdout } = await run('get', '-n', 'loki', 'deployments,statefulsets');
    expect(code).toBe(0);
    expect(stdout).toMatch(/loki-distributor\s+2\/2\s+2\s+2/);
    expect(stdout).toMatch(/loki-ingester\s+3\/3/);
    const rollout = await run('rollout', 'status', '-n', 'loki', 'statefulset/loki-ingester', '--timeout=30s');
    expect(rollout.code).toBe(0);
    const pods = JSON.parse((await run('get', '-n', 'loki', 'pods', '-o', 'json')).stdout) as {
      items: { status: { phase: string } }[];
    };
    expect(pods.items.length).toBeGreaterThanOrEqual(16);
    expect(new Set(pods.items.map((p) => p.status.phase))).toEqual(new Set(['Running']));
  });

  test('logs of a pod, and a field owned by another manager refused with the conflict named', async () => {
    const logs = await run('logs', '-n', 'loki', 'loki-ingester-0', '--tail=3');
    expect(logs.code).toBe(0);
    expect(logs.stdout.trim().split('\n')).toHaveLength(3);
    const conflict = await run('apply', '--server-side', ...validate(), '--field-manager=other', '-f', manifest);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toMatch(/Apply failed with \d+ conflicts?: conflicts? with "kubectl"/);
  });

  test('get leases shows the holder', async () => {
    running.server.api.create(
      'Lease',
      'loki',
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'loki-lock' },
        spec: { holderIdentity: 'runner-a' },
      },
      { manager: 'test' },
    );
    const { code, stdout } = await run('get', '-n', 'loki', 'leases');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^NAME\s+HOLDER\s+AGE\n/);
    expect(stdout).toMatch(/loki-lock\s+runner-a\s+\d+s/);
  });

  test('delete -f with the Namespace first: every object is still there to delete, then kubectl waits for the namespace to empty and go', async () => {
    running.server.faults.clearLog();
    const deleting = run('delete', '-f', manifest);
    // The namespace controller starts once kubectl has sent every DELETE (on a real cluster it starts at once,
    // and a slow kubectl can meet NotFound there too): whatever the machine's speed, the race goes one way.
    const deletes = () => running.server.faults.requests.filter((r) => r.method === 'DELETE');
    const deadline = Date.now() + 120_000;
    while (deletes().filter((r) => r.status !== 0).length < objectsInManifest && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(running.server.store.get('Namespace', undefined, 'loki')?.metadata.deletionTimestamp).toBeDefined();
    running.server.cluster.setNamespaceDeletionDelayMs(0);
    const { code, stdout, stderr } = await deleting;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(deletes()).toHaveLength(objectsInManifest);
    expect(deletes().every((r) => r.status === 200)).toBe(true);
    expect(stdout).toMatch(/namespace "loki" deleted/);
    expect(stdout).toMatch(/statefulset\.apps "loki-ingester" deleted/);
    // kubectl waited until everything was gone, the namespace too.
    expect(running.server.store.get('Namespace', undefined, 'loki')).toBeUndefined();
    const namespaces = await run('get', 'namespaces', '-o', 'name');
    expect(namespaces.stdout).not.toMatch(/namespace\/loki/);
  });
});
