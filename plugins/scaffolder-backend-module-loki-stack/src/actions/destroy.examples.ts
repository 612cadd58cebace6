import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import { stringify } from 'yaml';

export const DESTROY_EXAMPLES: TemplateExample[] = [
  {
    description: 'Delete the stack loki/loki from the cluster "dev", keeping its volumes.',
    example: stringify({
      steps: [
        {
          id: 'destroy',
          name: 'Destroy Loki stack',
          action: 'loki:stack:destroy',
          input: { cluster: 'dev', name: 'loki', namespace: 'loki' },
        },
      ],
    }),
  },
  {
    description: 'Delete a stack and its volumes (its data).',
    example: stringify({
      steps: [
        {
          id: 'destroy',
          name: 'Destroy Loki stack',
          action: 'loki:stack:destroy',
          input: { cluster: 'dev', name: 'logs', namespace: 'observability', deleteVolumes: true },
        },
      ],
    }),
  },
];
