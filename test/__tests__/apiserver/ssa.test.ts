// The server-side apply engine case by case: merge semantics per list and map type, ownership, prune,
// conflicts, records of ordinary writes, and the managedFields encoding.
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  appliedFields,
  applyObject,
  conflictStatus,
  fieldPaths,
  formatPath,
  fromFieldsV1,
  recordUpdate,
  relationshipAt,
  sameJson,
  SchemaError,
  toFieldsV1,
  type ApplyResult,
  type ManagedFieldsEntry,
} from '../../src/apiserver/ssa/index.js';

const [T0, T1, T2] = ['2024-05-01T10:00:00Z', '2024-05-01T10:01:00Z', '2024-05-01T10:02:00Z'];

type Json = Record<string, unknown>;

const configMap = (fields: Json = {}, metadata: Json = {}): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm', namespace: 'demo', ...metadata },
    ...fields,
  }) as KubernetesObject;

const deployment = (spec: Json, extra: Json = {}): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'demo' },
    spec,
    ...extra,
  }) as KubernetesObject;

const withContainers = (containers: Json[], spec: Json = {}): Json => ({
  selector: { matchLabels: { app: 'web' } },
  template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
  ...spec,
});

const service = (ports: Json[]): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'dns', namespace: 'demo' },
    spec: { ports },
  }) as KubernetesObject;

function apply(
  live: KubernetesObject | undefined,
  applied: KubernetesObject,
  manager: string,
  options: { force?: boolean; now?: string } = {},
): ApplyResult {
  return applyObject({ live, applied, manager, force: options.force ?? false, now: options.now ?? T1 });
}

function ok(result: ApplyResult): KubernetesObject {
  if (!result.ok) throw new Error(`unexpected conflicts: ${JSON.stringify(result.conflicts)}`);
  return result.object;
}

const entries = (object: KubernetesObject) => (object.metadata?.managedFields ?? []) as unknown as ManagedFieldsEntry[];

const fieldsOf = (object: KubernetesObject, manager: string, operation = 'Apply') =>
  entries(object).find((entry) => entry.manager === manager && entry.operation === operation)?.fieldsV1;

const containersOf = (object: KubernetesObject) =>
  (object as unknown as { spec: { template: { spec: { containers: Json[] } } } }).spec.template.spec.containers;

const specOf = (object: KubernetesObject) => (object as unknown as { spec: Json }).spec;

