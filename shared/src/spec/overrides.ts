// `--set path=value` overrides (CLI) and inline inputs (Action, Backstage) applied to a spec document
// before validation, so that they get the same checks and messages as a spec file.
import { parse } from 'yaml';
import { SpecError } from '../errors.js';
import { setPath } from './parse.js';

const PATH = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

/**
 * Apply `path=value` assignments, e.g. `spec.components.ingester.replicas=3`. Values are read as YAML
 * scalars or flow collections (`3` is a number, `true` a boolean, `[a, b]` a list). Returns a new document.
 */
export function applyOverrides(document: Record<string, unknown>, assignments: string[]): Record<string, unknown> {
  const result = structuredClone(document);
  const problems = [];
  for (const [index, assignment] of assignments.entries()) {
    const separator = assignment.indexOf('=');
    const path = separator > 0 ? assignment.slice(0, separator) : assignment;
    if (separator <= 0 || !PATH.test(path)) {
      // The text is not echoed: a malformed assignment may be a credential pasted in the wrong place.
      problems.push({
        path: `--set #${index + 1}`,
        message: 'must be path=value with a dotted field path, e.g. spec.profile=small',
      });
      continue;
    }
    setPath(result, path.split('.'), parseValue(assignment.slice(separator + 1)));
  }
  if (problems.length > 0) throw new SpecError(problems);
  return result;
}

function parseValue(text: string): unknown {
  try {
    return parse(text) ?? '';
  } catch {
    return text;
  }
}
