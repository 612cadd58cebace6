// The spec reference (docs/spec.md), generated from the zod schema and the profile presets, so that the
// documentation cannot drift from what parseSpec accepts (a test compares docs/spec.md with this output).
import type { z } from 'zod';
import { COMPONENT_NAMES, COMPONENTS } from './components.js';
import { PROFILE_PRESETS } from './profiles.js';
import { getPath } from './parse.js';
import { presetDocument } from './profiles.js';
import { PROFILES, stackSchema } from './schema.js';

interface Row {
  path: string;
  type: string;
  fallback: string;
  description: string;
}

type Def = z.core.$ZodTypeDef & Record<string, unknown>;

/** What the keys of a map of objects stand for, in the paths of their fields. */
const MAP_KEYS: Record<string, string> = { 'spec.overrides': '<tenant>' };

export function specReference(): string {
  const rows = fieldRows(stackSchema as unknown as z.ZodType, '');
  const table = [
    '| Field | Type | Default | Description |',
    '|---|---|---|---|',
    ...rows.map((row) => `| \`${row.path}\` | ${row.type} | ${row.fallback} | ${row.description} |`),
  ];
  return [...table, '', profileTable()].join('\n');
}

function fieldRows(schema: z.ZodType, path: string): Row[] {
  const { core, fallback } = unwrapWithDefault(schema);
  const def = core.def as Def;
  const description = schema.description ?? core.description ?? '';
  if (def.type === 'object') {
    const shape = def.shape as Record<string, z.ZodType>;
    if (path === 'spec.components') return componentRows(shape, path);
    const own = path && description ? [{ path, type: 'object', fallback: '', description: escape(description) }] : [];
    return [
      ...own,
      ...Object.entries(shape).flatMap(([key, child]) => fieldRows(child, path ? `${path}.${key}` : key)),
    ];
  }
  const value = def.type === 'record' ? unwrapWithDefault(def.valueType as z.ZodType).core : undefined;
  if (value && (value.def as Def).type === 'object') {
    const own = { path, type: 'map of object', fallback: fallback ?? '', description: escape(description) };
    return [own, ...fieldRows(def.valueType as z.ZodType, `${path}.${MAP_KEYS[path] ?? '<key>'}`)];
  }
  const fromProfile = PROFILES.some((profile) => getPath(presetDocument(profile), path.split('.')) !== undefined);
  return [
    {
      path,
      type: typeName(core),
      fallback: fallback ?? (fromProfile ? 'profile' : isOptional(schema) ? '' : 'required'),
      description: escape(description),
    },
  ];
}

/** The components share their fields: one row per field, saying which components have it. */
function componentRows(shape: Record<string, z.ZodType>, path: string): Row[] {
  const fields = new Map<string, { schema: z.ZodType; components: string[] }>();
  for (const name of COMPONENT_NAMES) {
    const componentShape = (unwrapWithDefault(shape[name]!).core.def as Def).shape as Record<string, z.ZodType>;
    for (const [field, schema] of Object.entries(componentShape)) {
      // A field a component refuses (a `never`) is not one it has.
      if ((unwrapWithDefault(schema).core.def as Def).type === 'never') continue;
      const entry = fields.get(field) ?? { schema, components: [] };
      entry.components.push(name);
      fields.set(field, entry);
    }
  }
  const header: Row = {
    path: `${path}.<component>`,
    type: 'object',
    fallback: 'profile',
    description: `One of ${COMPONENT_NAMES.map((n) => `\`${n}\``).join(', ')}. Unset fields come from the profile. The compactor always has 1 replica.`,
  };
  return [
    header,
    ...[...fields.entries()].flatMap(([field, { schema, components }]) => {
      const scope =
        components.length === COMPONENT_NAMES.length ? '' : ` Only ${components.map((c) => `\`${c}\``).join(', ')}.`;
      return fieldRows(schema, `${path}.<component>.${field}`).map((row) => ({
        ...row,
        fallback: row.fallback === 'required' && setByAProfile(row.path) ? 'profile' : row.fallback,
        description: row.path.endsWith(`.${field}`) ? `${row.description}${scope}` : row.description,
      }));
    }),
  ];
}

/** Whether a profile sets the field `spec.components.<component>.…` for some component. */
const setByAProfile = (path: string) =>
  COMPONENT_NAMES.some((name) =>
    PROFILES.some(
      (profile) => getPath(presetDocument(profile), path.replace('<component>', name).split('.')) !== undefined,
    ),
  );

function unwrapWithDefault(schema: z.ZodType): { core: z.ZodType; fallback?: string } {
  let current = schema;
  let fallback: string | undefined;
  for (;;) {
    const def = current.def as Def;
    if (def.type === 'default') fallback = formatDefault(def.defaultValue);
    if (def.innerType) current = def.innerType as z.ZodType;
    else if (def.type === 'pipe')
      current = (def.in as z.ZodType).def.type === 'transform' ? (def.out as z.ZodType) : (def.in as z.ZodType);
    else return { core: current, ...(fallback !== undefined ? { fallback } : {}) };
  }
}

function isOptional(schema: z.ZodType): boolean {
  return (schema.def as Def).type === 'optional';
}

function formatDefault(value: unknown): string {
  return `\`${JSON.stringify(value)}\``;
}