describe('associative lists merge item by item', () => {
  test('containers by name: live fields of an item stay, new items are appended', () => {
    const created = ok(
      apply(
        undefined,
        deployment(
          withContainers([
            { name: 'a', image: 'a:1' },
            { name: 'b', image: 'b:1' },
          ]),
        ),
        'loki',
      ),
    );
    const defaulted = structuredClone(created);
    containersOf(defaulted)[1]!.terminationMessagePath = '/dev/termination-log';
    const updated = ok(
      apply(
        defaulted,
        deployment(
          withContainers([
            { name: 'a', image: 'a:1' },
            { name: 'b', image: 'b:2' },
            { name: 'c', image: 'c:1' },
          ]),
        ),
        'loki',
      ),
    );
    expect(containersOf(updated)).toStrictEqual([
      { name: 'a', image: 'a:1' },
      { name: 'b', image: 'b:2', terminationMessagePath: '/dev/termination-log' },
      { name: 'c', image: 'c:1' },
    ]);
  });

  test('items both sides hold follow the configuration’s order; items only live holds keep their place', () => {
    const first = ok(apply(undefined, configMap({}, { finalizers: ['a', 'b', 'c'] }), 'first'));
    const second = ok(apply(first, configMap({}, { finalizers: ['c', 'x', 'a'] }), 'second'));
    expect(second.metadata?.finalizers).toStrictEqual(['b', 'c', 'x', 'a']);
  });

  test('Service ports are keyed by port and protocol: the same port over UDP is another item', () => {
    const created = ok(
      apply(
        undefined,
        service([
          { name: 'dns-udp', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ]),
        'loki',
      ),
    );
    const retargeted = ok(
      apply(created, service([{ port: 53, protocol: 'UDP', targetPort: 5353 }]), 'other', { force: true }),
    );
    expect(specOf(retargeted).ports).toStrictEqual([
      { name: 'dns-udp', port: 53, protocol: 'UDP', targetPort: 5353 },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
    ]);
    expect(fieldsOf(retargeted, 'other')).toStrictEqual({
      'f:spec': {
        'f:ports': {
          'k:{"port":53,"protocol":"UDP"}': { '.': {}, 'f:port': {}, 'f:protocol': {}, 'f:targetPort': {} },
        },
      },
    });
  });

  test('a set (finalizers) is owned value by value', () => {
    const first = ok(apply(undefined, configMap({}, { finalizers: ['a', 'b'] }), 'first'));
    expect(fieldsOf(first, 'first')).toStrictEqual({ 'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} } } });
    const shared = ok(apply(first, configMap({}, { finalizers: ['c'] }), 'second'));
    const pruned = ok(apply(shared, configMap({}, { finalizers: ['a'] }), 'first'));
    expect(pruned.metadata?.finalizers).toStrictEqual(['a', 'c']);
  });

  test('list items whose keys cannot be read are refused as Kubernetes refuses them', () => {
    const nameless = deployment(withContainers([{ image: 'a:1' }]));
    expect(() => apply(undefined, nameless, 'loki')).toThrow(SchemaError);
    expect(() => apply(undefined, nameless, 'loki')).toThrow(
      '.spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );
    expect(() => apply(undefined, deployment(withContainers([{ name: 'a' }, { name: 'a' }])), 'loki')).toThrow(
      '.spec.template.spec.containers: duplicate entries for key [name="a"]',
    );
    expect(() => apply(undefined, deployment(withContainers(['a'] as unknown as Json[])), 'loki')).toThrow(
      '.spec.template.spec.containers: element 0: associative list with keys may not have non-map elements',
    );
    expect(() => apply(undefined, configMap({}, { finalizers: [{ name: 'a' }] }), 'loki')).toThrow(
      '.metadata.finalizers: element 0: a set can only hold scalars',
    );
  });
});

describe('atomic fields are replaced and owned whole', () => {
  test('args: another manager’s list replaces the list', () => {
    const created = ok(apply(undefined, deployment(withContainers([{ name: 'a', args: ['-x', '-y'] }])), 'loki'));
    const forced = ok(
      apply(created, deployment(withContainers([{ name: 'a', args: ['-z'] }])), 'other', { force: true }),
    );
    expect(containersOf(forced)[0]?.args).toStrictEqual(['-z']);
    expect(fieldsOf(forced, 'other')).toMatchObject({
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { 'f:args': {} } } } } },
    });
  });

  test('a label selector is replaced with its matchLabels, where labels merge key by key', () => {
    const created = ok(
      apply(
        undefined,
        deployment(
          { selector: { matchLabels: { app: 'web', tier: 'front' } } },
          { metadata: { name: 'web', namespace: 'demo', labels: { app: 'web' } } },
        ),
        'loki',
      ),
    );
    const other = deployment(
      { selector: { matchLabels: { app: 'web' } } },
      { metadata: { name: 'web', namespace: 'demo', labels: { team: 'x' } } },
    );
    const forced = ok(apply(created, other, 'other', { force: true }));
    expect(specOf(forced).selector).toStrictEqual({ matchLabels: { app: 'web' } });
    expect(forced.metadata?.labels).toStrictEqual({ app: 'web', team: 'x' });
    expect(fieldsOf(forced, 'loki')).toStrictEqual({ 'f:metadata': { 'f:labels': { 'f:app': {} } } });
  });
});

