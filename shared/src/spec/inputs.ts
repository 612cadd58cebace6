// Adapters' inline inputs (the Action's `profile:`, a scaffolder action's `storageType`) set spec fields over a
// spec document, so that they get the spec's own validation; its messages then name the input too.
import { SpecError } from '../errors.js';
import { applyOverrides } from './overrides.js';
import { parseSpec } from './parse.js';
import type { LokiStack } from './schema.js';

/** One spec field an adapter input sets: `path` in the spec, `input` as the adapter calls it. */
export interface InputField {
  path: string;
  value: unknown;
  input: string;
}

/** The spec document with the fields set (as a user would have written it: no defaults filled in). */
export function withInputs(document: Record<string, unknown>, fields: InputField[]): Record<string, unknown> {
  // applyOverrides reads values as YAML; the JSON text of each value reads back as that value, typed.
  return applyOverrides(document, fields.map(({ path, value }) => `${path}=${JSON.stringify(value)}`));
}

/**
 * The stack from `document` with `fields` set over it (and `prepare`d, e.g. `namingCredentialsSecret`). A
 * SpecError's issues carry the input that set each field: `spec.profile (input "profile")`.
 */
export function parseSpecWithInputs(document: Record<string, unknown>, fields: InputField[], prepare = (d: Record<string, unknown>) => d): LokiStack {
  const complete = withInputs(document, fields);
  try {
    return parseSpec(prepare(complete));
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    throw new SpecError(
      error.issues.map((issue) => {
        const input = fields.find((field) => field.path === issue.path || issue.path.startsWith(`${field.path}.`))?.input;
        return input ? { ...issue, path: `${issue.path} (input "${input}")` } : issue;
      }),
    );
  }
}
