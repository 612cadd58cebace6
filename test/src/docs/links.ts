// The project's Markdown, as GitHub renders it: which relative links each file has and which anchors each
// file's headings make, so that a test can find links to files or sections that do not exist.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** A relative link of a Markdown file: where it is and what it points at. */
export interface Link {
  file: string;
  line: number;
  target: string;
}

/** The text without fenced code blocks (each line kept, emptied, so that line numbers stay). */
function withoutCodeBlocks(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker) {
        fence = marker;
        return '';
      }
      if (fence !== undefined) {
        if (marker && marker.startsWith(fence) && line.trim() === marker) fence = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** Inline code spans replaced by blanks of the same shape (a link inside one is not a link). */
const withoutCodeSpans = (text: string) => text.replace(/(`+)[\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, ' '));

/** The anchor GitHub gives a heading: lower case, punctuation but `-` and `_` dropped, each space a `-`. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's or image's text
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/[*`]/g, '') // emphasis and code marks (the text between them stays)
    .trim();
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file has: its headings' (repeats numbered `-1`, `-2`, as GitHub does) and HTML ids. */
export function anchors(markdown: string): Set<string> {
  const text = withoutCodeBlocks(markdown);
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of text.matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/gm)) {
    const base = slug(match[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const match of text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) result.add(match[1]!);
  return result;
}

/** The relative links (and images) of a Markdown file: inline `[text](target)` and definitions `[label]: target`. */
export function relativeLinks(file: string, markdown: string): Link[] {
  const text = withoutCodeSpans(withoutCodeBlocks(markdown));
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const found = [
    ...[...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => ({
      index: match.index,
      target: match[1]!,
    })),
    ...[...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((match) => ({
      index: match.index,
      target: match[1]!,
    })),
  ];
  return found
    .filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//'))
    .map(({ index, target }) => ({ file, line: lineOf(index), target }));
}

/** What is wrong with a link, or undefined when its file exists and its anchor is a heading there. */
export function problem(root: string, link: Link): string | undefined {
  const [path = '', anchor] = link.target.split('#', 2) as [string, string | undefined];
  const decoded = decodeURIComponent(path);
  const target =
    decoded === ''
      ? join(root, link.file)
      : decoded.startsWith('/')
        ? join(root, decoded)
        : resolve(root, dirname(link.file), decoded);
  const inside = relative(root, target);
  if (inside.startsWith(`..${sep}`) || inside === '..') return 'points outside the repository';
  if (!existsSync(target)) return `${relative(root, target)} does not exist`;
  if (anchor === undefined) return undefined;
  if (statSync(target).isDirectory() || !target.endsWith('.md'))
    return `#${anchor}: ${relative(root, target)} is not a Markdown file`;
  const known = anchors(readFileSync(target, 'utf8'));
  return known.has(anchor)
    ? undefined
    : `#${anchor} is not a heading of ${relative(root, target)} (it has ${[...known].map((a) => `#${a}`).join(', ')})`;
}

/** Every README.md under a folder of the repository, skipping installed packages, build output and caches. */
export function readmesUnder(root: string, folder: string): string[] {
  const skip = new Set(['node_modules', 'dist', '.cache', '.git', 'artifacts']);
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return skip.has(entry.name) ? [] : walk(path);
      return entry.name === 'README.md' ? [path] : [];
    });
  return walk(folder).sort();
}