describe('prune: fields the manager stopped applying', () => {
  test('are kept while another manager owns them too', () => {
    const first = ok(apply(undefined, configMap({ data: { x: '1', y: '1' } }), 'first'));
    const shared = ok(apply(first, configMap({ data: { y: '1' } }), 'second'));
    expect(fieldsOf(shared, 'first')).toStrictEqual({ 'f:data': { 'f:x': {}, 'f:y': {} } });
    const kept = ok(apply(shared, configMap({ data: { x: '1' } }), 'first'));
    expect((kept as unknown as Json).data).toStrictEqual({ x: '1', y: '1' });
    expect(fieldsOf(kept, 'first')).toStrictEqual({ 'f:data': { 'f:x': {} } });
    const dropped = ok(apply(kept, configMap(), 'second'));
    expect((dropped as unknown as Json).data).toStrictEqual({ x: '1' });
    expect(fieldsOf(dropped, 'second')).toBeUndefined();
  });

  test('take no more of the metadata than what the manager owned there', () => {
    const labelled = ok(apply(undefined, configMap({ data: { a: '1' } }, { labels: { app: 'x' } }), 'loki'));
    const unlabelled = ok(apply(labelled, configMap({ data: { a: '1' } }), 'loki'));
    expect(unlabelled.metadata).toStrictEqual({
      name: 'cm',
      namespace: 'demo',
      managedFields: [expect.objectContaining({ fieldsV1: { 'f:data': { 'f:a': {} } } })],
    });
  });

  test('go with everything in them nobody owns, defaults included', () => {
    const probe = { httpGet: { path: '/ready', port: 'http' } };
    const created = ok(
      apply(undefined, deployment(withContainers([{ name: 'a', image: 'a:1', readinessProbe: probe }])), 'loki'),
    );
    const defaulted = structuredClone(created);
    (containersOf(defaulted)[0]!.readinessProbe as Json).periodSeconds = 10;
    const pruned = ok(apply(defaulted, deployment(withContainers([{ name: 'a', image: 'a:1' }])), 'loki'));
    expect(containersOf(pruned)).toStrictEqual([{ name: 'a', image: 'a:1' }]);
  });

  test('leave what another manager owns inside a struct the manager dropped', () => {
    const limits = (values: Json) => deployment(withContainers([{ name: 'a', resources: { limits: values } }]));
    const first = ok(apply(undefined, limits({ cpu: '1' }), 'first'));
    const both = ok(apply(first, limits({ memory: '1Gi' }), 'second'));
    const pruned = ok(apply(both, deployment(withContainers([{ name: 'a' }])), 'first'));
    expect(containersOf(pruned)).toStrictEqual([{ name: 'a', resources: { limits: { memory: '1Gi' } } }]);
  });

  test('leave the rest of a struct whose owned part went, even when an absent field keeps it owned', () => {
    const entry = (manager: string, fieldsV1: Json) => ({
      manager,
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: T0,
      fieldsType: 'FieldsV1',
      fieldsV1,
    });
    const live = deployment(
      { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } },
      {
        metadata: {
          name: 'web',
          namespace: 'demo',
          managedFields: [
            entry('loki', {
              'f:spec': { 'f:replicas': {}, 'f:strategy': { 'f:rollingUpdate': { 'f:maxSurge': {} } } },
            }),
            // "other" still owns maxUnavailable, which the object no longer has.
            entry('other', { 'f:spec': { 'f:strategy': { 'f:rollingUpdate': { 'f:maxUnavailable': {} } } } }),
          ],
        },
      },
    );
    expect(specOf(ok(apply(live, deployment({ replicas: 1 }), 'loki')))).toStrictEqual({
      replicas: 1,
      strategy: { type: 'RollingUpdate' },
    });
  });

  test('a whole list item goes when the manager drops it', () => {
    const created = ok(
      apply(
        undefined,
        deployment(
          withContainers([
            { name: 'a', image: 'a:1' },
            { name: 'b', image: 'b:1' },
          ]),
        ),
        'loki',
      ),
    );
    expect(
      containersOf(ok(apply(created, deployment(withContainers([{ name: 'a', image: 'a:1' }])), 'loki'))),
    ).toStrictEqual([{ name: 'a', image: 'a:1' }]);
  });
});

