// schema next: the period to append to spec.schemas, dated the first day that needs no flag at apply.
import {
  DEFAULT_INDEX_PREFIX,
  nextSafeSchemaDate,
  SCHEMA_VERSIONS,
  schemaPeriodYaml,
  stackSchemaPeriods,
  startOf,
  type SchemaPeriod,
  type SchemaVersion,
} from '../stack/schema-periods.js';
import { UsageError, type CliIo, type Command } from './io.js';
import { loadStack, parseCommandLine, SPEC_HELP, SPEC_OPTIONS } from './options.js';

const HELP = `Usage: loki-microservices schema next [--version v13] [-f spec.yaml] [--set path=value ...]

Print a schema period to append to spec.schemas, as YAML: store tsdb, dated the first day whose midnight
UTC is more than 24 h away (apply takes it without --allow-near-schema), and after the spec's newest period.
A period in effect never changes: a new schema version only ever starts on a future day. Nothing is contacted.

Options:
      --version VERSION  Schema version of the new period (default v13; the newest period must be v13)
${SPEC_HELP}
  -h, --help             Show this help

Exit codes: 0 printed, 2 invalid spec or usage.
`;

const DAY_MS = 86_400_000;

async function run(args: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'next')
    throw new UsageError(
      subcommand === undefined ? 'say which: "schema next"' : `unknown schema command "${subcommand}": use "next"`,
    );
  const values = parseCommandLine(rest, { ...SPEC_OPTIONS, version: { type: 'string', default: 'v13' } });
  const version = values.version as SchemaVersion;
  if (!SCHEMA_VERSIONS.includes(version))
    throw new UsageError(`--version must be one of ${SCHEMA_VERSIONS.join(', ')}, not "${values.version}"`);
  const now = new Date();
  const periods = stackSchemaPeriods(await loadStack(values, io));
  const newest = periods[periods.length - 1]!;
  // After the spec's newest period, if that one is still ahead.
  const from = [nextSafeSchemaDate(now), new Date(startOf(newest) + DAY_MS).toISOString().slice(0, 10)].sort()[1]!;
  const period: SchemaPeriod = {
    from,
    store: 'tsdb',
    version,
    indexPrefix: newest.indexPrefix || DEFAULT_INDEX_PREFIX,
  };
  io.stderr(
    `# append to spec.schemas (${periods.length} period${periods.length === 1 ? '' : 's'} now, newest from ${newest.from})\n`,
  );
  io.stdout(schemaPeriodYaml(period));
  return 0;
}

export const command: Command = { help: HELP, run };
