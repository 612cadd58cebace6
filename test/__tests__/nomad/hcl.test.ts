// The HCL writer against a real HCL2 parser: whatever the values hold (quotes, newlines, template
// sequences, a line that looks like the heredoc's end), the parsed job holds exactly those values.
import { closeHclParser, parseHcl as parse } from '../../src/hcl.js';
import { attributes, block, heredoc, interpolated, toHcl } from '../../../shared/dist/nomad/render/hcl.js';
import { unescapeHcl } from '../../src/nomad-job.js';

afterAll(closeHclParser);

async function roundTrip(
  values: Record<string, Parameters<typeof attributes>[0][string]>,
): Promise<Record<string, unknown>> {
  const text = toHcl([block('job', ['x'], attributes(values))]);
  const parsed = (await parse('x.hcl', text)) as { job: { x: Record<string, unknown>[] } };
  return parsed.job.x[0]!;
}

test('strings keep quotes, backslashes, newlines and literal template sequences', async () => {
  const tricky = 'say "hi"\\n\tthen ${NOT_INTERPOLATED} and %{ if } and $${ already }';
  const job = await roundTrip({ tricky, n: 3, yes: true, list: ['a', '${b}'] });
  expect(unescapeHcl(job.tricky as string)).toBe(tricky);
  expect(job.n).toBe(3);
  expect(job.yes).toBe(true);
  expect((job.list as string[]).map(unescapeHcl)).toEqual(['a', '${b}']);
});

test('interpolated strings reach Nomad as interpolations', async () => {
  const job = await roundTrip({ id: interpolated('${NOMAD_ALLOC_ID}') });
  // Not escaped: hcl2json reports the interpolation as written, and Nomad fills it in at run time.
  expect(job.id).toBe('${NOMAD_ALLOC_ID}');
  expect(toHcl([block('j', [], attributes({ id: interpolated('${NOMAD_ALLOC_ID}') }))])).not.toContain('$${');
});

test('heredocs keep their text, even a line equal to the usual delimiter', async () => {
  const text =
    'line one\n  EOT\nport: ${NOMAD_PORT_http}\n{{ with secret "kv/data/x" }}{{ .Data.data.key }}{{ end }}\n';
  const job = await roundTrip({ data: heredoc(text) });
  expect(unescapeHcl(job.data as string)).toBe(text);
});

test('nested blocks and labels', async () => {
  const text = toHcl([
    block(
      'job',
      ['loki'],
      block('group', ['ingester'], attributes({ count: 2 }), block('network', [], block('port', ['http']))),
    ),
  ]);
  const parsed = (await parse('x.hcl', text)) as {
    job: { loki: { group: { ingester: { count: number; network: { port: Record<string, unknown> }[] }[] } }[] };
  };
  const group = parsed.job.loki[0]!.group.ingester[0]!;
  expect(group.count).toBe(2);
  expect(Object.keys(group.network[0]!.port)).toEqual(['http']);
});
