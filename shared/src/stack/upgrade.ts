// The pre-flight of a version change, whatever the platform: the version rules (no downgrade across minors, no
// skipped minor, unless asked), the rendered configuration against the target minor's keys (Loki refuses to
// start on a key it does not know), and the release-note items that concern the stack. Pure: the platform's
// pre-flight reads the live version and the stack's health, and calls this before anything is sent.
import { SpecError, type SpecIssue } from '../errors.js';
import type { LokiStack } from '../spec/schema.js';
import { LOKI_KEYS_LACKING, LOKI_OPEN_PATHS } from './loki-keys.js';
import { releaseNotesBetween, type ReleaseNote } from './loki-releases.js';

/** A Loki 3.x release. */
export interface LokiRelease {
  minor: number;
  patch: number;
  text: string;
}

/** "3.7.2" (or an image tag "v3.7.2", "3.7.2-amd64"), or undefined when it is not a Loki 3.x release. */
export function parseLokiRelease(text: string | null | undefined): LokiRelease | undefined {
  const match = /^v?3\.(\d+)\.(\d+)/.exec(text ?? '');
  return match ? { minor: Number(match[1]), patch: Number(match[2]), text: text! } : undefined;
}

/**
 * What a version change is: `patch` within a minor (either way), `minor` to the next one, `skip` past at least
 * one minor, `downgrade` to an older minor.
 */
export type VersionStep = 'patch' | 'minor' | 'skip' | 'downgrade';

export function versionStep(from: LokiRelease, to: LokiRelease): VersionStep {
  if (to.minor === from.minor) return 'patch';
  if (to.minor < from.minor) return 'downgrade';
  return to.minor === from.minor + 1 ? 'minor' : 'skip';
}

export interface UpgradeRules {
  /** Accept a change to an older minor (Loki reads newer data formats only as far as each release says). */
  allowDowngrade?: boolean;
  /** Accept a change past one minor or more (Loki's upgrade guide asks for one minor at a time). */
  allowSkip?: boolean;
}

/** How refusals name the options that accept them; without a name they do not advise it. */
export interface UpgradeOptionNames {
  allowDowngrade?: string;
  allowSkip?: string;
}

/** A version change refused before anything was sent: exit code 2, like any spec error. */
export class UpgradeRefusedError extends SpecError {
  constructor(issues: SpecIssue[]) {
    super(issues);
    this.name = 'UpgradeRefusedError';
  }
}

const VERSION_PATH = 'spec.version';
const advise = (option: string | undefined) => (option ? `; re-run with ${option} to do it anyway` : '');

/** Why the version rules refuse this change, or undefined when they accept it. */
export function versionIssue(
  from: LokiRelease,
  to: LokiRelease,
  rules: UpgradeRules = {},
  names: UpgradeOptionNames = {},
): SpecIssue | undefined {
  const step = versionStep(from, to);
  if (step === 'downgrade' && !rules.allowDowngrade)
    return {
      path: VERSION_PATH,
      message: `${to.text} is older than the running Loki ${from.text}: a downgrade across minors may meet data and configuration the older release cannot read${advise(names.allowDowngrade)}`,
    };
  if (step === 'skip' && !rules.allowSkip) {
    const skipped = Array.from({ length: to.minor - from.minor - 1 }, (_, i) => `3.${from.minor + 1 + i}`);
    return {
      path: VERSION_PATH,
      message: `${to.text} skips Loki ${skipped.join(', ')} (running: ${from.text}): upgrade one minor at a time, to 3.${from.minor + 1}.x first${advise(names.allowSkip)}`,
    };
  }
  return undefined;
}

/**
 * Why an upgrade test from Loki `from` to `to` cannot run, before anything is sent: the same version twice, or a
 * change the version rules refuse (`from` is deployed first, so it is the "running" Loki of the rules).
 */
export function upgradeTestIssue(
  from: string,
  to: string,
  rules: UpgradeRules = {},
  names: UpgradeOptionNames = {},
): SpecIssue | undefined {
  const [before, after] = [parseLokiRelease(from), parseLokiRelease(to)];
  if (!before || !after) return undefined;
  if (before.text === after.text)
    return { path: VERSION_PATH, message: `the version to upgrade from is ${after.text} too: choose an older one` };
  const issue = versionIssue(before, after, rules, names);
  return issue && { ...issue, message: issue.message.replace('the running Loki', 'Loki') };
}

/** Key paths of a configuration in the reference's notation (`a.b`, list elements `a.b[].c`), open paths not entered. */
export function configKeyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value))
    return value.flatMap((item) => (item && typeof item === 'object' ? configKeyPaths(item, `${prefix}[]`) : []));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...(LOKI_OPEN_PATHS.includes(path) ? [] : configKeyPaths(child, path))];
  });
}

