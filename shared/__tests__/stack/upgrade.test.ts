import { describe, expect, test } from '@jest/globals';
import { lokiConfig } from '../../src/kubernetes/render/loki-config.js';
import { nomadLokiConfig } from '../../src/nomad/render/loki-config.js';
import { parseSpec } from '../../src/spec/parse.js';
import { LOKI_RELEASE_ITEMS } from '../../src/stack/loki-releases.js';
import { runtimeConfig } from '../../src/stack/runtime-config.js';
import {
  checkUpgrade,
  describePreflight,
  keysLackingIn,
  parseLokiRelease,
  renderedKeysLackingIn,
  UpgradeRefusedError,
  upgradeTestIssue,
  versionIssue,
  versionStep,
} from '../../src/stack/upgrade.js';
import { SpecError } from '../../src/errors.js';
import { SUPPORTED_LOKI_MINORS, type LokiStack } from '../../src/spec/schema.js';

const release = (text: string) => parseLokiRelease(text)!;
const stackAt = (version: string, spec: Record<string, unknown> = {}) =>
  parseSpec({ spec: { version, ...spec } }) as LokiStack;
const rendered = (stack: LokiStack) => ({ config: lokiConfig(stack), runtime: runtimeConfig(stack) });
const NAMES = { allowDowngrade: '--allow-downgrade', allowSkip: '--allow-skip' };

describe('the version rules', () => {
  test.each([
    ['3.6.2', '3.6.5', 'patch'],
    ['3.6.5', '3.6.2', 'patch'],
    ['3.6.2', '3.7.0', 'minor'],
    ['3.5.1', '3.7.8', 'skip'],
    ['3.4.0', '3.7.8', 'skip'],
    ['3.7.1', '3.6.9', 'downgrade'],
  ])('%s -> %s is a %s change', (from, to, step) => {
    expect(versionStep(release(from), release(to))).toBe(step);
  });

  test('a patch within a minor, either way, and the next minor are accepted', () => {
    expect(versionIssue(release('3.6.2'), release('3.6.5'))).toBeUndefined();
    expect(versionIssue(release('3.6.5'), release('3.6.2'))).toBeUndefined();
    expect(versionIssue(release('3.6.2'), release('3.7.0'))).toBeUndefined();
  });

  test('a downgrade across minors is refused, naming the option that accepts it, unless asked', () => {
    const issue = versionIssue(release('3.7.1'), release('3.6.9'), {}, NAMES);
    expect(issue?.path).toBe('spec.version');
    expect(issue?.message).toMatch(/3\.6\.9 is older than the running Loki 3\.7\.1.*re-run with --allow-downgrade/);
    expect(versionIssue(release('3.7.1'), release('3.6.9'), { allowDowngrade: true }, NAMES)).toBeUndefined();
    // allowSkip does not accept a downgrade
    expect(versionIssue(release('3.7.1'), release('3.6.9'), { allowSkip: true }, NAMES)).toBeDefined();
  });

  test('skipping a minor is refused, naming the skipped minors, unless asked', () => {
    const issue = versionIssue(release('3.4.2'), release('3.7.8'), {}, NAMES);
    expect(issue?.message).toMatch(/skips Loki 3\.5, 3\.6 \(running: 3\.4\.2\).*3\.5\.x first.*--allow-skip/);
    expect(versionIssue(release('3.4.2'), release('3.7.8'), { allowSkip: true }, NAMES)).toBeUndefined();
    expect(versionIssue(release('3.4.2'), release('3.7.8'), { allowDowngrade: true }, NAMES)).toBeDefined();
  });

  test('without option names, a refusal advises none', () => {
    expect(versionIssue(release('3.7.1'), release('3.5.0'))?.message).not.toMatch(/re-run/);
  });

  test('an upgrade test needs two versions the rules accept, --from being the running one', () => {
    expect(upgradeTestIssue('3.6.2', '3.7.8')).toBeUndefined();
    expect(upgradeTestIssue('3.7.8', '3.7.8', {}, NAMES)?.message).toBe(
      'the version to upgrade from is 3.7.8 too: choose an older one',
    );
    expect(upgradeTestIssue('3.5.0', '3.7.8', {}, NAMES)?.message).toMatch(
      /^3\.7\.8 skips Loki 3\.6 \(running: 3\.5\.0\).*--allow-skip/,
    );
    expect(upgradeTestIssue('3.5.0', '3.7.8', { allowSkip: true }, NAMES)).toBeUndefined();
    expect(upgradeTestIssue('3.7.8', '3.6.2', {}, NAMES)?.message).toMatch(/^3\.6\.2 is older than Loki 3\.7\.8: /);
    expect(upgradeTestIssue('3.7.8', '3.6.2', { allowDowngrade: true }, NAMES)).toBeUndefined();
  });

  test('image tags are read as releases; anything else is not one', () => {
    expect(parseLokiRelease('v3.7.2')).toMatchObject({ minor: 7, patch: 2 });
    expect(parseLokiRelease('3.6.1-amd64')).toMatchObject({ minor: 6, patch: 1 });
    expect(parseLokiRelease('latest')).toBeUndefined();
    expect(parseLokiRelease(null)).toBeUndefined();
  });
});

