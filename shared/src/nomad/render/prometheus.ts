// A Prometheus scrape config for the stack, discovered from the same service catalog the job registers
// in (consul_sd or nomad_sd), relabelled to `component` and `instance` (the allocation ID).
import { stringify } from 'yaml';
import type { LokiStack } from '../../spec/schema.js';
import { deployedComponents } from '../../stack/components.js';
import { groupName, jobId, serviceName } from './common.js';

export function scrapeConfig(stack: LokiStack): Record<string, unknown> {
  const services = deployedComponents(stack).map((component) => serviceName(stack, component));
  const job = { job_name: `loki-${jobId(stack)}`, metrics_path: '/metrics' };
  if (stack.spec.nomad.serviceProvider === 'consul') {
    return {
      scrape_configs: [
        {
          ...job,
          consul_sd_configs: [{ server: 'localhost:8500', services }],
          relabel_configs: [
            { source_labels: ['__meta_consul_service_metadata_component'], target_label: 'component' },
            { source_labels: ['__meta_consul_service_metadata_alloc_id'], target_label: 'instance' },
          ],
        },
      ],
    };
  }
  const prefix = `${stack.metadata.name}-`;
  return {
    scrape_configs: [
      {
        ...job,
        nomad_sd_configs: [{ server: 'http://localhost:4646', namespace: stack.spec.nomad.namespace }],
        relabel_configs: [
          { source_labels: ['__meta_nomad_service'], regex: `(${services.join('|')})`, action: 'keep' },
          {
            source_labels: ['__meta_nomad_service'],
            regex: `${prefix}(${deployedComponents(stack).map(groupName).join('|')})`,
            target_label: 'component',
          },
          { source_labels: ['__meta_nomad_service_alloc_id'], target_label: 'instance' },
        ],
      },
    ],
  };
}

export function scrapeConfigYaml(stack: LokiStack): string {
  const note = `# Prometheus scrape config for Loki stack "${stack.metadata.name}" on Nomad; set the discovery server to yours.\n`;
  return note + stringify(scrapeConfig(stack), { lineWidth: 0 });
}
