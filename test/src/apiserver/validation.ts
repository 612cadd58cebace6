// Validation the API server does before storing, for the rules our tools can trip over: names,
// required fields, selectors that must match their templates, and fields that are immutable after
// creation. Messages and causes follow Kubernetes' wording (transcripts 27, 28).
import { sameJson } from './ssa/index.js';
import { labelSelectorMatches } from './selectors.js';
import type { StatusCause } from './status.js';
import type { KubeObject } from './store.js';

type Json = Record<string, unknown>;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_KINDS = new Set(['Namespace', 'Service']);

const invalidValue = (field: string, value: unknown, why: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${goValue(value)}: ${why}`,
  field,
});
const required = (field: string, what = 'Required value'): StatusCause => ({
  reason: 'FieldValueRequired',
  message: what,
  field,
});
const forbidden = (field: string, why: string): StatusCause => ({
  reason: 'FieldValueForbidden',
  message: `Forbidden: ${why}`,
  field,
});

/** Go's %#v rendering of a value, as Kubernetes puts it in messages. */
function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `map[string]string{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** Problems with a new or updated object; `live` is the stored object for updates. */
export function validate(kind: string, object: KubeObject, live: KubeObject | undefined): StatusCause[] {
  return [
    ...validateName(kind, object),
    ...validateKind(kind, object),
    ...(live ? validateUpdate(kind, object, live) : []),
  ];
}

function validateName(kind: string, object: KubeObject): StatusCause[] {
  const name = object.metadata.name;
  if (!name) return [required('metadata.name', 'Required value: name or generateName is required')];
  if (DNS_LABEL_KINDS.has(kind)) {
    return name.length <= 63 && DNS_LABEL.test(name)
      ? []
      : [
          invalidValue(
            'metadata.name',
            name,
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
          ),
        ];
  }
  return name.length <= 253 && DNS_SUBDOMAIN.test(name)
    ? []
    : [
        invalidValue(
          'metadata.name',
          name,
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
      ];
}

function validateKind(kind: string, object: KubeObject): StatusCause[] {
  const spec = (object.spec ?? {}) as Json;
  switch (kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
      return [
        ...selectorMatchesTemplate(spec),
        ...podSpec(
          'spec.template.spec',
          ((spec.template as Json | undefined)?.spec ?? {}) as Json,
          claimTemplateNames(spec),
        ),
      ];
    case 'Pod':
      return podSpec('spec', spec);
    case 'Service':
      return spec.clusterIP !== 'None' && spec.type !== 'ExternalName' && !(spec.ports as unknown[] | undefined)?.length
        ? [required('spec.ports')]
        : [];
    case 'PodDisruptionBudget':
      return spec.minAvailable !== undefined && spec.maxUnavailable !== undefined
        ? [invalidValue('spec', spec, 'minAvailable and maxUnavailable cannot be both set')]
        : [];
    case 'Lease':
      return leaseSpec(spec);
    default:
      return [];
  }
}

/** ValidateLeaseSpec (pkg/apis/coordination/validation), on create and update alike. */
function leaseSpec(spec: Json): StatusCause[] {
  const causes: StatusCause[] = [];
  const { leaseDurationSeconds: duration, leaseTransitions: transitions } = spec;
  if (typeof duration === 'number' && duration <= 0)
    causes.push(invalidValue('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  if (typeof transitions === 'number' && transitions < 0)
    causes.push(invalidValue('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  return causes;
}

function selectorMatchesTemplate(spec: Json): StatusCause[] {
  const selector = spec.selector as Parameters<typeof labelSelectorMatches>[0];
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) return [required('spec.selector')];
  const labels = (((spec.template as Json | undefined)?.metadata as Json | undefined)?.labels ?? {}) as Record<
    string,
    string
  >;
  return labelSelectorMatches(selector, labels)
    ? []
    : [invalidValue('spec.template.metadata.labels', labels, '`selector` does not match template `labels`')];
}

/** A StatefulSet's pods mount their claims by the claim template's name. */
function claimTemplateNames(spec: Json): string[] {
  return ((spec.volumeClaimTemplates ?? []) as { metadata?: { name?: string } }[]).map(
    (claim) => claim.metadata?.name ?? '',
  );
}

function podSpec(path: string, spec: Json, claimVolumes: string[] = []): StatusCause[] {
  const containers = (spec.containers ?? []) as Json[];
  if (containers.length === 0) return [required(`${path}.containers`)];
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  for (const [list, items] of [
    ['initContainers', (spec.initContainers ?? []) as Json[]],
    ['containers', containers],
  ] as const) {
    items.forEach((container, i) => {
      const where = `${path}.${list}[${i}]`;
      if (!container.name) causes.push(required(`${where}.name`));
      else if (names.has(container.name as string))
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: ${JSON.stringify(container.name)}`,
          field: `${where}.name`,
        });
      names.add(container.name as string);
      if (!container.image) causes.push(required(`${where}.image`));
    });
  }
  const volumes = new Set([...((spec.volumes ?? []) as Json[]).map((v) => v.name), ...claimVolumes]);
  containers.forEach((container, i) =>
    ((container.volumeMounts ?? []) as Json[]).forEach((mount, j) => {
      if (!volumes.has(mount.name))
        causes.push({
          reason: 'FieldValueNotFound',
          message: `Not found: ${JSON.stringify(mount.name)}`,
          field: `${path}.containers[${i}].volumeMounts[${j}].name`,
        });
    }),
  );
  return causes;
}

/** StatefulSet spec fields that may change after creation; every other change is forbidden. */
const STATEFULSET_MUTABLE = [
  'replicas',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
  'ordinals',
];

function validateUpdate(kind: string, object: KubeObject, live: KubeObject): StatusCause[] {
  const spec = (object.spec ?? {}) as Json;
  const liveSpec = (live.spec ?? {}) as Json;
  const changed = (field: string) => !sameJson(spec[field], liveSpec[field]);
  switch (kind) {
    // ValidateRoleBindingUpdate (pkg/apis/rbac/validation).
    case 'RoleBinding':
      return sameJson(object.roleRef, live.roleRef)
        ? []
        : [invalidValue('roleRef', object.roleRef, 'cannot change roleRef')];
    case 'StatefulSet': {
      const forbiddenChange = Object.keys({ ...spec, ...liveSpec }).some(
        (field) => !STATEFULSET_MUTABLE.includes(field) && changed(field),
      );
      return forbiddenChange
        ? [
            forbidden(
              'spec',
              "updates to statefulset spec for fields other than 'replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ),
          ]
        : [];
    }
    case 'Deployment':
    case 'ReplicaSet':
      return changed('selector') ? [invalidValue('spec.selector', spec.selector, 'field is immutable')] : [];
    case 'Service':
      return liveSpec.clusterIP && changed('clusterIP')
        ? [invalidValue('spec.clusterIP', spec.clusterIP, 'field is immutable')]
        : [];
    case 'PersistentVolumeClaim': {
      // Binding sets volumeName on a claim that has none; after that it is as immutable as the rest.
      const { resources: _a, ...rest } = spec;
      const { resources: _b, ...liveRest } = liveSpec;
      if (liveSpec.volumeName === undefined) delete rest.volumeName;
      const bound = (live.status as Json | undefined)?.phase === 'Bound';
      // A bound claim's request may grow (resize admission decides whether it can), never shrink.
      const shrinks = bound && storageBytes(spec) < storageBytes(liveSpec);
      return [
        ...(sameJson(rest, liveRest)
          ? []
          : [
              forbidden(
                'spec',
                'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
              ),
            ]),
        ...(shrinks ? [forbidden('spec.resources.requests.storage', 'field can not be less than previous value')] : []),
      ];
    }
    default:
      return [];
  }
}

const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const FACTORS: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** A quantity's value ("2Gi" → 2147483648); NaN for what is not one. */
export function quantityValue(text: unknown): number {
  const match = typeof text === 'string' ? QUANTITY.exec(text) : null;
  if (!match) return NaN;
  const suffix = match[2] ?? '';
  const factor = BINARY.includes(suffix) ? 2 ** (10 * (BINARY.indexOf(suffix) + 1)) : FACTORS[suffix]!;
  return Number(match[1]) * factor;
}

/** A claim spec's storage request in bytes (0 without one). */
export const storageBytes = (spec: Json) =>
  quantityValue(((spec.resources as Json | undefined)?.requests as Json | undefined)?.storage) || 0;
