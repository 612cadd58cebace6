// `npm run docs`: rewrite the Action's input and output tables in README.md between their markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { actionReference, END, START } from './action-reference.js';

const write = process.argv.indexOf('--write');
const file = write >= 0 ? process.argv[write + 1]! : 'README.md';
const readme = readFileSync(file, 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start < 0 || end < start) throw new Error(`${file} has no ${START} ... ${END} section`);
writeFileSync(file, `${readme.slice(0, start + START.length)}\n${actionReference('action.yml')}\n${readme.slice(end)}`);
