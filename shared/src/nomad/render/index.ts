// renderNomad(stack): the stack as one Nomad job (HCL2) with a group per component, and the Prometheus
// scrape config for it. Pure and deterministic, like renderKubernetes.
import { SpecError } from '../../errors.js';
import { VERSION } from '../../version.js';
import type { LokiStack } from '../../spec/schema.js';
import { attributes, block, mapBlock, toHcl, type HclBlock } from './hcl.js';
import { deployedComponents } from '../../stack/components.js';
import { jobId, jobMeta } from './common.js';
import { cacheGroups } from './caches.js';
import { componentGroup } from './group.js';
import { scrapeConfigYaml } from './prometheus.js';
import { nomadIssues } from './validate.js';

export interface RenderedNomadJob {
  /** Job ID (the stack name). */
  id: string;
  namespace: string;
  /** The job file, for `nomad job run` or POST /v1/jobs/parse. */
  hcl: string;
  /** Prometheus `scrape_configs` for the stack's services. */
  scrapeConfig: string;
}

export function renderNomad(stack: LokiStack): RenderedNomadJob {
  const issues = nomadIssues(stack);
  if (issues.length > 0) throw new SpecError(issues);
  const header = [
    `# Loki ${stack.spec.version} microservices stack "${stack.metadata.name}" as a Nomad job (profile ${stack.spec.profile}),`,
    `# rendered by loki-microservices ${VERSION}. Run it with: nomad job run <this file>`,
  ].join('\n');
  return {
    id: jobId(stack),
    namespace: stack.spec.nomad.namespace,
    hcl: `${header}\n${toHcl([job(stack)])}`,
    scrapeConfig: scrapeConfigYaml(stack),
  };
}

function job(stack: LokiStack): HclBlock {
  const { nomad } = stack.spec;
  return block(
    'job',
    [jobId(stack)],
    attributes({ namespace: nomad.namespace, region: nomad.region, datacenters: nomad.datacenters, type: 'service' }),
    mapBlock('meta', jobMeta(stack)),
    // One allocation at a time, judged by its /ready check; a version that never gets healthy is rolled back.
    block(
      'update',
      [],
      attributes({
        max_parallel: 1,
        health_check: 'checks',
        min_healthy_time: '10s',
        healthy_deadline: '5m',
        progress_deadline: '10m',
        auto_revert: true,
      }),
    ),
    // The caches first: the Loki groups that use them find them in the catalog.
    cacheGroups(stack),
    deployedComponents(stack).map((component) => componentGroup(stack, component)),
  );
}
