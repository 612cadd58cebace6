// The release as GitHub and changesets will read it. A mistake here shows only on the day of a release, or not at
// all: a trigger that never fires (or fires on a branch), a publish before the tests ran, a missing permission,
// the plugins published before the core they depend on, a package that versions apart from the others.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
}
const manifestOf = (dir: string) => JSON.parse(read(`${dir}/package.json`)) as Manifest;
const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
const PUBLISHED = workspaces.filter((dir) => !manifestOf(dir).private);
const PRIVATE = workspaces.filter((dir) => manifestOf(dir).private);

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Job {
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}
const workflow = parse(read('.github/workflows/release.yml')) as {
  on: Record<string, Record<string, string[]>>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
};
const jobs = Object.values(workflow.jobs);
// (Commands only: an error message may name them.)
const runs = (command: string) => (step: Step) => new RegExp(`^\\s*${command}\\b`, 'm').test(step.run ?? '');
const publishes = (step: Step) =>
  ['npm publish', 'gh release create', 'git push'].some((command) => runs(command)(step));

/** A GitHub filter pattern (`*`, `**`, `+`, `?`, `[…]`) as a regular expression for a whole ref name. */
function filterPattern(pattern: string): RegExp {
  const source = pattern.replace(/\*\*|\*|\[[^\]]*\]|[+?]|[^*[+?]+/g, (part) => {
    if (part === '**') return '.*';
    if (part === '*') return '[^/]*';
    if (part.startsWith('[') || part === '+' || part === '?') return part;
    return part.replace(/[.\\^$|(){}]/g, '\\$&');
  });
  return new RegExp(`^${source}$`);
}

test('the published packages are the public workspaces, the core among them', () => {
  expect(PUBLISHED).toContain('shared');
  expect(PUBLISHED.length).toBe(4);
});

test('the workflow runs on a push of a version tag vX.Y.Z, and on nothing else', () => {
  expect(Object.keys(workflow.on)).toEqual(['push']);
  expect(Object.keys(workflow.on.push!)).toEqual(['tags']);
  const patterns = workflow.on.push!.tags!.map(filterPattern);
  const fires = (tag: string) => patterns.some((pattern) => pattern.test(tag));
  expect(['v1.2.3', 'v0.1.0', 'v12.30.456'].filter((tag) => !fires(tag))).toEqual([]);
  expect(['v1', 'v1.2', 'v1.2.3-rc.1', 'v1.2.3.4', '1.2.3', 'va.b.c', 'v1x2y3'].filter(fires)).toEqual([]);
});

test('may write contents (the release, the major tag) and get an id token (npm provenance)', () => {
  for (const job of jobs.filter((job) => job.steps.some(publishes)))
    expect(job.permissions ?? workflow.permissions).toEqual(
      expect.objectContaining({ contents: 'write', 'id-token': 'write' }),
    );
});

test('runs what CI runs (bash .ci/run) before any step that publishes', () => {
  const publishing = jobs.filter((job) => job.steps.some(publishes));
  expect(publishing.length).toBeGreaterThan(0);
  for (const { steps } of publishing) {
    const ci = steps.findIndex((step) => step.run?.trim() === 'bash .ci/run');
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(ci).toBeLessThan(steps.findIndex(publishes));
  }
});

test('publishes every package to npm with provenance, the core before the plugins', () => {
  const [job] = jobs.filter((candidate) => candidate.steps.some(runs('npm publish')));
  const step = job!.steps.find(runs('npm publish'))!;
  expect(step.run).toMatch(/npm publish .*--provenance/);
  expect(step.env?.NODE_AUTH_TOKEN).toBe('${{ secrets.NPM_TOKEN }}');
  const env: Record<string, string> = { ...workflow.env, ...job!.env, ...step.env };
  const script = step.run!.replace(/\$\{?(\w+)\}?/g, (variable, name: string) => env[name] ?? variable);
  const position = (dir: string) => script.search(new RegExp(`(?<![\\w/-])${dir}(?![\\w/-])`));
  expect(PUBLISHED.filter((dir) => position(dir) < 0)).toEqual([]);
  const plugins = PUBLISHED.filter((dir) => dir !== 'shared');
  expect(plugins.filter((dir) => position(dir) < position('shared'))).toEqual([]);
});

test('changesets versions the published packages as one fixed group and leaves the private workspaces alone', () => {
  const config = JSON.parse(read('.changeset/config.json')) as { fixed: string[][]; ignore: string[] };
  expect(config.fixed.map((group) => [...group].sort())).toEqual([PUBLISHED.map((dir) => manifestOf(dir).name).sort()]);
  expect([...config.ignore].sort()).toEqual(PRIVATE.map((dir) => manifestOf(dir).name).sort());
});

test("CHANGELOG.md has a section for the packages' version (the release notes the workflow takes)", () => {
  const { version } = manifestOf('shared');
  const lines = read('CHANGELOG.md').split('\n');
  const start = lines.indexOf(`## ${version}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  expect(
    lines
      .slice(start + 1, end < 0 ? undefined : end)
      .join('')
      .trim(),
  ).not.toBe('');
});
