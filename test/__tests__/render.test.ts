// What each profile promises, images, labels and deterministic output.
import type {
  KubernetesObject,
  V1Container,
  V1Deployment,
  V1PodDisruptionBudget,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { renderKubernetes, toYaml, parseSpec, type ComponentName, type LokiStackInput } from 'loki-microservices';
import { discoveryNamespaces, parseQuantity, stackSelector } from 'loki-microservices/testing';
import { allContainers, render, workloads } from '../src/objects.js';
import { SHOP_RULES, specMatrix } from '../src/specs.js';

type Workload = V1Deployment | V1StatefulSet;

/** What the scheduler must find for the whole stack: per pod, the larger of its init and regular needs. */
function totalRequests(objects: KubernetesObject[]): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const { object, template } of workloads(objects)) {
    const replicas = (object as Workload).spec!.replicas ?? 1;
    const sum = (containers: V1Container[], resource: 'cpu' | 'memory') =>
      containers.reduce((total, c) => total + parseQuantity(c.resources?.requests?.[resource] ?? '0'), 0);
    const max = (containers: V1Container[], resource: 'cpu' | 'memory') =>
      Math.max(0, ...containers.map((c) => parseQuantity(c.resources?.requests?.[resource] ?? '0')));
    const init = template.spec!.initContainers ?? [];
    cpu += replicas * Math.max(sum(template.spec!.containers, 'cpu'), max(init, 'cpu'));
    memory += replicas * Math.max(sum(template.spec!.containers, 'memory'), max(init, 'memory'));
  }
  return { cpu, memory };
}

const replicasOf = (objects: KubernetesObject[], name: string) => {
  const workload = objects.find(
    (o) => (o.kind === 'Deployment' || o.kind === 'StatefulSet') && o.metadata!.name === name,
  ) as Workload;
  return workload.spec!.replicas;
};