describe('conflicts', () => {
  const created = ok(apply(undefined, deployment({ replicas: 2 }), 'loki', { now: T0 }));

  test('applying the value already there shares the field', () => {
    const shared = ok(apply(created, deployment({ replicas: 2 }), 'other'));
    expect(fieldsOf(shared, 'loki')).toStrictEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(fieldsOf(shared, 'other')).toStrictEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  test('an atomic field applied with the value already there is shared too', () => {
    const selector = {
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }],
    };
    const owned = ok(apply(undefined, deployment({ selector }), 'loki'));
    const shared = ok(apply(owned, deployment({ selector: structuredClone(selector) }), 'other'));
    expect(fieldsOf(shared, 'loki')).toStrictEqual({ 'f:spec': { 'f:selector': {} } });
    expect(fieldsOf(shared, 'other')).toStrictEqual({ 'f:spec': { 'f:selector': {} } });
  });

  test('applying another value conflicts with every other owner', () => {
    const shared = ok(apply(created, deployment({ replicas: 2 }), 'other'));
    expect(apply(shared, deployment({ replicas: 3 }), 'other')).toStrictEqual({
      ok: false,
      conflicts: [{ manager: 'loki', operation: 'Apply', apiVersion: 'apps/v1', field: '.spec.replicas' }],
    });
  });

  test('force takes the field from its other owners', () => {
    const forced = ok(apply(created, deployment({ replicas: 3 }), 'other', { force: true }));
    expect(specOf(forced).replicas).toBe(3);
    expect(fieldsOf(forced, 'loki')).toBeUndefined();
    expect(fieldsOf(forced, 'other')).toStrictEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  test('a field an update took is that updater’s: it conflicts as `using <apiVersion>`', () => {
    const scaled = recordUpdate(created, deployment({ replicas: 5 }, { metadata: created.metadata }), 'hpa', T1);
    const result = apply(scaled, deployment({ replicas: 2 }), 'loki');
    expect(result).toStrictEqual({
      ok: false,
      conflicts: [{ manager: 'hpa', operation: 'Update', apiVersion: 'apps/v1', field: '.spec.replicas' }],
    });
    if (result.ok) return;
    expect(conflictStatus(result.conflicts).message).toBe(
      'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas',
    );
  });

  test('fields of keyed items print with their keys', () => {
    const created = ok(
      apply(undefined, deployment(withContainers([{ name: 'loki', image: 'grafana/loki:3.4.2' }])), 'loki'),
    );
    const result = apply(created, deployment(withContainers([{ name: 'loki', image: 'grafana/loki:3.5.0' }])), 'other');
    expect(result.ok ? [] : result.conflicts.map((conflict) => conflict.field)).toStrictEqual([
      '.spec.template.spec.containers[name="loki"].image',
    ]);
    expect(formatPath(['f:spec', 'f:ports', 'k:{"port":3100,"protocol":"TCP"}', 'f:targetPort'])).toBe(
      '.spec.ports[port=3100,protocol="TCP"].targetPort',
    );
    expect(formatPath(['f:metadata', 'f:finalizers', 'v:"kubernetes"'])).toBe('.metadata.finalizers[="kubernetes"]');
  });

  test('several conflicts are grouped by manager, managers sorted, in the 409 body', () => {
    const owned = ok(apply(undefined, configMap({ data: { a: '1', b: '1' } }), 'loki-microservices'));
    const edited = recordUpdate(
      owned,
      configMap({ data: { a: '1', b: '1' } }, { labels: { team: 'x' }, managedFields: owned.metadata?.managedFields }),
      'kubectl-edit',
      T1,
    );
    const result = apply(edited, configMap({ data: { a: '2', b: '2' } }, { labels: { team: 'y' } }), 'other');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(conflictStatus(result.conflicts)).toStrictEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Apply failed with 3 conflicts: conflicts with "kubectl-edit" using v1:\n- .metadata.labels.team\nconflicts with "loki-microservices":\n- .data.a\n- .data.b',
      reason: 'Conflict',
      details: {
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "kubectl-edit" using v1',
            field: '.metadata.labels.team',
          },
          { reason: 'FieldManagerConflict', message: 'conflict with "loki-microservices"', field: '.data.a' },
          { reason: 'FieldManagerConflict', message: 'conflict with "loki-microservices"', field: '.data.b' },
        ],
      },
      code: 409,
    });
  });

  test('conflicts given in any order are grouped by manager, managers sorted', () => {
    const { message } = conflictStatus([
      { manager: 'zeta', field: '.a' },
      { manager: 'alpha', field: '.b' },
      { manager: 'zeta', field: '.c' },
    ]);
    expect(message).toBe(
      'Apply failed with 3 conflicts: conflicts with "alpha":\n- .b\nconflicts with "zeta":\n- .a\n- .c',
    );
  });

  test('a manager writing through a subresource is named with it', () => {
    const conflict = {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'apps/v1',
      subresource: 'status',
      field: '.metadata.annotations.x',
    } as const;
    expect(conflictStatus([conflict]).message).toBe(
      'Apply failed with 1 conflict: conflict with "kube-controller-manager" with subresource "status" using apps/v1: .metadata.annotations.x',
    );
  });

  test('status is neither owned nor in conflict through the main resource', () => {
    const withStatus = recordUpdate(
      created,
      deployment({ replicas: 2 }, { metadata: created.metadata, status: { replicas: 2 } }),
      'kube-controller-manager',
      T1,
      'status',
    );
    const result = ok(apply(withStatus, deployment({ replicas: 2 }, { status: { replicas: 3 } }), 'loki'));
    expect(fieldsOf(result, 'loki')).toStrictEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(fieldsOf(result, 'kube-controller-manager', 'Update')).toStrictEqual({
      'f:status': { '.': {}, 'f:replicas': {} },
    });
  });

  test('an object nobody manages yet conflicts with its existing values as `before-first-apply`', () => {
    const unmanaged = configMap({ data: { a: '1', b: '1' } });
    const result = apply(unmanaged, configMap({ data: { a: '2' } }), 'loki');
    expect(result).toStrictEqual({
      ok: false,
      conflicts: [{ manager: 'before-first-apply', operation: 'Update', apiVersion: 'v1', field: '.data.a' }],
    });
    const forced = ok(apply(unmanaged, configMap({ data: { a: '2' } }), 'loki', { force: true }));
    expect(fieldsOf(forced, 'before-first-apply', 'Update')).toStrictEqual({ 'f:data': { '.': {}, 'f:b': {} } });
    expect(fieldsOf(forced, 'loki')).toStrictEqual({ 'f:data': { 'f:a': {} } });
  });
});

