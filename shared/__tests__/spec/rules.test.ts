import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpecError } from '../../src/errors.js';
import { parseSpec } from '../../src/spec/parse.js';
import { readRuleFiles } from '../../src/spec/rule-files.js';

/** Every message of a spec's SpecError, as `path: message`. */
function problemsOf(spec: Record<string, unknown>): string[] {
  try {
    parseSpec({ spec });
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  return [];
}

const alert = (expr = 'count_over_time({job="a"}[5m]) > 0') => ({ alert: 'A', expr });
const inline = (groups: unknown[], tenant = 'fake') => ({ rules: { inline: { [tenant]: groups } } });

describe('rule groups are checked before rendering, each problem naming where and which group', () => {
  test('a valid alerting and recording group passes, Prometheus templates in annotations included', () => {
    const stack = parseSpec({
      spec: inline([
        {
          name: 'app',
          interval: '1m',
          limit: 10,
          rules: [
            {
              ...alert(),
              for: '5m',
              keep_firing_for: '10m',
              labels: { severity: 'page' },
              annotations: { summary: '{{ $labels.job }} is {{ $value }}' },
            },
            { record: 'job:lines:rate1m', expr: 'sum by (job) (rate({job="a"}[1m]))', labels: { team: 'x' } },
          ],
        },
      ]),
    });
    expect(stack.spec.rules.inline.fake![0]!.name).toBe('app');
  });

  test.each([
    ['a group without a name', [{ rules: [alert()] }], 'group 1: needs a name'],
    [
      'a group name twice',
      [
        { name: 'g', rules: [alert()] },
        { name: 'g', rules: [alert()] },
      ],
      'group "g": is declared twice for this tenant: group names must be unique per tenant',
    ],
    ['no rules', [{ name: 'g', rules: [] }], 'group "g": needs at least one rule under `rules`'],
    [
      'a bad interval',
      [{ name: 'g', interval: '1 minute', rules: [alert()] }],
      'group "g": interval must be a duration such as "1m", not "1 minute"',
    ],
    [
      'a bad for',
      [{ name: 'g', rules: [{ ...alert(), for: '5 min' }] }],
      'group "g": rule 1: for must be a duration such as "5m", not "5 min"',
    ],
    [
      'both alert and record',
      [{ name: 'g', rules: [{ ...alert(), record: 'x' }] }],
      'group "g": rule 1: needs exactly one of `alert` (an alerting rule) and `record` (a recording rule)',
    ],
    [
      'neither alert nor record',
      [{ name: 'g', rules: [{ expr: 'x' }] }],
      'group "g": rule 1: needs exactly one of `alert` (an alerting rule) and `record` (a recording rule)',
    ],
    ['an empty expr', [{ name: 'g', rules: [alert('  ')] }], 'group "g": rule 1: expr must be a non-empty LogQL query'],
    [
      'a recording rule name that is no metric name',
      [{ name: 'g', rules: [{ record: 'lines rate', expr: 'x' }] }],
      'group "g": rule 1: record must be a metric name such as "job:log_lines:rate5m", not "lines rate"',
    ],
    [
      'a label name with a dash',
      [{ name: 'g', rules: [{ ...alert(), labels: { 'team-name': 'x' } }] }],
      'group "g": rule 1: labels: "team-name" is not a label name (letters, digits and "_", not first a digit)',
    ],
    [
      'for on a recording rule',
      [{ name: 'g', rules: [{ record: 'a:b', expr: 'x', for: '5m' }] }],
      'group "g": rule 1: for applies to alerting rules only',
    ],
    [
      'an unknown field',
      [{ name: 'g', rules: [{ ...alert(), severity: 'page' }] }],
      'group "g": rule 1: unknown field "severity"',
    ],
    [
      "Nomad's rule-template delimiters",
      [{ name: 'g', rules: [{ ...alert(), annotations: { a: '[[= x =]]' } }] }],
      'group "g": must not contain "[[=" or "=]]": Nomad delivers rule files through templates with these delimiters',
    ],
  ])('%s', (_what, groups, message) => {
    expect(problemsOf(inline(groups))).toEqual([`spec.rules.inline.fake: ${message}`]);
  });

  test('without auth every rule is tenant "fake"; with it, several tenants', () => {
    expect(problemsOf(inline([{ name: 'g', rules: [alert()] }], 'team-a'))).toEqual([
      'spec.rules.inline.team-a: tenant "team-a": without spec.auth.enabled every rule runs as the one tenant "fake": set spec.auth.enabled: true for several tenants, or declare the rules for "fake"',
    ]);
    const rules = {
      inline: { 'team-a': [{ name: 'g', rules: [alert()] }], 'team-b': [{ name: 'g', rules: [alert()] }] },
    };
    expect(problemsOf({ auth: { enabled: true }, rules })).toEqual([]);
  });

  test('a file names itself in its problems; a group declared in two places of one tenant is refused', () => {
    const rules = {
      loadedFiles: [{ file: 'rules/a.yaml', groups: [{ name: 'g', rules: [{ alert: 'A' }] }] }],
      inline: { fake: [{ name: 'g', rules: [alert()] }] },
    };
    expect(problemsOf({ rules })).toEqual([
      'spec.rules.files: rules/a.yaml, group "g": rule 1: expr must be a non-empty LogQL query',
      'spec.rules.inline.fake: group "g" is declared for tenant "fake" in rules/a.yaml already: group names must be unique per tenant',
    ]);
  });

  test('rules need the ruler, and files must have been read', () => {
    expect(
      problemsOf({ components: { ruler: { enabled: false } }, ...inline([{ name: 'g', rules: [alert()] }]) }),
    ).toEqual(['spec.rules: needs the ruler: set spec.components.ruler.enabled: true, or remove the rules']);
    expect(problemsOf({ rules: { files: ['rules/*.yaml'] } })).toEqual([
      'spec.rules.files: were not read: the CLI and the Action read them relative to the spec file; a spec given as an object must set spec.rules.loadedFiles (or use spec.rules.inline)',
    ]);
  });

  test('remote write: an http(s) URL without credentials, headers from Secret keys', () => {
    expect(problemsOf({ rules: { remoteWrite: { url: 'http://user:pw@prom:9090/api/v1/write' } } })).toEqual([
      'spec.rules.remoteWrite.url: must not carry a user or password ("user:password@"): the configuration is readable at /config and in logs',
    ]);
    expect(
      problemsOf({
        rules: {
          remoteWrite: {
            url: 'http://prom:9090/api/v1/write',
            headers: { 'Bad Header': { secretName: 's', key: 'k' } },
          },
        },
      }),
    ).toEqual(['spec.rules.remoteWrite.headers.Bad Header: must be an HTTP header name such as "Authorization"']);
  });
});

describe('readRuleFiles', () => {
  const project = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'rule-files-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };
  const read = (dir: string, files: string[]) =>
    readRuleFiles({ spec: { rules: { files } } }, dir).then(
      (document) => (document.spec as { rules: { loadedFiles: unknown } }).rules.loadedFiles,
    );

  test('globs relative to the spec file, * within a directory and ** across them, each file once, sorted', async () => {
    const dir = project({
      'rules/b.yaml': 'groups: [{name: b, rules: [{alert: B, expr: x}]}]\n',
      'rules/a.yaml': 'tenant: team-a\ngroups: []\n',
      'rules/deep/c.yaml': 'groups: []\n',
      'other.yaml': 'groups: []\n',
    });
    expect(await read(dir, ['rules/*.yaml', './rules/a.yaml'])).toEqual([
      { file: 'rules/a.yaml', tenant: 'team-a', groups: [] },
      { file: 'rules/b.yaml', groups: [{ name: 'b', rules: [{ alert: 'B', expr: 'x' }] }] },
    ]);
    expect(((await read(dir, ['rules/**/*.yaml'])) as { file: string }[]).map((f) => f.file)).toEqual([
      'rules/a.yaml',
      'rules/b.yaml',
      'rules/deep/c.yaml',
    ]);
  });

  test('a glob matching nothing and a file that is no rule file are SpecErrors naming them', async () => {
    const dir = project({ 'rules/x.yaml': 'groups: [\n', 'rules/y.yaml': 'alerts: []\n' });
    await expect(read(dir, ['missing/*.yaml'])).rejects.toThrow(
      `spec.rules.files[0]: "missing/*.yaml" matches no file (relative to ${dir})`,
    );
    const error = await read(dir, ['rules/*.yaml']).catch((e: SpecError) => e);
    expect((error as SpecError).issues.map((i) => i.path)).toEqual([
      'spec.rules.files: rules/x.yaml',
      'spec.rules.files: rules/y.yaml',
    ]);
  });
});