describe('profile demo', () => {
  const { stack, objects } = render({});

  test('fits a single-node kind cluster: requests ≤ 1.5 CPU and 3 GiB in total', () => {
    const total = totalRequests(objects);
    expect(total.cpu).toBeLessThanOrEqual(1.5);
    expect(total.memory).toBeLessThanOrEqual(3 * 2 ** 30);
    expect(total.cpu).toBeGreaterThan(0.3); // every pod requests something
  });

  test('replication factor 1, one replica of each of the eight components, bundled store', () => {
    expect(stack.spec.replicationFactor).toBe(1);
    const components = workloads(objects).map((w) => w.object.metadata!.labels!['app.kubernetes.io/component']);
    expect(components.sort()).toEqual([
      'compactor',
      'distributor',
      'index-gateway',
      'ingester',
      'object-store',
      'querier',
      'query-frontend',
      'query-scheduler',
      'ruler',
    ]);
    for (const { object } of workloads(objects)) expect((object as Workload).spec!.replicas).toBe(1);
    expect(stack.spec.storage.type).toBe('bundled');
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  test('soft anti-affinity, no zone spreading', () => {
    for (const { object, template } of workloads(objects)) {
      if (object.metadata!.name === 'loki-object-store') continue;
      expect(template.spec!.affinity!.podAntiAffinity!.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
      expect(template.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
      expect(template.spec!.topologySpreadConstraints).toBeUndefined();
    }
  });
});

describe('profile small', () => {
  const { stack, objects } = render({ spec: { profile: 'small' } });

  test('replication factor 3, three ingesters, two of each stateless component', () => {
    expect(stack.spec.replicationFactor).toBe(3);
    expect(replicasOf(objects, 'loki-ingester')).toBe(3);
    for (const name of ['distributor', 'querier', 'query-frontend', 'query-scheduler'])
      expect(replicasOf(objects, `loki-${name}`)).toBe(2);
    expect(replicasOf(objects, 'loki-compactor')).toBe(1);
  });

  test('a PodDisruptionBudget for every component with more than one pod, and only those', () => {
    const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget') as V1PodDisruptionBudget[];
    const multi = workloads(objects)
      .filter((w) => ((w.object as Workload).spec!.replicas ?? 1) > 1)
      .map((w) => w.object.metadata!.name);
    expect(budgets.map((b) => b.metadata!.name).sort()).toEqual(multi.sort());
    for (const budget of budgets) {
      expect(budget.spec!.maxUnavailable).toBe(1);
      const workload = workloads(objects).find((w) => w.object.metadata!.name === budget.metadata!.name)!
        .object as Workload;
      expect(budget.spec!.selector).toEqual(workload.spec!.selector);
    }
  });
});

describe('profile production', () => {
  const storage = { type: 's3' as const, s3: { bucket: 'acme-loki', region: 'eu-west-1', secretName: 'loki-s3' } };
  const production = render({ spec: { profile: 'production', storage } });
  const small = render({ spec: { profile: 'small', storage } });

  test('requests more than small for every component', () => {
    for (const [name, component] of Object.entries(production.stack.spec.components)) {
      const smallComponent = small.stack.spec.components[name as ComponentName];
      for (const resource of ['cpu', 'memory'] as const) {
        expect(parseQuantity(component.resources.requests![resource]!)).toBeGreaterThan(
          parseQuantity(smallComponent.resources.requests![resource]!),
        );
      }
    }
  });

  test('spreads every Loki component over zones', () => {
    for (const { object, template } of workloads(production.objects)) {
      expect({
        name: object.metadata!.name,
        spread: template.spec!.topologySpreadConstraints?.[0]?.topologyKey,
      }).toEqual({ name: object.metadata!.name, spread: 'topology.kubernetes.io/zone' });
    }
  });

  test('hard anti-affinity on request', () => {
    const hard = render({
      spec: { profile: 'production', storage, scheduling: { antiAffinity: 'hard', zoneSpread: true } },
    });
    for (const { object, template } of workloads(hard.objects)) {
      const [term] = template.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution!;
      expect(term!.topologyKey).toBe('kubernetes.io/hostname');
      expect(term!.labelSelector!.matchLabels).toEqual((object as Workload).spec!.selector.matchLabels);
    }
  });

  test('makes the user choose the object store', () => {
    expect(() => parseSpec({ spec: { profile: 'production' } })).toThrow(
      /spec\.storage\.type: required for profile production/,
    );
  });
});

test('explicit fields override the profile, the rest of the profile stays', () => {
  const { stack } = render({
    spec: { profile: 'small', components: { ingester: { replicas: 5, resources: { limits: { memory: '3Gi' } } } } },
  });
  expect(stack.spec.components.ingester.replicas).toBe(5);
  expect(stack.spec.components.ingester.resources).toEqual({
    requests: { cpu: '250m', memory: '512Mi' },
    limits: { memory: '3Gi' },
  });
  expect(stack.spec.components.querier.replicas).toBe(2);
});

test('ingesters get five minutes to flush on shutdown; other Loki pods the default', () => {
  const { objects } = render({});
  for (const { object, template } of workloads(objects)) {
    const expected =
      object.metadata!.name === 'loki-ingester' ? 300 : object.metadata!.name === 'loki-object-store' ? undefined : 30;
    expect(template.spec!.terminationGracePeriodSeconds).toBe(expected);
  }
});

describe.each(specMatrix())('$name', ({ input }) => {
  const { stack, objects } = render(input);

  test('every image is pinned by tag or digest, never latest', () => {
    for (const { template } of workloads(objects)) {
      for (const container of allContainers(template)) {
        expect(container.image).toMatch(/^[^:@]+(:\d+)?\/[^:@]+(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/);
        expect(container.image).not.toMatch(/:latest$/);
      }
    }
  });

  test('every object carries the recommended labels and the stack selector finds it', () => {
    const selector = Object.fromEntries(
      stackSelector(stack.metadata.name)
        .split(',')
        .map((pair) => pair.split('=')),
    );
    for (const object of objects) {
      const labels = object.metadata!.labels!;
      for (const key of ['name', 'instance', 'part-of', 'managed-by', 'version'])
        expect(labels[`app.kubernetes.io/${key}`]).toBeTruthy();
      expect(labels).toEqual(expect.objectContaining(selector));
      expect(labels).toEqual(expect.objectContaining(stack.metadata.labels));
      // The discovery sidecar's Roles and RoleBindings live in the namespaces it reads.
      if (object.kind === 'Role' || object.kind === 'RoleBinding')
        expect(discoveryNamespaces(stack)).toContain(object.metadata!.namespace);
      else if (object.kind !== 'Namespace') expect(object.metadata!.namespace).toBe(stack.metadata.namespace);
    }
    for (const { template } of workloads(objects))
      expect(template.metadata!.labels!['app.kubernetes.io/component']).toBeTruthy();
  });

  test('objects are named <name>-<component>', () => {
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata!.name!.startsWith(stack.metadata.name)).toBe(true);
      expect(object.metadata!.name!.length).toBeLessThanOrEqual(63);
    }
  });

  test('rendering is deterministic', () => {
    expect(toYaml(renderKubernetes(parseSpec(input)).objects)).toBe(toYaml(objects));
  });
});

test('images follow spec.image, spec.version and storage.bundled.image', () => {
  const { objects } = render({
    spec: {
      version: '3.5.1',
      image: 'mirror.example.com/grafana/loki',
      storage: { type: 'bundled', bundled: { image: 'mirror.example.com/rustfs/rustfs@sha256:' + 'a'.repeat(64) } },
    },
  });
  const images = new Set(workloads(objects).flatMap((w) => allContainers(w.template).map((c) => c.image)));
  expect([...images].sort()).toEqual([
    'mirror.example.com/grafana/loki:3.5.1',
    `mirror.example.com/rustfs/rustfs@sha256:${'a'.repeat(64)}`,
  ]);
});

test('the order of fields in the input does not change the output', () => {
  const a = {
    metadata: { name: 'x', labels: { b: '2', a: '1' } },
    spec: { profile: 'small' as const, retention: '168h' },
  };
  const b = {
    spec: { retention: '168h', profile: 'small' as const },
    metadata: { labels: { a: '1', b: '2' }, name: 'x' },
  };
  expect(toYaml(render(a).objects)).toBe(toYaml(render(b).objects));
});

test('objects come in apply order', () => {
  const kinds = render({ spec: { profile: 'small' } }).objects.map((o) => o.kind);
  const firstIndex = (kind: string) => kinds.indexOf(kind);
  const lastIndex = (kind: string) => kinds.lastIndexOf(kind);
  expect(kinds[0]).toBe('Namespace');
  expect(lastIndex('ConfigMap')).toBeLessThan(firstIndex('Service'));
  expect(lastIndex('Service')).toBeLessThan(firstIndex('PersistentVolumeClaim'));
  expect(lastIndex('PersistentVolumeClaim')).toBeLessThan(
    Math.min(firstIndex('Deployment'), firstIndex('StatefulSet')),
  );
  expect(Math.max(lastIndex('Deployment'), lastIndex('StatefulSet'))).toBeLessThan(firstIndex('PodDisruptionBudget'));
});

test("a config change changes the pods' config hash; an unrelated change does not", () => {
  const hash = (input: Parameters<typeof render>[0]) =>
    workloads(render(input).objects).find((w) => w.object.metadata!.name === 'loki-querier')!.template.metadata!
      .annotations!['loki-microservices/config-hash'];
  expect(hash({ spec: { retention: '168h' } })).not.toBe(hash({}));
  expect(hash({ spec: { components: { querier: { replicas: 3 } } } })).toBe(hash({}));
});

describe('the ruler StatefulSet lists the declared rules for status, outside its pod template', () => {
  const withRules = (inline: Record<string, unknown[]>, files: { file: string; groups: unknown[] }[] = []) =>
    render({
      spec: {
        components: { ruler: { enabled: true } },
        auth: { enabled: true, tenant: 'team-a' },
        rules: { files: files.map(({ file }) => file), loadedFiles: files, inline },
      },
    } as LokiStackInput);
  const ruler = (objects: KubernetesObject[]) =>
    objects.find((object) => object.kind === 'StatefulSet' && object.metadata!.name === 'loki-ruler') as V1StatefulSet;

  test('tenant, rule file as the ruler names it, source and groups, as compact JSON', () => {
    const { objects } = withRules({ ops: [SHOP_RULES] }, [
      {
        file: 'rules/team-a.yaml',
        groups: [
          { ...SHOP_RULES, name: 'a-files' },
          { ...SHOP_RULES, name: 'a-more' },
        ],
      },
    ]);
    const annotation = ruler(objects).metadata!.annotations!['loki-microservices/rules']!;
    expect(JSON.parse(annotation)).toEqual([
      { tenant: 'ops', file: 'inline.yaml', source: 'spec.rules.inline.ops', groups: ['shop'] },
      { tenant: 'team-a', file: 'rules__team-a.yaml', source: 'rules/team-a.yaml', groups: ['a-files', 'a-more'] },
    ]);
    expect(annotation).not.toMatch(/\s/);
    expect(ruler(objects).spec!.template.metadata!.annotations ?? {}).not.toHaveProperty('loki-microservices/rules');
    const others = objects.filter((object) => object !== ruler(objects));
    expect(others.some((object) => object.metadata!.annotations?.['loki-microservices/rules'])).toBe(false);
    expect(
      ruler(render({ spec: { components: { ruler: { enabled: true } } } }).objects).metadata!.annotations,
    ).not.toHaveProperty('loki-microservices/rules');
  });

  test('changing a rule or a group changes the annotation, never the pod template (the ruler re-reads its files)', () => {
    const before = ruler(withRules({ ops: [SHOP_RULES] }).objects);
    const edited = ruler(
      withRules({
        ops: [
          { ...SHOP_RULES, rules: [{ alert: 'Any', expr: 'count_over_time({app="shop"}[1m]) > 0' }] },
          { ...SHOP_RULES, name: 'more' },
        ],
      }).objects,
    );
    expect(edited.spec!.template).toEqual(before.spec!.template);
    expect(edited.metadata!.annotations!['loki-microservices/rules']).not.toBe(
      before.metadata!.annotations!['loki-microservices/rules'],
    );
  });

  test("more groups than Kubernetes' 256 KiB of annotations can list: refused at render, naming spec.rules", () => {
    const groups = Array.from({ length: 3000 }, (_, index) => ({
      ...SHOP_RULES,
      name: `group-${index}-${'x'.repeat(80)}`,
    }));
    expect(() => withRules({ ops: groups })).toThrow(
      expect.objectContaining({
        issues: [
          expect.objectContaining({
            path: 'spec.rules',
            message: expect.stringMatching(
              /^declares 3000 rule groups, too many to list in the ruler's loki-microservices\/rules annotation \(\d+ KiB of annotations, Kubernetes allows 256 KiB\)/,
            ),
          }),
        ],
      }),
    );
    expect(() => withRules({ ops: groups.slice(0, 2000) })).not.toThrow();
  });
});

test('the default render', () => {
  expect(toYaml(render({}).objects)).toMatchSnapshot();
});
