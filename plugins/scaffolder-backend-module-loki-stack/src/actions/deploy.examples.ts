import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import { stringify } from 'yaml';

export const DEPLOY_EXAMPLES: TemplateExample[] = [
  {
    description:
      'Deploy the demo stack to the cluster "dev" of the Kubernetes plugin configuration, and wait until it is ready.',
    example: stringify({
      steps: [
        {
          id: 'deploy',
          name: 'Deploy Loki stack',
          action: 'loki:stack:deploy',
          input: { cluster: 'dev', name: 'loki', namespace: 'loki' },
        },
      ],
    }),
  },
  {
    description:
      'Deploy a small stack on GCS with three ingesters, wait up to 15 minutes and push and query a test line.',
    example: stringify({
      steps: [
        {
          id: 'deploy',
          name: 'Deploy Loki stack',
          action: 'loki:stack:deploy',
          input: {
            cluster: 'prod-eu',
            name: 'logs',
            namespace: 'observability',
            profile: 'small',
            storageType: 'gcs',
            bucket: 'acme-logs',
            replicas: { ingester: 3 },
            timeout: '15m',
            smokeTest: true,
          },
        },
      ],
    }),
  },
  {
    description:
      'Deploy two tenants behind the gateway (basic auth, passwords in the Secret logs-gateway-passwords) with mTLS between components and network isolation, and smoke-test through the gateway.',
    example: stringify({
      steps: [
        {
          id: 'deploy',
          name: 'Deploy Loki stack',
          action: 'loki:stack:deploy',
          input: {
            cluster: 'dev',
            name: 'logs',
            namespace: 'secured-logs',
            gateway: true,
            tls: true,
            networkPolicy: true,
            spec: { spec: { auth: { enabled: true, tenant: 'team-a' }, gateway: { tenants: ['team-a', 'team-b'] } } },
            smokeTest: true,
          },
        },
      ],
    }),
  },
];
