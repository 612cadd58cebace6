import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import { stringify } from 'yaml';

export const RENDER_EXAMPLES: TemplateExample[] = [
  {
    description: 'Render the demo stack into ./loki of the workspace.',
    example: stringify({
      steps: [
        {
          id: 'render',
          name: 'Render Loki stack',
          action: 'loki:stack:render',
          input: { name: 'loki', namespace: 'loki' },
        },
      ],
    }),
  },
  {
    description: 'Render a small stack on S3 for a GitOps repository, then publish it.',
    example: stringify({
      steps: [
        {
          id: 'render',
          name: 'Render Loki stack',
          action: 'loki:stack:render',
          input: {
            name: 'logs',
            namespace: 'observability',
            profile: 'small',
            storageType: 's3',
            bucket: 'acme-logs',
            region: 'eu-west-1',
            secretName: 'loki-s3',
            retention: '720h',
            targetPath: './deploy/loki',
          },
        },
      ],
    }),
  },
];
