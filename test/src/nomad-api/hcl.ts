// Reading a job file through @cdktf/hcl2json, which parses HCL2 and hands back its bodies as JSON without
// evaluating them: blocks come as arrays of bodies (labelled ones as an object keyed by label, in label
// order), strings verbatim. What Nomad's own parser does on top is done here: `$${` and `%%{` unescaped,
// numbers, booleans and durations checked, errors worded as Nomad words them. The parser runs in a worker
// thread (../hcl.ts): tests that start this server call closeHclParser() when done.
import { parseHcl as parse } from '../hcl.js';
import { parseGoDuration } from './duration.js';
import { NomadError } from './errors.js';
import { isObject, type Json } from './json.js';

/** Nomad names the submitted text input.hcl in its messages. */
const FILE = 'input.hcl';

export async function parseHcl(text: string): Promise<Json> {
  try {
    return (await parse(FILE, text)) as Json;
  } catch (error) {
    throw parseFailure(diagnostics(error instanceof Error ? error.message : String(error)));
  }
}

export const parseFailure = (detail: string) => new NomadError(400, `Failed to parse job: ${detail}`);

/** hcl2json joins its diagnostics in `parse config: [a b]`; HCL's Diagnostics.Error() names the first and counts the rest. */
function diagnostics(message: string): string {
  const list = message
    .replace(/^parse config: \[/, '')
    .replace(/\]$/, '')
    .split(/ (?=input\.hcl:\d+,\d+-)/);
  return list.length > 1 ? `${list[0]}, and ${list.length - 1} other diagnostic(s)` : list[0]!;
}

/** A failure in a value Nomad would have decoded, where hcl2json gives no position. */
const unsuitable = (where: string, detail: string) =>
  parseFailure(`${FILE}: Unsuitable value type; ${detail} (${where})`);