describe('checkUpgrade', () => {
  test('nothing to check when the version is the same, or the live one is unknown', () => {
    const stack = stackAt('3.7.8');
    expect(checkUpgrade('3.7.8', stack, rendered(stack))).toBeUndefined();
    expect(checkUpgrade(null, stack, rendered(stack))).toBeUndefined();
    expect(checkUpgrade('main-abc123', stack, rendered(stack))).toBeUndefined();
  });

  test('a refusal is a spec error on spec.version (exit code 2)', () => {
    const stack = stackAt('3.5.4');
    const refuse = () => checkUpgrade('3.7.1', stack, rendered(stack), {}, NAMES);
    expect(refuse).toThrow(UpgradeRefusedError);
    expect(refuse).toThrow(SpecError);
    expect(refuse).toThrow(/spec\.version: 3\.5\.4 is older/);
  });

  test('a patch change has no notes; the next minor has the notes of that minor that concern the stack', () => {
    const patch = stackAt('3.6.9');
    expect(checkUpgrade('3.6.2', patch, rendered(patch))).toEqual({
      from: '3.6.2',
      to: '3.6.9',
      step: 'patch',
      notes: [],
    });
    const next = stackAt('3.7.8');
    const check = checkUpgrade('3.6.2', next, rendered(next))!;
    expect(check.step).toBe('minor');
    expect(check.notes.map((note) => note.minor)).toEqual(check.notes.map(() => '3.7'));
    expect(check.notes.map((note) => note.id)).toContain('parsed-labels-keep-structured-metadata');
    expect(describePreflight(check)[0]).toBe('Loki 3.6.2 -> 3.7.8: the pre-flight of the version change passed');
  });

  test('a skip accepted by the option has the notes of every minor it enters; a downgrade none', () => {
    const stack = stackAt('3.7.8');
    const check = checkUpgrade('3.5.1', stack, rendered(stack), { allowSkip: true })!;
    expect(new Set(check.notes.map((note) => note.minor))).toEqual(new Set(['3.6', '3.7']));
    const down = stackAt('3.6.9');
    expect(checkUpgrade('3.7.1', down, rendered(down), { allowDowngrade: true })).toMatchObject({
      step: 'downgrade',
      notes: [],
    });
  });

  test('a rendered key that the target minor lacks refuses the change, naming it', () => {
    const stack = stackAt('3.4.6');
    const config = { ...lokiConfig(stack), compactor: { delete_request_store_db_type: 'sqlite' } };
    expect(() =>
      checkUpgrade('3.5.2', stack, { config, runtime: runtimeConfig(stack) }, { allowDowngrade: true }),
    ).toThrow(/Loki 3\.4 does not know this key .*: compactor\.delete_request_store_db_type/);
  });
});

