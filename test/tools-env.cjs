// Every test file sees the programs `npm test` provided (.cache/tools.json, written by test/src/tools/provision.ts)
// as the environment variables the tests read, unless the environment names them already.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const file = join(__dirname, '..', '.cache', 'tools.json');
if (existsSync(file)) {
  for (const [name, path] of Object.entries(JSON.parse(readFileSync(file, 'utf8')))) process.env[name] ??= path;
}