describe('managedFields entries', () => {
  test('keep their time when the apply changes nothing, and take the apply’s time when it does', () => {
    const created = ok(apply(undefined, configMap({ data: { a: '1' } }), 'loki', { now: T0 }));
    const unchanged = ok(apply(created, configMap({ data: { a: '1' } }), 'loki', { now: T1 }));
    expect(unchanged).toStrictEqual(created);
    const changed = ok(apply(created, configMap({ data: { a: '2' } }), 'loki', { now: T2 }));
    expect(entries(changed).map((entry) => entry.time)).toStrictEqual([T2]);
  });

  test('are ordered as Kubernetes orders them: Apply before Update, then oldest first', () => {
    const created = recordUpdate(undefined, configMap({ data: { a: '1' } }), 'creator', T0);
    const late = ok(apply(created, configMap({ data: { b: '1' } }), 'zeta', { now: T1 }));
    const later = ok(apply(late, configMap({ data: { c: '1' } }), 'alpha', { now: T2 }));
    expect(entries(later).map(({ manager, operation, time }) => [manager, operation, time])).toStrictEqual([
      ['zeta', 'Apply', T1],
      ['alpha', 'Apply', T2],
      ['creator', 'Update', T0],
    ]);
  });

  test('never list the type, the name or server-set metadata, nor status on the main resource', () => {
    const applied = deployment(
      { replicas: 1 },
      {
        metadata: { name: 'web', namespace: 'demo', uid: 'u', resourceVersion: '7', generateName: 'w-' },
        status: { replicas: 1 },
      },
    );
    expect(toFieldsV1(appliedFields(applied))).toStrictEqual({
      'f:metadata': { 'f:generateName': {} },
      'f:spec': { 'f:replicas': {} },
    });
  });

  test('an explicit null is applied and owned as such', () => {
    const result = ok(apply(undefined, deployment({ replicas: null }), 'loki'));
    expect(specOf(result)).toStrictEqual({ replicas: null });
    expect(fieldsOf(result, 'loki')).toStrictEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  test.each([
    [{ operation: 'Patch' }, 'operation must be `Apply` or `Update`'],
    [{ apiVersion: '' }, 'apiVersion must not be empty'],
    [{ fieldsType: 'FieldsV2' }, 'invalid fieldsType "FieldsV2" in managed fields entry 0'],
  ])('that cannot be decoded make the apply fail: %j', (change, problem) => {
    const broken = configMap(
      {},
      {
        managedFields: [
          { manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {}, ...change },
        ],
      },
    );
    expect(() => apply(broken, configMap(), 'loki')).toThrow(`failed to decode managed fields: ${problem}`);
  });

  test('repeating a manager’s identity replace its earlier entry', () => {
    const entry = (fieldsV1: Json) => ({
      manager: 'editor',
      operation: 'Update',
      apiVersion: 'v1',
      time: T0,
      fieldsType: 'FieldsV1',
      fieldsV1,
    });
    const live = configMap(
      { data: { a: '1', b: '1' } },
      { managedFields: [entry({ 'f:data': { 'f:a': {} } }), entry({ 'f:data': { 'f:b': {} } })] },
    );
    const result = ok(apply(live, configMap({ data: { c: '1' } }), 'loki'));
    expect(entries(result).filter((candidate) => candidate.manager === 'editor')).toStrictEqual([
      entry({ 'f:data': { 'f:b': {} } }),
    ]);
  });
});

describe('recordUpdate: ownership after ordinary writes', () => {
  const applied = ok(
    apply(undefined, deployment(withContainers([{ name: 'a', image: 'a:1' }], { replicas: 2 })), 'loki', { now: T0 }),
  );
  const changed = (change: (spec: Json) => void, metadata: Json = applied.metadata as Json): KubernetesObject => {
    const next = structuredClone({ ...applied, metadata }) as KubernetesObject;
    change(specOf(next));
    return next;
  };

  test('the writer takes the fields it changed from their owners', () => {
    const updated = recordUpdate(
      applied,
      changed((spec) => ((spec.template as { spec: { containers: Json[] } }).spec.containers[0]!.image = 'a:2')),
      'kubectl-set',
      T1,
    );
    expect(
      entries(updated).map(({ manager, operation, apiVersion, time }) => [manager, operation, apiVersion, time]),
    ).toStrictEqual([
      ['loki', 'Apply', 'apps/v1', T0],
      ['kubectl-set', 'Update', 'apps/v1', T1],
    ]);
    expect(fieldsOf(updated, 'kubectl-set', 'Update')).toStrictEqual({
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { 'f:image': {} } } } } },
    });
    const loki = fieldsOf(updated, 'loki') as { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': Json } } } };
    expect(loki['f:spec']['f:template']['f:spec']['f:containers']).toStrictEqual({
      'k:{"name":"a"}': { '.': {}, 'f:name': {} },
    });
  });

  test('an entry left owning nothing is dropped', () => {
    const owner = ok(apply(undefined, configMap({ data: { a: '1' } }), 'loki'));
    const updated = recordUpdate(
      owner,
      configMap({ data: { a: '2' } }, { managedFields: owner.metadata?.managedFields }),
      'editor',
      T2,
    );
    expect(entries(updated).map((entry) => entry.manager)).toStrictEqual(['editor']);
  });

  test('a create owns all it sets, `.` marking what the empty object lacks; status is not the resource’s', () => {
    const created = recordUpdate(
      undefined,
      deployment(withContainers([{ name: 'a', image: 'a:1' }], { replicas: 2 }), { status: { replicas: 0 } }),
      'kubectl-create',
      T0,
    );
    expect(entries(created)).toStrictEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
  });

  test('through /status only status counts, in an entry of its own, whatever managedFields the request carries', () => {
    const next = changed((spec) => (spec.replicas = 9), { ...applied.metadata, managedFields: [] });
    const updated = recordUpdate(
      applied,
      { ...next, status: { replicas: 2 } } as KubernetesObject,
      'kube-controller-manager',
      T1,
      'status',
    );
    expect(entries(updated).find((entry) => entry.manager === 'kube-controller-manager')).toMatchObject({
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:replicas': {} } },
    });
    expect(fieldsOf(updated, 'loki')).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
  });

  test('a write that changes nothing of the writer’s leaves its entry and time alone', () => {
    const scaled = recordUpdate(
      applied,
      changed((spec) => (spec.replicas = 5)),
      'hpa',
      T1,
    );
    const again = recordUpdate(scaled, structuredClone(scaled), 'hpa', T2);
    expect(again).toStrictEqual(scaled);
  });

  test('managedFields the request carries replace the live ones; an empty list or entry clears them', () => {
    const otherEntries = [
      {
        manager: 'someone',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:replicas': {} } },
      },
    ];
    const edited = recordUpdate(
      applied,
      changed(() => undefined, { ...applied.metadata, managedFields: otherEntries }),
      'kubectl',
      T1,
    );
    expect(entries(edited)).toStrictEqual(otherEntries);
    for (const cleared of [[], [{}]]) {
      expect(
        recordUpdate(
          applied,
          changed(() => undefined, { ...applied.metadata, managedFields: cleared }),
          'kubectl',
          T1,
        ).metadata,
      ).not.toHaveProperty('managedFields');
    }
  });

  test('without managedFields in the request, or with undecodable ones, the live ones carry on', () => {
    const { managedFields: _, ...metadata } = applied.metadata!;
    const broken = [{ manager: 'x', operation: 'Patch' }];
    for (const sent of [metadata, { ...metadata, managedFields: broken }]) {
      const updated = recordUpdate(
        applied,
        changed((spec) => (spec.replicas = 3), sent),
        'kubectl',
        T1,
      );
      expect(entries(updated).map(({ manager, time }) => [manager, time])).toStrictEqual([
        ['loki', T0],
        ['kubectl', T1],
      ]);
    }
  });

  test('an existing object without managedFields stays without', () => {
    const untracked = configMap({ data: { a: '1' } });
    expect(recordUpdate(untracked, configMap({ data: { a: '2' } }), 'editor', T1)).toStrictEqual(
      configMap({ data: { a: '2' } }),
    );
  });
});

