import type { KubernetesObject, V1StatefulSet } from '@kubernetes/client-node';
import { SpecError } from '../../src/errors.js';
import { parseSpec } from '../../src/spec/parse.js';
import { renderKubernetes } from '../../src/kubernetes/render/index.js';
import { lokiConfig } from '../../src/kubernetes/render/loki-config.js';
import { renderNomad } from '../../src/nomad/render/index.js';

/** Every message of a spec's SpecError, as `path: message`. */
function problemsOf(document: Record<string, unknown>): string[] {
  try {
    parseSpec(document);
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
}

const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const withDiscovery = (discovery: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
  parseSpec({ metadata: { namespace: 'logs' }, spec: { ...spec, rules: { ...(spec.rules as object), discovery } } });

const ruler = (objects: KubernetesObject[]) =>
  objects.find((object) => object.kind === 'StatefulSet' && object.metadata?.name === 'loki-ruler') as V1StatefulSet;

describe('spec.rules.discovery is checked in the core, each problem naming the field and the fix', () => {
  test('namespaces must be DNS labels, each listed once', () => {
    expect(problemsOf({ spec: { rules: { discovery: { enabled: true, namespaces: ['a', 'Team_B'] } } } })).toEqual([
      'spec.rules.discovery.namespaces[1]: must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
    ]);
    expect(problemsOf({ spec: { rules: { discovery: { enabled: true, namespaces: ['a', 'b', 'a'] } } } })).toEqual([
      'spec.rules.discovery.namespaces[2]: "a" is listed twice: list each namespace once',
    ]);
  });

  test('the label selector is one valid label', () => {
    expect(problemsOf({ spec: { rules: { discovery: { labelSelector: { 'bad key': 'x' } } } } })).toEqual([
      expect.stringMatching(/^spec\.rules\.discovery\.labelSelector\.bad key: must be a valid label key/),
    ]);
    expect(problemsOf({ spec: { rules: { discovery: { labelSelector: { a: 'x y' } } } } })).toEqual([
      expect.stringMatching(/^spec\.rules\.discovery\.labelSelector\.a: must be a valid label value/),
    ]);
    expect(problemsOf({ spec: { rules: { discovery: { labelSelector: { a: '1', b: '2' } } } } })).toEqual([
      'spec.rules.discovery.labelSelector: must hold exactly one label (`{key: value}`): the sidecar matches a single label',
    ]);
  });

  test('discovery needs the ruler', () => {
    expect(
      problemsOf({ spec: { components: { ruler: { enabled: false } }, rules: { discovery: { enabled: true } } } }),
    ).toEqual([
      'spec.rules.discovery.enabled: needs the ruler: set spec.components.ruler.enabled: true, or spec.rules.discovery.enabled: false',
    ]);
  });

  test('Nomad refuses it: there are no ConfigMaps to collect', () => {
    const stack = withDiscovery(
      { enabled: true },
      { storage: { type: 's3', s3: { bucket: 'loki', region: 'eu-west-1' } }, nomad: { datacenters: ['dc1'] } },
    );
    expect(() => renderNomad(stack)).toThrow(SpecError);
    try {
      renderNomad(stack);
    } catch (error) {
      expect((error as SpecError).issues).toContainEqual({
        path: 'spec.rules.discovery.enabled',
        message:
          'collects Kubernetes ConfigMaps, which Nomad has none of: set it to false and declare the rules in spec.rules.files or spec.rules.inline',
      });
    }
  });
});

describe('the rendered discovery', () => {
  const stack = withDiscovery(
    { enabled: true, labelSelector: { 'example.com/rules': 'yes' }, namespaces: ['team-a', 'team-b'] },
    {
      auth: { enabled: true, tenant: 'team-a' },
      serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/loki' } },
      rules: {
        inline: { 'team-a': [{ name: 'g', rules: [{ alert: 'A', expr: 'count_over_time({a="b"}[5m]) > 0' }] }] },
      },
    },
  );
  const { objects } = renderKubernetes(stack);
  const pod = ruler(objects).spec!.template.spec!;

  test('a ServiceAccount of its own, and a Role (read ConfigMaps only) and RoleBinding in each listed namespace', () => {
    const rbac = objects.filter((object) => object.kind === 'Role' || object.kind === 'RoleBinding');
    expect(rbac.map((object) => `${object.kind} ${object.metadata!.namespace}/${object.metadata!.name}`)).toEqual([
      'Role team-a/loki-rules-discovery',
      'Role team-b/loki-rules-discovery',
      'RoleBinding team-a/loki-rules-discovery',
      'RoleBinding team-b/loki-rules-discovery',
    ]);
    for (const object of rbac) {
      expect(object.metadata!.labels!['loki-microservices/stack-namespace']).toBe('logs');
      expect(object.metadata!.annotations!['loki-microservices/created-for']).toBe('loki');
    }
    expect(rbac.filter((object) => object.kind === 'Role').map((role) => (role as { rules: unknown }).rules)).toEqual([
      [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
    ]);
    expect(rbac.find((object) => object.kind === 'RoleBinding')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'loki-rules-discovery' },
      subjects: [{ kind: 'ServiceAccount', name: 'loki-rules-discovery', namespace: 'logs' }],
    });
    const account = objects.find(
      (object) => object.kind === 'ServiceAccount' && object.metadata!.name === 'loki-rules-discovery',
    );
    expect(account).toMatchObject({
      automountServiceAccountToken: false,
      metadata: {
        namespace: 'logs',
        // The ruler runs as this account: it keeps the stack's cloud identity.
        annotations: {
          'loki-microservices/rules-discovery-namespaces': 'team-a,team-b',
          'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/loki',
        },
      },
    });
    expect(pod.serviceAccountName).toBe('loki-rules-discovery');
  });

  test('the token is mounted into the sidecar container only; the pod mounts none', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    const tokenVolumes = pod.volumes!.filter((volume) =>
      volume.projected?.sources?.some((source) => source.serviceAccountToken),
    );
    expect(tokenVolumes).toHaveLength(1);
    const mountsOf = (name: string) =>
      [...pod.containers, ...(pod.initContainers ?? [])]
        .filter((container) => container.volumeMounts?.some((mount) => mount.name === name))
        .map((container) => container.name);
    expect(mountsOf(tokenVolumes[0]!.name)).toEqual(['rules-discovery']);
    const sidecar = pod.containers.find((container) => container.name === 'rules-discovery')!;
    expect(sidecar.volumeMounts).toContainEqual({ name: tokenVolumes[0]!.name, mountPath: TOKEN_DIR, readOnly: true });
    // Nothing of the stack's other pods holds a token.
    for (const object of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const spec = (object as V1StatefulSet).spec!.template.spec!;
      expect(spec.automountServiceAccountToken).toBe(false);
      if (object !== ruler(objects))
        expect(
          spec.volumes?.some((volume) => volume.projected?.sources?.some((s) => s.serviceAccountToken)),
        ).toBeFalsy();
    }
  });

  test('the sidecar collects the labelled ConfigMaps of the listed namespaces into tenant folders of the rules directory', () => {
    const sidecar = pod.containers.find((container) => container.name === 'rules-discovery')!;
    expect(sidecar.image).toMatch(/^docker\.io\/kiwigrid\/k8s-sidecar:\d+\.\d+\.\d+$/);
    expect(Object.fromEntries(sidecar.env!.map(({ name, value }) => [name, value]))).toEqual({
      LABEL: 'example.com/rules',
      LABEL_VALUE: 'yes',
      FOLDER: '/etc/loki/rules',
      FOLDER_ANNOTATION: 'loki-microservices/rules-tenant',
      NAMESPACE: 'team-a,team-b',
      RESOURCE: 'configmap',
      UNIQUE_FILENAMES: 'true',
    });
    expect(lokiConfig(stack).ruler).toMatchObject({
      storage: { type: 'local', local: { directory: '/etc/loki/rules' } },
    });
  });

  test('discovered and declared files cannot overwrite each other: the sidecar writes an emptyDir Loki reads, the declared folders are mounted over it in Loki only', () => {
    const loki = pod.containers.find((container) => container.name === 'loki')!;
    const sidecar = pod.containers.find((container) => container.name === 'rules-discovery')!;
    const emptyDir = pod.volumes!.find((volume) => volume.emptyDir && volume.name === 'rules-discovered')!;
    expect(sidecar.volumeMounts).toContainEqual({ name: emptyDir.name, mountPath: '/etc/loki/rules' });
    const lokiRules = loki.volumeMounts!.filter((mount) => mount.mountPath.startsWith('/etc/loki/rules'));
    expect(lokiRules).toEqual([
      { name: emptyDir.name, mountPath: '/etc/loki/rules', readOnly: true },
      { name: expect.stringMatching(/^rules-/), mountPath: '/etc/loki/rules/team-a', readOnly: true },
    ]);
    // The sidecar never sees the declared ConfigMaps, so cannot write into them.
    expect(sidecar.volumeMounts!.map((mount) => mount.name)).not.toContain(lokiRules[1]!.name);
  });

  test('the sidecar runs as Pod Security "restricted" asks', () => {
    const sidecar = pod.containers.find((container) => container.name === 'rules-discovery')!;
    expect(sidecar.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test("without namespaces it reads the stack's own; switched off, nothing of it is rendered", () => {
    const own = renderKubernetes(withDiscovery({ enabled: true })).objects;
    expect(own.filter((o) => o.kind === 'Role').map((o) => o.metadata!.namespace)).toEqual(['logs']);
    const off = renderKubernetes(withDiscovery({ enabled: false, namespaces: ['team-a'] })).objects;
    expect(off.some((o) => o.kind === 'Role' || o.metadata?.name === 'loki-rules-discovery')).toBe(false);
    expect(ruler(off).spec!.template.spec!.containers.map((c) => c.name)).toEqual(['loki']);
  });
});
