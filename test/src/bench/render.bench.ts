// `npm run bench`: how long validating and rendering take, per profile. Prints figures; asserts nothing.
import { performance } from 'node:perf_hooks';
import { parseSpec, renderKubernetes, renderNomad, toYaml, type LokiStackInput } from 'loki-microservices';
import { htpasswdFile, parseHtpasswd, tlsSecrets } from 'loki-microservices/testing';
import { NOMAD_SPECS } from '../nomad-job.js';
import { specMatrix } from '../specs.js';

const ITERATIONS = 200;

function measure(label: string, run: () => unknown): void {
  for (let i = 0; i < 20; i++) run(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(2);
  console.log(`${label.padEnd(42)} median ${at(0.5).padStart(6)} ms   p95 ${at(0.95).padStart(6)} ms`);
}

const cases: [string, LokiStackInput][] = [
  ['demo (default)', {}],
  ['small / s3', specMatrix().find((s) => s.name === 'small/s3')!.input],
  ['production / gcs', specMatrix().find((s) => s.name === 'production/gcs')!.input],
  ['all options', specMatrix().find((s) => s.name === 'all-options')!.input],
  [
    'everything on (gateway, tls, monitoring, network policy)',
    specMatrix().find((s) => s.name === 'everything-on')!.input,
  ],
];

console.log(`node ${process.version}, ${ITERATIONS} runs each\n`);
for (const [name, input] of cases) {
  const stack = parseSpec(input);
  const { objects } = renderKubernetes(stack);
  const yaml = toYaml(objects);
  console.log(`${name}: ${objects.length} objects, ${(yaml.length / 1024).toFixed(1)} KiB of YAML`);
  measure('  parseSpec', () => parseSpec(input));
  measure('  renderKubernetes', () => renderKubernetes(stack));
  measure('  toYaml', () => toYaml(objects));
  measure('  spec to YAML (all three)', () => toYaml(renderKubernetes(parseSpec(input)).objects));
}
for (const name of ['demo/s3-instance-role', 'small/consul-vault-tls-traefik']) {
  const stack = parseSpec(NOMAD_SPECS[name]!);
  console.log(`nomad ${name}: ${(renderNomad(stack).hcl.length / 1024).toFixed(1)} KiB of HCL`);
  measure('  renderNomad', () => renderNomad(stack));
}
measure('invalid spec, 5 problems (parseSpec throws)', () => {
  try {
    parseSpec({
      metadata: { name: 'Bad' },
      spec: {
        profile: 'small',
        retention: 'x',
        components: { ingester: { replicas: 2, replicaz: 1 } },
        storage: { type: 's3', s3: { bucket: 'b-b-b' } },
      },
    });
  } catch {
    // expected
  }
});

// What apply adds for the production options: certificates (issued once, then only checked) and htpasswd lines.
async function measureAsync(label: string, runs: number, run: () => Promise<unknown>): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(42)} median ${samples[Math.floor(runs / 2)]!.toFixed(2).padStart(6)} ms   (${runs} runs)`,
  );
}
const secured = parseSpec({ spec: { tls: { enabled: true } } });
const issued = await tlsSecrets(secured, () => undefined);
const byName = new Map(
  issued.secrets.map((secret) => [
    secret.metadata!.name!,
    Object.fromEntries(Object.entries(secret.data!).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])),
  ]),
);
console.log(`tls generated: a CA and ${issued.secrets.length - 1} certificates`);
await measureAsync('  issue all (first apply)', 20, () => tlsSecrets(secured, () => undefined));
await measureAsync('  check all, none due (every later apply)', 20, () =>
  tlsSecrets(secured, (name) => byName.get(name)),
);
const users = ['team-a', 'team-b', 'admin'];
const passwords = Object.fromEntries(users.map((user) => [user, `${user}-0123456789abcdefghijklmnopqrstuv`]));
const file = htpasswdFile(users, passwords);
console.log(`gateway htpasswd: ${users.length} users, bcrypt cost 5`);
measure('  hash every user (first apply)', () => htpasswdFile(users, passwords));
measure('  verify every line (later applies)', () => htpasswdFile(users, passwords, parseHtpasswd(file)));