// Nomad evaluates variables, locals, functions and template directives when it parses; runtime
// interpolations (${NOMAD_ALLOC_ID}, ${attr.…}, ${node.…}, ${meta.…}) it keeps verbatim. This double keeps
// everything verbatim, so it refuses what it cannot evaluate rather than pass it on unevaluated.
const EVALUATED = /(?<!\$)\$\{\s*(?:var\.|local\.|[A-Za-z_][\w-]*\s*\()|(?<!%)%\{/;

/** The text of a job file, for the positions hcl2json leaves out. */
export class Source {
  constructor(readonly text: string) {}

  /** A string as Nomad would hold it: `$${` and `%%{` are HCL escapes for a literal `${` and `%{`. */
  string(raw: string, where: string): string {
    const expression = EVALUATED.exec(raw);
    if (expression) {
      throw parseFailure(
        `${FILE}: Unsupported expression; the Nomad API test double does not evaluate HCL variables, locals, functions or template directives (${where}: ${JSON.stringify(raw)})`,
      );
    }
    return raw.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
  }

  /** Where `type "label" {` first appears at or after `from` (anywhere if not after it); Infinity if nowhere. */
  position(type: string, label: string, from: number): number {
    const pattern = new RegExp(`(?:^|[\\s{])${type}\\s+"${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*\\{`, 'g');
    pattern.lastIndex = from;
    const after = pattern.exec(this.text);
    if (after) return after.index;
    pattern.lastIndex = 0;
    return pattern.exec(this.text)?.index ?? Infinity;
  }
}

/** One block body, read with Nomad's types. `where` names it in error messages (`group "ingester" count`). */
export class Block {
  constructor(
    readonly body: Json,
    readonly where: string,
    readonly source: Source,
    /** Where the block starts in the text, to order labelled children as written. */
    readonly offset = 0,
  ) {}

  private raw(name: string): unknown {
    return this.body[name] ?? undefined;
  }

  private at(name: string): string {
    return `${this.where} ${name}`.trim();
  }

  string(name: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    if (typeof raw === 'string') return this.source.string(raw, this.at(name));
    if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
    throw unsuitable(this.at(name), 'Unsuitable value: string required');
  }

  number(name: string, integer = true): number | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(this.source.string(raw, this.at(name))) : raw;
    if (typeof value !== 'number' || Number.isNaN(value))
      throw unsuitable(this.at(name), 'Unsuitable value: a number is required');
    if (integer && !Number.isInteger(value))
      throw unsuitable(this.at(name), `Unsuitable value: a whole number is required`);
    return value;
  }

  bool(name: string): boolean | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    if (typeof raw === 'boolean') return raw;
    const text = typeof raw === 'string' ? this.source.string(raw, this.at(name)) : undefined;
    if (text === 'true' || text === 'false') return text === 'true';
    throw unsuitable(this.at(name), 'Unsuitable value: bool required');
  }

  /** A Go duration string, in nanoseconds. */
  duration(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const nanoseconds = parseGoDuration(text);
    if (nanoseconds === undefined)
      throw parseFailure(
        `${FILE}: Unsuitable value type; Unsuitable value: time: invalid duration ${JSON.stringify(text)} (${this.at(name)})`,
      );
    return nanoseconds;
  }

  strings(name: string): string[] | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    if (!Array.isArray(raw)) throw unsuitable(this.at(name), 'Unsuitable value: list of string required');
    return raw.map((item, index) => {
      if (typeof item === 'string') return this.source.string(item, `${this.at(name)}[${index}]`);
      if (typeof item === 'number' || typeof item === 'boolean') return String(item);
      throw unsuitable(this.at(name), 'Unsuitable value: list of string required');
    });
  }

  /** A map of strings: a block (`env { A = "b" }`) or an attribute (`meta = { a = "b" }`). */
  stringMap(name: string): Record<string, string> | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    const bodies = Array.isArray(raw) ? raw : [raw];
    const map: Record<string, string> = {};
    for (const body of bodies) {
      if (!isObject(body)) throw unsuitable(this.at(name), 'Unsuitable value: map of string required');
      for (const [key, value] of Object.entries(body)) {
        if (typeof value === 'string') map[key] = this.source.string(value, `${this.at(name)}.${key}`);
        else if (typeof value === 'number' || typeof value === 'boolean') map[key] = String(value);
        else throw unsuitable(`${this.at(name)}.${key}`, 'Unsuitable value: string required');
      }
    }
    return map;
  }

  /** The whole body, free-form (a task's `config`); nested blocks stay lists of bodies, as in Nomad's job JSON. */
  contents(): Json {
    return this.unescapeDeep(this.body, this.where) as Json;
  }

  private unescapeDeep(value: unknown, where: string): unknown {
    if (typeof value === 'string') return this.source.string(value, where);
    if (Array.isArray(value)) return value.map((item) => this.unescapeDeep(item, where));
    if (isObject(value))
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, this.unescapeDeep(item, `${where}.${key}`)]),
      );
    return value;
  }

  /** Unlabelled blocks of a type, in the order written. */
  blocks(name: string): Block[] {
    const raw = this.raw(name);
    if (raw === undefined) return [];
    const bodies = Array.isArray(raw) ? raw : [raw];
    return bodies.filter(isObject).map((body) => new Block(body, this.at(name), this.source, this.offset));
  }

  block(name: string): Block | undefined {
    return this.blocks(name)[0];
  }

  /** Labelled blocks of a type (`group "ingester" { … }`), in the order written. */
  labelled(name: string): [string, Block][] {
    const raw = this.raw(name);
    if (!isObject(raw)) return [];
    const entries = Object.entries(raw).flatMap(([label, bodies]) =>
      (Array.isArray(bodies) ? bodies : [bodies]).filter(isObject).map((body) => {
        const offset = this.source.position(name, label, this.offset);
        return {
          label,
          offset,
          block: new Block(
            body,
            `${this.at(name)} ${JSON.stringify(label)}`,
            this.source,
            Number.isFinite(offset) ? offset : this.offset,
          ),
        };
      }),
    );
    return entries.sort((a, b) => a.offset - b.offset).map(({ label, block }) => [label, block]);
  }
}
