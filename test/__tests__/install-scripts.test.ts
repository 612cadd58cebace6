// npm 12 runs a dependency's install script only when package.json's `allowScripts` allows it, and skips it
// otherwise. Without its build, better-sqlite3 cannot load and the real Backstage backend does not start: a fresh
// `npm ci` would pass and `npm test` fail. Every package with an install script in a lockfile is therefore decided,
// allowed or denied, in the package.json beside it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

interface Lockfile {
  packages: Record<string, { hasInstallScript?: boolean }>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;

/** The names of the packages a lockfile installs that have an install script. */
function withInstallScripts(lockfile: Lockfile): string[] {
  const paths = Object.entries(lockfile.packages).filter(([, entry]) => entry.hasInstallScript);
  return [...new Set(paths.map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)))];
}

describe.each([
  ['the workspace root', '.', ['better-sqlite3', 'esbuild']],
  ['the Backstage test host', 'test/backstage-host', ['better-sqlite3']],
])('install scripts of %s', (_, dir, needed) => {
  const allowScripts = readJson<{ allowScripts?: Record<string, boolean> }>(join(dir, 'package.json')).allowScripts;
  const scripted = withInstallScripts(readJson<Lockfile>(join(dir, 'package-lock.json')));

  it('are each allowed or denied in package.json', () => {
    expect(scripted.filter((name) => allowScripts?.[name] === undefined)).toEqual([]);
  });

  it(`are allowed for what the tests need built: ${needed.join(', ')}`, () => {
    expect(needed.filter((name) => allowScripts?.[name] !== true)).toEqual([]);
  });
});
