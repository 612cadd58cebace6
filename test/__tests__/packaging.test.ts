// The packages as others consume them: what npm packs (README, LICENSE, every export, source maps that resolve, no
// tests), one version for all and dependency ranges that include it, declarations that compile without
// skipLibCheck; the browser entry stays free of Node and of dependencies, the spec reference in docs/spec.md matches
// the schema, and the command is declared where npm links it.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { specReference } from '../../shared/src/spec/reference.js';

const require = createRequire(import.meta.url);
// semver comes with the dev tools (no types of its own here): the one function these tests need.
const { satisfies } = require('semver') as { satisfies(version: string, range: string): boolean };
const packageJson = require.resolve('loki-microservices/package.json');
const packageDir = dirname(packageJson);

/** Every module specifier reachable from a compiled file, following relative imports. */
function importGraph(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const source = readFileSync(file, 'utf8');
  const specifiers = [
    ...source.matchAll(
      /(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
    ),
  ].map((match) => match[1] ?? match[2] ?? match[3]!);
  seen.set(file, specifiers);
  for (const specifier of specifiers)
    if (specifier.startsWith('.')) importGraph(resolve(dirname(file), specifier), seen);
  return seen;
}

test('the browser entry reaches no Node built-in and no package, only its own files', () => {
  const exports = (JSON.parse(readFileSync(packageJson, 'utf8')) as { exports: Record<string, { default: string }> })
    .exports;
  const graph = importGraph(resolve(packageDir, exports['./types']!.default));
  const external = [...graph.values()].flat().filter((specifier) => !specifier.startsWith('.'));
  expect(external).toEqual([]);
  // The graph reader does see imports: the main entry reaches Node and packages.
  const mainExternal = [...importGraph(resolve(packageDir, exports['.']!.default)).values()]
    .flat()
    .filter((s) => !s.startsWith('.'));
  expect(mainExternal).toEqual(expect.arrayContaining(['node:crypto', 'yaml', 'zod']));
});

test('the spec reference in docs/spec.md is the one the schema generates (npm run docs)', () => {
  const doc = readFileSync(new URL('../../docs/spec.md', import.meta.url), 'utf8');
  const start = doc.indexOf('<!-- spec-reference:start');
  const end = doc.indexOf('<!-- spec-reference:end -->');
  expect([start >= 0, end > start]).toEqual([true, true]);
  const section = doc.slice(doc.indexOf('\n', start) + 1, end).trim();
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
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
    loader: { '.svg': 'dataurl', '.png': 'dataurl' },
  });
  const inputs = Object.keys(result.metafile.inputs);
  const core = inputs.filter((input) => input.includes('shared/dist/'));
  expect(core.length).toBeGreaterThan(0);
  expect(
    core.every((input) =>
      /shared\/dist\/(types|stack\/(annotation|names|status-model|plan-model)|errors|redact|spec\/components)\.js$/.test(
        input,
      ),
    ),
  ).toBe(true);
  // (zod comes in with Backstage's own packages; the Kubernetes client only ever through the core's main entry.)
  expect(inputs.filter((input) => input.includes('@kubernetes/client-node'))).toEqual([]);
});

const ROOT = new URL('../../', import.meta.url).pathname;
const PUBLISHED = [
  'shared',
  'plugins/scaffolder-backend-module-loki-stack',
  'plugins/loki-stack-backend',
  'plugins/loki-stack',
];

interface Manifest {
  name: string;
  version: string;
  files: string[];
  exports: Record<string, { types: string; default: string } | string>;
  dependencies?: Record<string, string>;
}
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;

test("the core's public API is its main entry, the browser-safe types and the test helpers; nothing deeper", () => {
  expect(Object.keys(manifestOf('shared').exports)).toEqual(['.', './types', './testing', './package.json']);
});

/** The files `npm pack` puts in the package's tarball. */
function packedFiles(dir: string): string[] {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', `--workspace=${dir}`], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  ) as [{ files: { path: string }[] }];
  return packed.files.map((file) => file.path);
}

describe.each(PUBLISHED)('%s, as npm packs it', (dir) => {
  const files = packedFiles(dir);

  test("carries its README, the project's LICENSE and every file its exports name", () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
    expect(readFileSync(join(ROOT, dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    const targets = Object.values(manifestOf(dir).exports).flatMap((target) =>
      typeof target === 'string' ? [target] : [target.types, target.default],
    );
    for (const target of targets) expect(files).toContain(target.replace(/^\.\//, ''));
  });

  test('carries no tests, no build state, and no sources unless its "files" ships them', () => {
    const shipsSources = manifestOf(dir).files.includes('src');
    const unwanted = files.filter(
      (file) =>
        /(^|\/)(__tests__|tests?)\/|\.test\.|\.tsbuildinfo$/.test(file) || (!shipsSources && /(^|\/)src\//.test(file)),
    );
    expect(unwanted).toEqual([]);
  });

  test('every source map in it works without the sources beside it (they are inlined)', () => {
    const maps = files.filter((file) => file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(ROOT, dir, map), 'utf8')) as {
        sources: string[];
        sourcesContent?: string[];
      };
      expect([map, sourcesContent?.length]).toEqual([map, sources.length]);
    }
  });

  test('depends on the core by a caret range of its version, never "*"', () => {
    const range = manifestOf(dir).dependencies?.['loki-microservices'];
    if (dir === 'shared') expect(range).toBeUndefined();
    else expect(range).toBe(`^${manifestOf('shared').version}`);
  });
});

test("the published packages share one version, and each plugin's range on the core includes it", () => {
  const core = manifestOf('shared').version;
  expect(PUBLISHED.map((dir) => [dir, manifestOf(dir).version])).toEqual(PUBLISHED.map((dir) => [dir, core]));
  for (const dir of PUBLISHED.filter((dir) => dir !== 'shared')) {
    const range = manifestOf(dir).dependencies?.['loki-microservices'];
    expect([dir, range, range !== undefined && satisfies(core, range)]).toEqual([dir, range, true]);
  }
});

test('the declarations of every package compile with skipLibCheck: false', async () => {
  const consumer = join(ROOT, 'test/artifacts/declarations');
  mkdirSync(consumer, { recursive: true });
  const entries = PUBLISHED.flatMap((dir) =>
    Object.keys(manifestOf(dir).exports)
      .filter((entry) => entry !== './package.json')
      .map((entry) => `${manifestOf(dir).name}${entry.slice(1)}`),
  );
  writeFileSync(join(consumer, 'consumer.ts'), entries.map((entry) => `import '${entry}';\n`).join(''));
  const compilerOptions = {
    noEmit: true,
    skipLibCheck: false,
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    jsx: 'react-jsx',
    types: ['node'],
  };
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', consumer, '--listFiles'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout: string }) => error);
  const lines = stdout.split('\n');
  // Each package's declarations were read...
  for (const dir of PUBLISHED)
    expect(lines.some((line) => line.startsWith(join(ROOT, dir, 'dist/')) && line.endsWith('.d.ts'))).toBe(true);
  // ...and none has an error. (Third-party declarations may: remark-rehype's, reached through Backstage's core-components, do.)
  expect(lines.filter((line) => /^(shared|plugins)\/.*error TS/.test(line))).toEqual([]);
}, 300_000);