describe('the rendered keys per target minor', () => {
  const minors = Array.from(
    { length: SUPPORTED_LOKI_MINORS.max - SUPPORTED_LOKI_MINORS.min + 1 },
    (_, i) => `3.${SUPPORTED_LOKI_MINORS.min + i}`,
  );

  test.each(minors)('every supported minor knows every key rendered for Kubernetes and Nomad (%s)', (minor) => {
    const stack = stackAt('3.7.8', {
      auth: { enabled: true, tenant: 'team-a' },
      overrides: { 'team-a': { ingestionRateMB: 8, retention: '24h' } },
    });
    expect(renderedKeysLackingIn(minor, rendered(stack))).toEqual([]);
    expect(keysLackingIn(minor, nomadLokiConfig(stack))).toEqual([]);
  });

  test('keys a minor lacks are found at any depth: below a missing block, in lists, in free maps', () => {
    // A whole block 3.4 lacks: every key below it too.
    expect(keysLackingIn('3.4', { dataobj: { consumer: { idle_flush_timeout: '1h' } } })).toEqual([
      'dataobj',
      'dataobj.consumer',
      'dataobj.consumer.idle_flush_timeout',
    ]);
    // Only in older minors than 3.7.
    expect(keysLackingIn('3.7', { block_builder: {} })).toEqual(['block_builder']);
    expect(keysLackingIn('3.5', { block_builder: {} })).toEqual([]);
    // Known keys are not reported.
    expect(keysLackingIn('3.4', { server: { http_listen_port: 3100 } })).toEqual([]);
  });

  test('per-tenant overrides are checked as limits_config keys, named by tenant', () => {
    const runtime = { overrides: { 'team-a': { ingestion_rate_mb: 4, enable_multi_variant_queries: true } } };
    expect(renderedKeysLackingIn('3.7', { config: {}, runtime })).toEqual([]);
    expect(renderedKeysLackingIn('3.4', { config: {}, runtime })).toEqual([
      'overrides.team-a.enable_multi_variant_queries',
    ]);
  });
});

describe('the release notes', () => {
  const context = (spec: Record<string, unknown> = {}) => {
    const stack = stackAt('3.7.8', spec);
    return { stack, config: lokiConfig(stack) };
  };
  const concerning = (spec: Record<string, unknown> = {}) =>
    LOKI_RELEASE_ITEMS.filter((item) => item.concerns(context(spec))).map((item) => item.id);

  test('every item is of a supported minor after the oldest, with a link', () => {
    for (const item of LOKI_RELEASE_ITEMS) {
      expect(Number(item.minor.split('.')[1])).toBeGreaterThan(SUPPORTED_LOKI_MINORS.min);
      expect(Number(item.minor.split('.')[1])).toBeLessThanOrEqual(SUPPORTED_LOKI_MINORS.max);
      expect(item.link).toMatch(/^https:\/\/grafana\.com\/docs\/loki\//);
    }
  });

  test('the default stack: structured metadata, retention and the distributor limit concern it; the UI does not', () => {
    expect(concerning()).toEqual(
      expect.arrayContaining([
        'delete-requests-sqlite',
        'distributor-max-recv-msg-size',
        'parsed-labels-keep-structured-metadata',
      ]),
    );
    expect(concerning()).not.toContain('ui-moved-to-plugin');
  });

  test('the UI item concerns a stack with a gateway', () => {
    expect(concerning({ gateway: { enabled: true } })).toContain('ui-moved-to-plugin');
  });

  test('the structured metadata item does not concern a stack whose period in effect cannot have it', () => {
    const item = LOKI_RELEASE_ITEMS.find((candidate) => candidate.id === 'parsed-labels-keep-structured-metadata')!;
    const { stack, config } = context();
    const limits = config.limits_config as Record<string, unknown>;
    expect(
      item.concerns({ stack, config: { ...config, limits_config: { ...limits, allow_structured_metadata: false } } }),
    ).toBe(false);
    expect(item.concerns({ stack, config })).toBe(true);
  });
});