describe('fieldsV1 encoding', () => {
  test('orders fields, then keys (numbers by value), with `.` first', () => {
    const set = fromFieldsV1({
      'k:{"port":3100}': {},
      'f:b': {},
      'k:{"port":80}': { 'f:x': {}, '.': {} },
      'f:a': { 'f:c': {} },
    });
    expect(JSON.stringify(toFieldsV1(set))).toBe(
      '{"f:a":{"f:c":{}},"f:b":{},"k:{\\"port\\":80}":{".":{},"f:x":{}},"k:{\\"port\\":3100}":{}}',
    );
    expect(fieldPaths(set).map(formatPath)).toStrictEqual(['.b', '[port=80]', '[port=3100]', '.a.c', '[port=80].x']);
  });

  test('reads keys in any field order and drops element kinds it does not know', () => {
    const set = fromFieldsV1({
      'f:ports': { 'k:{"protocol":"TCP","port":80}': { '.': {}, 'f:name': {} }, 'z:unknown': {} },
    });
    expect(toFieldsV1(set)).toStrictEqual({
      'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:name': {} } },
    });
  });

  test('writes key values as Go does, HTML characters escaped', () => {
    const created = recordUpdate(
      undefined,
      configMap({}, { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: '<&>' }] }),
      'c',
      T0,
    );
    expect(fieldsOf(created, 'c', 'Update')).toStrictEqual({
      'f:metadata': { 'f:ownerReferences': { '.': {}, 'k:{"uid":"\\u003c\\u0026\\u003e"}': {} } },
    });
  });
});

