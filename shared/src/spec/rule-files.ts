// Node only: reads the rule files a spec names (spec.rules.files, globs relative to the spec file) into
// spec.rules.loadedFiles, so that parsing and rendering stay pure. The one place the CLI and the Action read them.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { SpecError, type SpecIssue } from '../errors.js';
import { getPath } from './parse.js';

/** A Prometheus rule file, with the tenant Loki evaluates it for. */
interface RuleFileContent {
  tenant?: unknown;
  groups?: unknown;
}

/**
 * The document with the files of `spec.rules.files` read into `spec.rules.loadedFiles`, each named by its path
 * relative to `baseDir` (the spec file's directory). A glob matching no file, or a file that is not a rule file,
 * is a SpecError naming it.
 */
export async function readRuleFiles(
  document: Record<string, unknown>,
  baseDir: string,
): Promise<Record<string, unknown>> {
  const globs = getPath(document, ['spec', 'rules', 'files']);
  if (!Array.isArray(globs) || globs.length === 0) return document;
  const issues: SpecIssue[] = [];
  const loaded: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const [index, glob] of globs.entries()) {
    if (typeof glob !== 'string') continue; // parseSpec names it
    const files = await matchGlob(baseDir, glob);
    if (files.length === 0)
      issues.push({
        path: `spec.rules.files[${index}]`,
        message: `"${glob}" matches no file (relative to ${baseDir})`,
      });
    for (const file of files.filter((name) => !seen.has(name))) {
      seen.add(file);
      const content = ruleFileContent(await readFile(join(baseDir, file), 'utf8'), file, issues);
      if (content)
        loaded.push({
          file,
          ...(content.tenant === undefined ? {} : { tenant: content.tenant }),
          groups: content.groups,
        });
    }
  }
  if (issues.length > 0) throw new SpecError(issues);
  const spec = document.spec as Record<string, unknown>;
  const rules = spec.rules as Record<string, unknown>;
  return { ...document, spec: { ...spec, rules: { ...rules, loadedFiles: loaded } } };
}

function ruleFileContent(text: string, file: string, issues: SpecIssue[]): RuleFileContent | undefined {
  const parsed = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const problem = (message: string) => issues.push({ path: `spec.rules.files: ${file}`, message });
  if (parsed.errors.length > 0) {
    problem(`is not valid YAML: ${parsed.errors[0]!.message.split('\n')[0]}`);
    return undefined;
  }
  const content: unknown = parsed.toJS();
  if (typeof content !== 'object' || content === null || Array.isArray(content) || !('groups' in content)) {
    problem('must be a rule file: a mapping with `groups: [...]` (and optionally `tenant:`)');
    return undefined;
  }
  const unknown = Object.keys(content).filter((key) => key !== 'groups' && key !== 'tenant');
  if (unknown.length > 0) problem(`unknown top-level field "${unknown[0]}": a rule file has groups and tenant`);
  return content as RuleFileContent;
}

/** Files (not directories) under `baseDir` whose relative path matches `glob` (`*`, `?`, `**`), sorted. */
async function matchGlob(baseDir: string, glob: string): Promise<string[]> {
  const pattern = globPattern(glob.replace(/^\.\//, ''));
  const entries = await readdir(baseDir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(baseDir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .filter((path) => pattern.test(path) && !path.split('/').includes('node_modules'))
    .sort();
}

/** A glob as a regular expression over `/`-separated relative paths: `**` spans directories, `*` and `?` do not. */
function globPattern(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      source += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
