// A demo stack asks to be ready sooner; small and production keep Loki's and Kubernetes' cautious timings.
// Only readiness changes: the liveness probe, which restarts pods, is the same for every profile.
import type { V1StatefulSet } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { renderKubernetes } from '../../src/kubernetes/render/index.js';
import { renderNomad } from '../../src/nomad/render/index.js';
import { parseSpec } from '../../src/spec/parse.js';

const ingesterOf = (profile: string) => {
  const { objects } = renderKubernetes(parseSpec({ spec: { profile, storage: { type: 'bundled' } } }));
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'loki-config') as {
    data: Record<string, string>;
  };
  const set = objects.find((o) => o.kind === 'StatefulSet' && o.metadata?.name === 'loki-ingester') as V1StatefulSet;
  const container = set.spec!.template.spec!.containers[0]!;
  return {
    minReady: (parse(config.data['config.yaml']!) as { ingester: { lifecycler: { min_ready_duration: string } } })
      .ingester.lifecycler.min_ready_duration,
    readiness: container.readinessProbe,
    liveness: container.livenessProbe,
  };
};

test('demo: the ingester is ready a second after it is ACTIVE, and readiness is asked every 2 s', () => {
  expect(ingesterOf('demo')).toMatchObject({
    minReady: '1s',
    readiness: { initialDelaySeconds: 2, periodSeconds: 2 },
  });
});

test.each(['small', 'production'])('%s: Loki default 15s and the probe every 10 s after 15 s', (profile) => {
  expect(ingesterOf(profile)).toMatchObject({
    minReady: '15s',
    readiness: { initialDelaySeconds: 15, periodSeconds: 10 },
  });
});

test('the liveness probe does not depend on the profile', () => {
  expect(ingesterOf('demo').liveness).toEqual(ingesterOf('production').liveness);
});

test("Nomad's /ready check follows the profile too", () => {
  const spec = (profile: string) =>
    parseSpec({
      spec: {
        profile,
        storage: { type: 's3', s3: { bucket: 'loki-chunks', region: 'eu-west-1' } },
        nomad: { datacenters: ['dc1'] },
      },
    });
  expect(renderNomad(spec('demo')).hcl).toMatch(/path\s*=\s*"\/ready"[\s\S]*?interval\s*=\s*"2s"/);
  expect(renderNomad(spec('production')).hcl).toMatch(/path\s*=\s*"\/ready"[\s\S]*?interval\s*=\s*"10s"/);
});
