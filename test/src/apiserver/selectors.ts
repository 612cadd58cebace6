// Label selectors (equality- and set-based, as in `kubectl get -l`) and field selectors (`a.b=c`, `!=`).
import { badRequest } from './status.js';

type LabelRequirement = (labels: Record<string, string>) => boolean;

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(([^)]*)\)$`);
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})?$`);
const EXISTS = new RegExp(String.raw`^(!?)(${KEY})$`);

/** Split on commas that are not inside parentheses. */
function terms(selector: string): string[] {
  const result: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      result.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim()) result.push(current.trim());
  return result;
}

function requirement(term: string): LabelRequirement {
  const set = SET.exec(term);
  if (set) {
    const key = set[1]!;
    const values = set[4]!
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    return set[3] === 'in'
      ? (labels) => key in labels && values.includes(labels[key]!)
      : (labels) => !(key in labels) || !values.includes(labels[key]!);
  }
  const equality = EQUALITY.exec(term);
  if (equality) {
    const key = equality[1]!;
    const value = equality[4] ?? '';
    return equality[3] === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const exists = EXISTS.exec(term);
  if (exists) {
    const key = exists[2]!;
    return exists[1] ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw badRequest(`unable to parse requirement: ${term}`);
}

/** A predicate over labels; an empty selector matches everything. */
export function parseLabelSelector(
  selector: string | null | undefined,
): (labels: Record<string, string> | undefined) => boolean {
  const requirements = selector ? terms(selector).map(requirement) : [];
  return (labels) => requirements.every((matches) => matches(labels ?? {}));
}

/** A predicate over an object's fields: `metadata.name=x,involvedObject.kind=Pod,status.phase!=Running`. */
export function parseFieldSelector(selector: string | null | undefined): (object: unknown) => boolean {
  const requirements = (selector ? terms(selector) : []).map((term) => {
    const match = /^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, path, operator, value] = match;
    return (object: unknown) => {
      const actual = path!
        .split('.')
        .reduce<unknown>(
          (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
          object,
        );
      const text = actual === undefined || actual === null ? '' : String(actual);
      return operator === '!=' ? text !== value : text === value;
    };
  });
  return (object) => requirements.every((matches) => matches(object));
}

/** Whether a LabelSelector object (matchLabels/matchExpressions) selects these labels. */
export function labelSelectorMatches(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return false;
  const actual = labels ?? {};
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => actual[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in actual && values.includes(actual[key]!);
      case 'NotIn':
        return !(key in actual) || !values.includes(actual[key]!);
      case 'Exists':
        return key in actual;
      case 'DoesNotExist':
        return !(key in actual);
      default:
        return false;
    }
  });
  return byLabels && byExpressions;
}
