// The real scaffolder checks an action's input against the JSON Schema made from its zod schema and hands it to
// the handler unchanged: the schema's defaults never reach the handler. So each handler parses its input with
// the same schema itself, and runs the same whoever called it.
import { InputError } from '@backstage/errors';
import type { OptionNames } from 'loki-microservices';
import { z } from 'zod/v3';

export type InputShape = Record<string, (zod: typeof z) => z.ZodTypeAny>;

type ParsedInput<S extends InputShape> = z.infer<z.ZodObject<{ [K in keyof S]: ReturnType<S[K]> }, 'strict'>>;

/** A parser of an action's input: the fields with their defaults, or an InputError naming each bad input. */
export function inputParser<S extends InputShape>(shape: S): (input: unknown) => ParsedInput<S> {
  const schema = z.object(Object.fromEntries(Object.entries(shape).map(([name, field]) => [name, field(z)]))).strict();
  return (input) => {
    const parsed = schema.safeParse(input);
    if (parsed.success) return parsed.data as ParsedInput<S>;
    throw new InputError(
      parsed.error.issues
        .map((issue) => `input ${issue.path.join('.') || '(the whole input)'}: ${issue.message}`)
        .join('; '),
    );
  };
}

/** The inputs that the core's messages may advise, as a template names them. */
export const SCAFFOLDER_OPTION_NAMES: OptionNames = { adopt: 'adopt: true', deleteVolumes: 'deleteVolumes: true' };
