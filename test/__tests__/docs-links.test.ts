// The documentation holds together: every relative link of the README, of docs/ and of the packages' READMEs
// reaches a file that exists and, with a #anchor, a heading of that file (as GitHub makes anchors); the README
// stays a front page (at most 250 lines) and links every document in docs/.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anchors, problem, readmesUnder, relativeLinks, slug } from '../src/docs/links.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file}`);
const FILES = [
  'README.md',
  ...DOCS,
  ...readmesUnder(ROOT, 'shared'),
  ...readmesUnder(ROOT, 'action'),
  ...readmesUnder(ROOT, 'plugins'),
  ...readmesUnder(ROOT, 'test'),
];
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

test('the files checked include the README, every document in docs/ and the package READMEs', () => {
  expect(FILES).toEqual(
    expect.arrayContaining([
      'README.md',
      'docs/spec.md',
      'docs/kubernetes.md',
      'shared/README.md',
      'plugins/README.md',
      'test/src/apiserver/README.md',
    ]),
  );
  expect(FILES.some((file) => file.includes('node_modules'))).toBe(false);
});

test('every relative link reaches a file that exists, and every #anchor a heading of it', () => {
  const links = FILES.flatMap((file) => relativeLinks(file, read(file)));
  expect(links.length).toBeGreaterThan(50);
  const broken = links.flatMap((link) => {
    const wrong = problem(ROOT, link);
    return wrong ? [`${link.file}:${link.line} (${link.target}): ${wrong}`] : [];
  });
  expect(broken).toEqual([]);
});

test('the README is a front page: at most 250 lines, linking every document in docs/', () => {
  const readme = read('README.md');
  expect(readme.replace(/\n$/, '').split('\n').length).toBeLessThanOrEqual(250);
  const targets = new Set(relativeLinks('README.md', readme).map((link) => link.target.split('#')[0]));
  expect(DOCS.filter((doc) => !targets.has(doc))).toEqual([]);
});

describe('the link checker', () => {
  test('makes anchors as GitHub does: lower case, punctuation dropped but - and _, spaces to -, repeats numbered', () => {
    expect(slug('mTLS between components')).toBe('mtls-between-components');
    expect(slug("The Action's bundle")).toBe('the-actions-bundle');
    expect(slug('`spec.gateway` and [the gateway](x.md) — why')).toBe('specgateway-and-the-gateway--why');
    expect(slug('snake_case & kebab-case')).toBe('snake_case--kebab-case');
    expect([...anchors('# A\n\n## A\n\n```md\n## In code\n```\n\n### A ###\n')]).toEqual(['a', 'a-1', 'a-2']);
  });

  test('finds a missing file, a missing heading and a link out of the repository, and ignores code and URLs', () => {
    const root = mkdtempSync(join(tmpdir(), 'docs-links-'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs/a.md'), '# A\n\n## Real section\n');
    const readme = [
      '[ok](docs/a.md#real-section) [self](#top-heading) ![picture](docs/a.md)',
      '[missing file](docs/b.md) [missing heading](docs/a.md#no-such-section) [outside](../elsewhere.md)',
      '`[in code](nowhere.md)` [web](https://example.com/x.md)',
      '```md',
      '[in a block](nowhere.md)',
      '```',
      '# Top heading',
    ].join('\n');
    writeFileSync(join(root, 'README.md'), readme);
    const links = relativeLinks('README.md', readme);
    expect(links.map((link) => link.target)).toEqual([
      'docs/a.md#real-section',
      '#top-heading',
      'docs/a.md',
      'docs/b.md',
      'docs/a.md#no-such-section',
      '../elsewhere.md',
    ]);
    expect(links.map((link) => [link.target, problem(root, link)])).toEqual([
      ['docs/a.md#real-section', undefined],
      ['#top-heading', undefined],
      ['docs/a.md', undefined],
      ['docs/b.md', 'docs/b.md does not exist'],
      ['docs/a.md#no-such-section', expect.stringContaining('#no-such-section is not a heading of docs/a.md')],
      ['../elsewhere.md', 'points outside the repository'],
    ]);
  });
});
