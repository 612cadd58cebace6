// The Action's inputs as the GitHub runner hands them to a step: INPUT_<NAME> (upper case, hyphens kept) for
// every input action.yml gives a default, then the step's own `with:` values over them.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const actionYml = parse(readFileSync(new URL('../../../action.yml', import.meta.url), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

export function runnerInputs(given: Record<string, string>): Record<string, string> {
  const withDefaults = {
    ...Object.fromEntries(
      Object.entries(actionYml.inputs)
        .filter(([, input]) => input.default !== undefined)
        .map(([name, input]) => [name, input.default!]),
    ),
    ...given,
  };
  return Object.fromEntries(
    Object.entries(withDefaults).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]),
  );
}
