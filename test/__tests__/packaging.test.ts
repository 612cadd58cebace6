// The package as others consume it: the browser entry stays free of Node and of dependencies, the README
// reference matches the schema, and the command is declared where npm links it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { specReference } from '../../shared/src/docs/spec-reference.js';

const require = createRequire(import.meta.url);
const packageJson = require.resolve('loki-microservices/package.json');
const packageDir = dirname(packageJson);

/** Every module specifier reachable from a compiled file, following relative imports. */
function importGraph(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)].map(
    (match) => match[1] ?? match[2] ?? match[3]!,
  );
  seen.set(file, specifiers);
  for (const specifier of specifiers) if (specifier.startsWith('.')) importGraph(resolve(dirname(file), specifier), seen);
  return seen;
}

test('the browser entry reaches no Node built-in and no package, only its own files', () => {
  const exports = (JSON.parse(readFileSync(packageJson, 'utf8')) as { exports: Record<string, { default: string }> }).exports;
  const graph = importGraph(resolve(packageDir, exports['./types']!.default));
  const external = [...graph.values()].flat().filter((specifier) => !specifier.startsWith('.'));
  expect(external).toEqual([]);
  // The graph reader does see imports: the main entry reaches Node and packages.
  const mainExternal = [...importGraph(resolve(packageDir, exports['.']!.default)).values()].flat().filter((s) => !s.startsWith('.'));
  expect(mainExternal).toEqual(expect.arrayContaining(['node:crypto', 'yaml', 'zod']));
});

test('the README spec reference is the one the schema generates (npm run docs)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('<!-- spec-reference:start');
  const end = readme.indexOf('<!-- spec-reference:end -->');
  const section = readme.slice(readme.indexOf('\n', start) + 1, end).trim();
  expect(section).toBe(specReference().trim());
});

test('the command is declared by a committed file, so npm links it before the build runs', () => {
  const { bin } = JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: Record<string, string> };
  expect(bin['loki-microservices']).toBe('bin/loki-microservices.js');
  expect(readFileSync(resolve(packageDir, bin['loki-microservices']!), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
});

test('VERSION is the version in package.json (a constant, so that bundles need not read the file)', async () => {
  const { VERSION } = await import('loki-microservices');
  expect(VERSION).toBe((JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version);
});

test('the status card reaches only the browser-safe part of the core (no Node code, no Kubernetes client)', async () => {
  const { build } = await import('esbuild');
  const entry = require.resolve('@loki-microservices/plugin-loki-stack');
  const result = await build({ entryPoints: [entry], bundle: true, write: false, platform: 'browser', format: 'esm', metafile: true, logLevel: 'silent', loader: { '.svg': 'dataurl', '.png': 'dataurl' } });
  const inputs = Object.keys(result.metafile.inputs);
  const core = inputs.filter((input) => input.includes('shared/dist/'));
  expect(core.length).toBeGreaterThan(0);
  expect(core.every((input) => /shared\/dist\/(types|annotation|names|errors|redact|spec\/components)\.js$/.test(input))).toBe(true);
  // (zod comes in with Backstage's own packages; the Kubernetes client only ever through the core's main entry.)
  expect(inputs.filter((input) => input.includes('@kubernetes/client-node'))).toEqual([]);
});
