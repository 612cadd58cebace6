// What every command reads from its command line: the spec (-f, --set), durations and output formats.
// Mistakes here are usage errors (exit 2), found before any request is sent.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SpecError } from '../errors.js';
import { applyOverrides } from '../spec/overrides.js';
import { parseSpec, readSpecDocument } from '../spec/parse.js';
import { readRuleFiles } from '../spec/rule-files.js';
import { parseTimeoutMs, TIMEOUT_EXAMPLES } from '../spec/quantity.js';
import type { LokiStack } from '../spec/schema.js';
import { specWarnings } from '../spec/warnings.js';
import { UsageError, type CliIo } from './io.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export const SPEC_OPTIONS = {
  file: { type: 'string', short: 'f' },
  set: { type: 'string', multiple: true },
} as const satisfies Options;

export const SPEC_HELP = `  -f, --file PATH        Spec file (YAML or JSON); "-" reads standard input. Default: the default stack
      --set PATH=VALUE   Override a spec field, e.g. --set spec.profile=small (repeatable)`;

/** The options of a command, parsed strictly (no positionals); a mistake is a usage error. */
type Values<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: false; strict: true }>
>['values'];

export function parseCommandLine<const T extends Options>(args: string[], options: T): Values<T> {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The validated stack from -f and --set (the default stack without -f). */
export async function loadStack(values: { file?: string; set?: string[] }, io: CliIo): Promise<LokiStack> {
  return parseWarning(await resolvedDocument(await readSpecFile(values.file, io), values, io), io);
}

/** The spec document, validated; its warnings told on standard error. */
function parseWarning(document: Record<string, unknown>, io: CliIo): LokiStack {
  const stack = parseSpec(document);
  for (const warning of specWarnings(stack)) io.stderr(`warning: ${warning.path}: ${warning.message}\n`);
  return stack;
}

/**
 * The stack from -f and --set, and the same stack at Loki `version` (given by `option`, e.g. upgrade-test's
 * --from); the spec is read once (standard input can be read only once).
 */
export async function loadStackAndVersion(
  values: { file?: string; set?: string[] },
  version: { value: string; option: string },
  io: CliIo,
): Promise<{ stack: LokiStack; at: LokiStack }> {
  const document = await readSpecFile(values.file, io);
  const sets = values.set ?? [];
  const stack = parseWarning(await resolvedDocument(document, values, io), io);
  const atVersion = { ...values, set: [...sets, `spec.version=${version.value}`] };
  try {
    return { stack, at: parseSpec(await resolvedDocument(document, atVersion, io)) };
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    throw new SpecError(error.issues.map((issue) => ({ ...issue, path: `${issue.path} (${version.option})` })));
  }
}

/** The document with the --set assignments and the content of the rule files it names. */
function resolvedDocument(
  document: Record<string, unknown>,
  values: { file?: string; set?: string[] },
  io: CliIo,
): Promise<Record<string, unknown>> {
  // Rule file globs are relative to the spec file (to the working directory for standard input).
  const specDir = values.file === undefined || values.file === '-' ? io.cwd : dirname(resolve(io.cwd, values.file));
  return readRuleFiles(applyOverrides(document, values.set ?? []), specDir);
}

async function readSpecFile(file: string | undefined, io: CliIo): Promise<Record<string, unknown>> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = file === '-' ? await io.stdin() : await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UsageError(`cannot read spec file ${file}: ${reason}`);
  }
  return readSpecDocument(text, file === '-' ? 'standard input' : file);
}

/** A duration as Loki writes them: 90s, 10m, 1h30m, 500ms, 1d. */
export function parseDuration(text: string, option: string): number {
  const ms = parseTimeoutMs(text);
  if (ms === undefined) throw new UsageError(`${option} must be ${TIMEOUT_EXAMPLES}, not "${text}"`);
  return ms;
}

export function parseFormat<T extends string>(text: string | undefined, formats: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(formats as readonly string[]).includes(text))
    throw new UsageError(`-o must be one of ${formats.join(', ')}, not "${text}"`);
  return text as T;
}