function typeName(schema: z.ZodType): string {
  const def = schema.def as Def;
  switch (def.type) {
    case 'enum':
      return Object.values(def.entries as Record<string, string>)
        .map((v) => `\`${v}\``)
        .join(' \\| ');
    case 'literal':
      return (def.values as unknown[]).map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
    case 'array':
      return `list of ${typeName(unwrapWithDefault(def.element as z.ZodType).core)}`;
    case 'record':
      return `map of ${typeName(unwrapWithDefault(def.valueType as z.ZodType).core)}`;
    case 'custom':
      return 'object';
    case 'number':
      return (def.checks as { _zod: { def: { check: string; format?: string } } }[] | undefined)?.some(
        (c) => c._zod.def.format === 'safeint',
      )
        ? 'integer'
        : 'number';
    default:
      return def.type;
  }
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** What each profile sets when the spec does not. */
function profileTable(): string {
  const header = `| Profile default | ${PROFILES.map((p) => `\`${p}\``).join(' | ')} |`;
  const rows: string[] = [
    `| \`spec.replicationFactor\` | ${PROFILES.map((p) => PROFILE_PRESETS[p].replicationFactor).join(' | ')} |`,
    `| \`spec.storage.type\` | ${PROFILES.map((p) => PROFILE_PRESETS[p].storageType ?? 'required').join(' | ')} |`,
    `| \`spec.scheduling\` | ${PROFILES.map((p) => `${PROFILE_PRESETS[p].scheduling.antiAffinity} anti-affinity${PROFILE_PRESETS[p].scheduling.zoneSpread ? ', zone spread' : ''}`).join(' | ')} |`,
  ];
  for (const name of COMPONENT_NAMES) {
    const cells = PROFILES.map((profile) => {
      const preset = PROFILE_PRESETS[profile].components[name];
      const requests = preset.resources.requests!;
      const volume = preset.storage ? `, ${preset.storage.size} volume` : '';
      const off = preset.enabled === false ? 'off; when enabled: ' : '';
      return `${off}${preset.replicas} × ${requests.cpu} CPU / ${requests.memory} (limit ${preset.resources.limits!.memory})${volume}`;
    });
    rows.push(`| ${COMPONENTS[name].target} | ${cells.join(' | ')} |`);
  }
  rows.push(`| \`spec.caches.type\` | ${PROFILES.map((p) => PROFILE_PRESETS[p].caches.type).join(' | ')} |`);
  for (const cache of ['chunks', 'results'] as const) {
    const cells = PROFILES.map((profile) => {
      const sizes: { replicas: number; memory: string; maxItemSize?: string } =
        PROFILE_PRESETS[profile].caches.memcached[cache];
      return `${sizes.replicas} × ${sizes.memory}${sizes.maxItemSize ? `, items up to ${sizes.maxItemSize}` : ''}`;
    });
    rows.push(`| ${cache} cache (with \`memcached\`) | ${cells.join(' | ')} |`);
  }
  return [header, `|---|${PROFILES.map(() => '---').join('|')}|`, ...rows].join('\n');
}
