// `npm run bench`: how long validating and rendering take, per profile. Prints figures; asserts nothing.
import { performance } from 'node:perf_hooks';
import { parseSpec, renderKubernetes, renderNomad, toYaml, type LokiStackInput } from 'loki-microservices';
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
    parseSpec({ metadata: { name: 'Bad' }, spec: { profile: 'small', retention: 'x', components: { ingester: { replicas: 2, replicaz: 1 } }, storage: { type: 's3', s3: { bucket: 'b-b-b' } } } });
  } catch {
    // expected
  }
});
