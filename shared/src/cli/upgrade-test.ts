import { SpecError } from '../errors.js';
import { CLI_OPTION_NAMES } from '../kubernetes/ops/option-names.js';
import { UpgradeNotReadyError } from '../kubernetes/ops/preflight.js';
import { MAX_LINES, SmokeTestError } from '../kubernetes/ops/smoke.js';
import {
  describeLinesRead,
  upgradeTest,
  UpgradeTestError,
  type UpgradeTestReport,
} from '../kubernetes/ops/upgrade-test.js';
import { NotReadyError } from '../kubernetes/ops/wait.js';
import { describePreflight, describeReleaseNote, upgradeTestIssue } from '../stack/upgrade.js';
import { CLUSTER_HELP, CLUSTER_OPTIONS, connectFrom } from './connect.js';
import { deployProgress } from './deploy-progress.js';
import { UsageError, type CliIo, type Command } from './io.js';
import {
  loadStackAndVersion,
  parseCommandLine,
  parseDuration,
  parseFormat,
  SPEC_HELP,
  SPEC_OPTIONS,
} from './options.js';

const HELP = `Usage: loki-microservices upgrade-test [-f spec.yaml] [--set path=value ...] --from VERSION [--lines N] [options]

Test an upgrade of Loki on a cluster, as a CI job does before upgrading the real stack: apply the stack at
Loki VERSION, wait until it is ready and smoke-test it; push N numbered log lines; apply the spec's version
in waves, servers before clients, each ready before the next (after the version change's pre-flight); read
every line back, in order; smoke-test again. The stack is left at the spec's version: use a test namespace.

Options:
${SPEC_HELP}
${CLUSTER_HELP}
      --from VERSION     The Loki version to deploy first, e.g. 3.6.2 (required); the upgrade goes to
                         spec.version
      --lines N          How many log lines to push before the upgrade, 1 to ${MAX_LINES} (default 100)
      --timeout DURATION How long the whole test may take (default 20m)
      --allow-downgrade  Accept a spec.version of an older minor than --from
      --allow-skip       Accept a spec.version more than one minor newer than --from
  -o, --output FORMAT    text (default) or json, on standard output (on failure too: how far it got)
  -h, --help             Show this help

Progress goes to standard error, the report to standard output.
Exit codes: 0 passed, 2 invalid spec or usage (or a version change refused), 3 failed in the cluster (a
wave not ready, lines not read back in order, the smoke test), 1 other error.
`;

const DEFAULT_LINES = 100;

async function run(args: string[], io: CliIo): Promise<number> {
  const values = parseCommandLine(args, {
    ...SPEC_OPTIONS,
    ...CLUSTER_OPTIONS,
    from: { type: 'string' },
    lines: { type: 'string', default: String(DEFAULT_LINES) },
    timeout: { type: 'string', default: '20m' },
    'allow-downgrade': { type: 'boolean' },
    'allow-skip': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseFormat(values.output, ['text', 'json'], 'text');
  const timeoutMs = parseDuration(values.timeout, '--timeout');
  if (!values.from) throw new UsageError('--from is required: the Loki version to deploy first, e.g. --from 3.6.2');
  const lines = parseLines(values.lines);
  const { stack: to, at: from } = await loadStackAndVersion(values, { value: values.from, option: '--from' }, io);
  const rules = { allowDowngrade: values['allow-downgrade'], allowSkip: values['allow-skip'] };
  const issue = upgradeTestIssue(from.spec.version, to.spec.version, rules, CLI_OPTION_NAMES);
  if (issue) throw new UsageError(`--from ${from.spec.version}: ${issue.message}`);
  const connection = connectFrom(values, io);
  io.stderr(
    `upgrade test of stack ${to.metadata.namespace}/${to.metadata.name} on ${connection.server}: Loki ${from.spec.version}, ${lines} lines, then Loki ${to.spec.version} in waves\n`,
  );
  const print = (report: UpgradeTestReport) =>
    io.stdout(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : textOf(report));
  try {
    const report = await upgradeTest(connection, from, to, {
      ...rules,
      lines,
      timeoutMs,
      smoke: true,
      optionNames: CLI_OPTION_NAMES,
      deploy: (version) => deployProgress(io, to, `Loki ${version}: `),
      onUpgrade: (check) => io.stderr(`${describePreflight(check).join('\n')}\n`),
      onStep: (step) => {
        io.stderr(`${step}\n`);
        return (summary) => void (summary && io.stderr(`  ${summary}\n`));
      },
    });
    print(report);
    return 0;
  } catch (error) {
    if (!(error instanceof UpgradeTestError)) throw error;
    const exitCode = exitCodeOf(error.cause);
    if (exitCode === undefined) throw error.cause;
    print(error.report);
    const messages =
      error.cause instanceof SpecError
        ? error.cause.issues.map((issue) => `${issue.path}: ${issue.message}`)
        : [error.message];
    for (const message of messages) io.stderr(`error: ${message}\n`);
    return exitCode;
  }
}

/** Refused by the pre-flight: 2; not ready, lines missing (no cause), smoke test failed: 3; anything else: none. */
function exitCodeOf(cause: unknown): number | undefined {
  if (cause instanceof SpecError) return 2;
  if (
    cause === undefined ||
    cause instanceof NotReadyError ||
    cause instanceof SmokeTestError ||
    cause instanceof UpgradeNotReadyError
  )
    return 3;
  return undefined;
}

function parseLines(text: string): number {
  const lines = Number(text);
  if (!/^\d+$/.test(text) || lines < 1 || lines > MAX_LINES)
    throw new UsageError(`--lines must be a whole number from 1 to ${MAX_LINES}, not "${text}"`);
  return lines;
}

/** The waves with their times, the lines read back, the release notes of the pre-flight. */
function textOf(report: UpgradeTestReport): string {
  const lines = [`upgrade from Loki ${report.from} to ${report.to}:`];
  for (const wave of report.waves)
    lines.push(
      `  wave ${wave.number} ${wave.components.join(', ')}: ready after ${(wave.durationMs / 1000).toFixed(1)} s`,
    );
  if (report.failedWave)
    lines.push(`  wave ${report.failedWave.number} ${report.failedWave.components.join(', ')}: not ready`);
  lines.push(
    `lines read back: ${report.lines.pushed > 0 ? describeLinesRead(report.lines) : 'none (not pushed)'}`,
    ...(report.notes.length > 0
      ? ['release notes that concern this stack:', ...report.notes.map((note) => `  - ${describeReleaseNote(note)}`)]
      : []),
  );
  return `${lines.join('\n')}\n`;
}

export const command: Command = { help: HELP, run };
