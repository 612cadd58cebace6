// action.yml, the code and the README agree: every input is read and every output written by the Action's
// source, nothing is read or written that action.yml does not declare, the README tables are generated from
// action.yml, and the runner metadata points at files that exist.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kebabCase, STACK_INPUTS } from 'loki-microservices';
import { actionReference, END, START } from '../../src/docs/action-reference.js';
import { ACTION_YML } from './run-action.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SOURCE_DIR = join(ROOT, 'action/src');
const source = readdirSync(SOURCE_DIR)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => readFileSync(join(SOURCE_DIR, file), 'utf8'))
  .join('\n');

/** First arguments of the calls that read inputs: @actions/core's and inputs.ts's own readers. */
const READERS = ['getInput', 'getBooleanInput', 'boolean', 'optionalBoolean', 'oneOf', 'read', 'set', 'only'];
// ...and the stack inputs the Action and the scaffolder share, which inputs.ts reads through the core's table.
const inputsRead = new Set([
  ...[...source.matchAll(new RegExp(`\\b(?:${READERS.join('|')})\\(\\s*'([a-z][a-z0-9-]*)'`, 'g'))].map(
    (match) => match[1]!,
  ),
  ...(source.includes('STACK_INPUTS') ? Object.keys(STACK_INPUTS).map(kebabCase) : []),
]);
const outputsWritten = new Set([...source.matchAll(/\bsetOutput\(\s*'([a-z][a-z0-9-]*)'/g)].map((match) => match[1]!));

test('every input in action.yml is read by the code, and the code reads no other', () => {
  expect([...inputsRead].sort()).toEqual(Object.keys(ACTION_YML.inputs).sort());
});

test('every output in action.yml is written by the code, and the code writes no other', () => {
  expect([...outputsWritten].sort()).toEqual(Object.keys(ACTION_YML.outputs).sort());
});

test('every input and output is described, and booleans default to true or false', () => {
  for (const [name, input] of Object.entries(ACTION_YML.inputs)) {
    expect([name, input.description.length > 20]).toEqual([name, true]);
    expect(input).toHaveProperty('default');
    if (/^(wait|smoke-test|cleanup|delete-volumes)$/.test(name)) expect(['true', 'false']).toContain(input.default);
  }
  for (const [name, output] of Object.entries(ACTION_YML.outputs))
    expect([name, output.description.length > 10]).toEqual([name, true]);
});

test('the README tables are the ones action.yml generates (npm run docs)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  expect([readme.indexOf(START) > 0, readme.indexOf(END) > readme.indexOf(START)]).toEqual([true, true]);
  const section = readme.slice(readme.indexOf(START) + START.length, readme.indexOf(END)).trim();
  expect(section).toBe(actionReference(join(ROOT, 'action.yml')).trim());
});

test('action.yml runs the committed bundle on node24, with a post step that always runs', () => {
  expect(ACTION_YML.runs).toEqual({
    using: 'node24',
    main: 'action/dist/index.js',
    post: 'action/dist/post.js',
    'post-if': 'always()',
  });
  for (const entry of [ACTION_YML.runs.main, ACTION_YML.runs.post]) expect(existsSync(join(ROOT, entry))).toBe(true);
});
