// A small HCL2 writer for Nomad job files: blocks, attributes, strings and heredocs, escaped so that the
// text means exactly the values given. Nomad interpolates `${…}` in most job strings at run time
// (`${NOMAD_ALLOC_ID}`, `${attr.…}`); only values wrapped in `interpolated()` keep it, every other `${`
// and `%{` is escaped. Parsing the output with a real HCL2 parser is the test of this file.

/** A string Nomad should interpolate at run time (`${NOMAD_ALLOC_ID}`, `${attr.unique.network.ip-address}`). */
export interface Interpolated {
  interpolated: string;
}

/** Multi-line text, written as a heredoc. */
export interface Heredoc {
  heredoc: string;
}

export type HclValue = string | number | boolean | Interpolated | Heredoc | HclValue[];

export interface HclBlock {
  type: string;
  labels: string[];
  body: HclEntry[];
}

export type HclEntry = { name: string; value: HclValue } | HclBlock;

export const interpolated = (text: string): Interpolated => ({ interpolated: text });
export const heredoc = (text: string): Heredoc => ({ heredoc: text });

/** Attributes from an object; `undefined` values are left out, so optional settings read naturally. */
export function attributes(values: Record<string, HclValue | undefined>): HclEntry[] {
  return Object.entries(values).flatMap(([name, value]) => (value === undefined ? [] : [{ name, value }]));
}

export function block(
  type: string,
  labels: string[],
  ...body: (HclEntry | HclEntry[] | undefined | false)[]
): HclBlock {
  return { type, labels, body: body.flat().filter((entry): entry is HclEntry => !!entry) };
}

/** `name { key = "value" … }`: a block of string attributes such as `meta` or `env`. */
export function mapBlock(type: string, values: Record<string, string | Interpolated>): HclBlock {
  return block(type, [], attributes(values));
}

/** HCL text of blocks at the top level. */
export function toHcl(blocks: HclBlock[]): string {
  return blocks.map((b) => writeBlock(b, '')).join('\n');
}

function writeBlock(b: HclBlock, indent: string): string {
  const head = [b.type, ...b.labels.map(quote)].join(' ');
  if (b.body.length === 0) return `${indent}${head} {}\n`;
  const inner = `${indent}  `;
  // As `hcl fmt` does: the `=` of consecutive attributes line up; a blank line sets blocks apart.
  const lines = b.body.map((entry, index) => {
    if (!isAttribute(entry)) return `${index > 0 ? '\n' : ''}${writeBlock(entry, inner)}`;
    let start = index;
    while (start > 0 && isAttribute(b.body[start - 1]!)) start--;
    let end = index;
    while (end + 1 < b.body.length && isAttribute(b.body[end + 1]!)) end++;
    const width = Math.max(...b.body.slice(start, end + 1).map((a) => (a as { name: string }).name.length));
    const gap = start === index && index > 0 ? '\n' : '';
    return `${gap}${inner}${entry.name.padEnd(width)} = ${writeValue(entry.value, inner)}\n`;
  });
  return `${indent}${head} {\n${lines.join('')}${indent}}\n`;
}

const isAttribute = (entry: HclEntry): entry is { name: string; value: HclValue } => 'name' in entry;

function writeValue(value: HclValue, indent: string): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const items = value.map((item) => writeValue(item, `${indent}  `));
    const oneLine = `[${items.join(', ')}]`;
    return oneLine.length <= 100 && !oneLine.includes('\n')
      ? oneLine
      : `[\n${items.map((item) => `${indent}  ${item},`).join('\n')}\n${indent}]`;
  }
  if ('interpolated' in value) return `"${escapeQuoted(value.interpolated)}"`;
  return writeHeredoc(value.heredoc);
}

function quote(text: string): string {
  return `"${escapeTemplate(escapeQuoted(text))}"`;
}

/** Backslashes, quotes and control characters, as in a JSON string (HCL uses the same escapes). */
function escapeQuoted(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** `${` and `%{` start HCL template sequences; doubling the sigil makes them literal. */
function escapeTemplate(text: string): string {
  return text.replace(/([$%])\{/g, (_match, sigil: string) => `${sigil}${sigil}{`);
}

function writeHeredoc(text: string): string {
  let delimiter = 'EOT';
  while (new RegExp(`^\\s*${delimiter}\\s*$`, 'm').test(text)) delimiter += '_';
  const body = escapeTemplate(text.endsWith('\n') ? text : `${text}\n`);
  return `<<${delimiter}\n${body}${delimiter}`;
}