const lackingSets = new Map<string, Set<string>>();

/** Whether `path` or a path above it is listed: literally, with one map key as `*`, or a list as its field. */
function listed(set: Set<string>, path: string): boolean {
  const parts = path.split('.');
  for (let end = 1; end <= parts.length; end++) {
    const prefix = parts.slice(0, end);
    const last = prefix[end - 1]!;
    const candidates = [prefix, ...(last.endsWith('[]') ? [[...prefix.slice(0, -1), last.slice(0, -2)]] : [])];
    for (const candidate of candidates) {
      if (set.has(candidate.join('.'))) return true;
      for (let i = 0; i < candidate.length; i++)
        if (set.has([...candidate.slice(0, i), '*', ...candidate.slice(i + 1)].join('.'))) return true;
    }
  }
  return false;
}

/** The keys of `config` that Loki `minor` (e.g. "3.4") does not know, as far as the supported minors tell. */
export function keysLackingIn(minor: string, config: Record<string, unknown>): string[] {
  const lacking = LOKI_KEYS_LACKING[minor];
  if (!lacking) return [];
  let set = lackingSets.get(minor);
  if (!set) lackingSets.set(minor, (set = new Set(lacking)));
  return configKeyPaths(config).filter((path) => listed(set, path));
}

/** What the pre-flight checks of the rendered stack: its Loki configuration and its runtime overrides file. */
export interface RenderedConfigs {
  config: Record<string, unknown>;
  /** The runtime configuration: `overrides` by tenant, each read as a `limits_config` block. */
  runtime: { overrides: Record<string, Record<string, unknown>> };
}

/** Keys of the rendered configuration and runtime overrides that `minor` lacks: `config: a.b`, `overrides.<tenant>: c`. */
export function renderedKeysLackingIn(minor: string, rendered: RenderedConfigs): string[] {
  return [
    ...keysLackingIn(minor, rendered.config),
    ...Object.entries(rendered.runtime.overrides).flatMap(([tenant, limits]) =>
      keysLackingIn(minor, { limits_config: limits }).map(
        (path) => `overrides.${tenant}.${path.slice('limits_config.'.length)}`,
      ),
    ),
  ];
}

export interface UpgradeCheck {
  from: string;
  to: string;
  step: VersionStep;
  /** The release-note items of the minors the change enters that concern this stack (none for a downgrade). */
  notes: ReleaseNote[];
}

/**
 * The checks of a change from the live version `from` to the spec's: the version rules, then, when the minor
 * changes, the rendered keys against the target minor and the release notes. Throws an UpgradeRefusedError;
 * returns undefined when the version does not change or the live one is not a Loki 3.x release we can read.
 */
export function checkUpgrade(
  from: string | null | undefined,
  stack: LokiStack,
  rendered: RenderedConfigs,
  rules: UpgradeRules = {},
  names: UpgradeOptionNames = {},
): UpgradeCheck | undefined {
  const live = parseLokiRelease(from);
  const target = parseLokiRelease(stack.spec.version);
  if (!live || !target || live.text === target.text) return undefined;
  const issue = versionIssue(live, target, rules, names);
  if (issue) throw new UpgradeRefusedError([issue]);
  const step = versionStep(live, target);
  if (step === 'patch') return { from: live.text, to: target.text, step, notes: [] };
  const minor = `3.${target.minor}`;
  const unknown = renderedKeysLackingIn(minor, rendered);
  if (unknown.length > 0)
    throw new UpgradeRefusedError([
      {
        path: VERSION_PATH,
        message: `Loki ${minor} does not know ${unknown.length === 1 ? 'this key' : 'these keys'} of the rendered configuration, and refuses to start on ${unknown.length === 1 ? 'it' : 'them'}: ${unknown.join(', ')}`,
      },
    ]);
  return {
    from: live.text,
    to: target.text,
    step,
    notes:
      step === 'downgrade' ? [] : releaseNotesBetween(live.minor, target.minor, { config: rendered.config, stack }),
  };
}

/** One line per note: "Loki 3.7: … (https://…)". */
export function describeReleaseNote(note: ReleaseNote): string {
  return `Loki ${note.minor}: ${note.text} (${note.link})`;
}

/** What a CLI or a log says of a version change that passed its pre-flight: a line, then one per note. */
export function describePreflight(check: UpgradeCheck): string[] {
  const lines = [`Loki ${check.from} -> ${check.to}: the pre-flight of the version change passed`];
  if (check.notes.length > 0)
    lines.push(
      `${check.notes.length} item${check.notes.length === 1 ? '' : 's'} of the release notes concern${check.notes.length === 1 ? 's' : ''} this stack:`,
      ...check.notes.map((note) => `  - ${describeReleaseNote(note)}`),
    );
  return lines;
}