describe('schema table', () => {
  test.each([
    [['spec', 'containers'], { type: 'listMap', keys: ['name'] }],
    [
      ['spec', 'template', 'spec', 'initContainers[]', 'ports'],
      { type: 'listMap', keys: ['containerPort', 'protocol'], keyDefaults: { protocol: 'TCP' } },
    ],
    [['spec', 'template', 'spec', 'imagePullSecrets'], { type: 'listMap', keys: ['name'] }],
    [['imagePullSecrets'], { type: 'atomic' }],
    [['spec', 'template', 'spec', 'nodeSelector'], { type: 'atomic' }],
    [
      ['spec', 'template', 'spec', 'topologySpreadConstraints'],
      { type: 'listMap', keys: ['topologyKey', 'whenUnsatisfiable'] },
    ],
    [['spec', 'template', 'metadata', 'labels'], { type: 'granular' }],
    [['metadata', 'finalizers'], { type: 'listSet' }],
    [['spec', 'finalizers'], { type: 'atomic' }],
  ])('%j is %j', (segments, relationship) => {
    expect(relationshipAt(segments)).toStrictEqual(relationship);
  });

  test('anything else follows the defaults', () => {
    expect(relationshipAt(['spec', 'template', 'spec', 'containers[]', 'readinessProbe'])).toBeUndefined();
  });
});

test('sameJson compares JSON values whatever realm made them and in any key order', () => {
  const value = { a: [1, { b: null }], c: 'x' };
  expect(sameJson(structuredClone(value), { c: 'x', a: [1, { b: null }] })).toBe(true);
  expect(sameJson(value, { a: [1, { b: 0 }], c: 'x' })).toBe(false);
  expect(sameJson(value, { a: [1, { b: null }] })).toBe(false);
  expect(sameJson([1, 2], [2, 1])).toBe(false);
});
