import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import { stringify } from 'yaml';

export const PLAN_EXAMPLES: TemplateExample[] = [
  {
    description:
      'Show what deploying the demo stack to the cluster "dev" would change; later steps read steps.plan.output.summary, hasChanges and plan.',
    example: stringify({
      steps: [
        {
          id: 'plan',
          name: 'Plan Loki stack',
          action: 'loki:stack:plan',
          input: { cluster: 'dev', name: 'loki', namespace: 'loki' },
        },
      ],
    }),
  },
  {
    description:
      'Plan a change to a running stack, two queriers and a higher ingestion rate: the plan names the pods that would roll and the Loki config keys that changed.',
    example: stringify({
      steps: [
        {
          id: 'plan',
          name: 'Plan Loki stack',
          action: 'loki:stack:plan',
          input: {
            cluster: 'dev',
            name: 'loki',
            namespace: 'loki',
            replicas: { querier: 2 },
            spec: { spec: { limits: { ingestionRateMB: 8 } } },
          },
        },
      ],
    }),
  },
];
