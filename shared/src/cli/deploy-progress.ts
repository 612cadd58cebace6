// What a deploy tells on standard error as it goes: the phases that take a while, the waves, each object that
// changed, and the components' ready counts. apply and upgrade-test show it alike.
import type { DeployOptions, DeployPhase } from '../kubernetes/ops/deploy.js';
import { describeWave } from '../kubernetes/ops/deploy.js';
import { waveName } from '../stack/waves.js';
import type { LokiStack } from '../spec/schema.js';
import type { CliIo } from './io.js';

export type DeployProgress = Pick<DeployOptions, 'onWave' | 'onObject' | 'onPhase' | 'onProgress'>;

/** The progress hooks of a deploy of `stack`; `prefix` starts each announcement (e.g. the Loki version). */
export function deployProgress(io: CliIo, stack: LokiStack, prefix = ''): DeployProgress {
  const announce: Partial<Record<DeployPhase, string>> = {
    wait: 'waiting until every component is ready',
    rules: "reading the ruler's rule groups",
    'smoke test': `smoke test: pushing a log line and querying it ${stack.spec.gateway.enabled ? 'through the gateway' : 'through the distributor and the query-frontend'}`,
  };
  return {
    onWave: (wave) => {
      io.stderr(`${prefix}wave ${wave.number}/${wave.total}: ${waveName(wave)}, waiting until it is ready\n`);
      return (timing) => void (timing && io.stderr(`${describeWave(timing)}\n`));
    },
    onObject: (object) =>
      object.action !== 'unchanged' && io.stderr(`  ${object.kind} ${object.name} ${object.action}\n`),
    onPhase: (phase) => void (announce[phase] && io.stderr(`${prefix}${announce[phase]}\n`)),
    onProgress: (line) => io.stderr(`  ${line}\n`),
  };
}
