// A page that mounts the Loki stack card the way a Backstage app does — in Backstage's test app wrapper, for
// the entity named by `?stack=<cluster>/<namespace>/<name>` — with the real client asking the loki-stack
// backend at /api/loki-stack. Bundled by esbuild for the browser test (not part of any package).
import type { Entity } from '@backstage/catalog-model';
import { discoveryApiRef, fetchApiRef } from '@backstage/core-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { TestApiProvider, wrapInTestApp } from '@backstage/test-utils';
import { LokiStackCard, LokiStackClient, lokiStackApiRef, STACK_ANNOTATION } from '@loki-microservices/plugin-loki-stack';
import { createRoot } from 'react-dom/client';

const stack = new URLSearchParams(window.location.search).get('stack') ?? '';
const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Resource',
  metadata: { name: 'logs', annotations: stack ? { [STACK_ANNOTATION]: stack } : ({} as Record<string, string>) },
  spec: { type: 'loki-stack', owner: 'group:default/platform' },
};
const discoveryApi = { getBaseUrl: async (pluginId: string) => `${window.location.origin}/api/${pluginId}` };
const fetchApi = { fetch: (input: RequestInfo | URL, init?: RequestInit) => window.fetch(input, init) };

createRoot(document.getElementById('root')!).render(
  wrapInTestApp(
    <TestApiProvider
      apis={[
        [discoveryApiRef, discoveryApi],
        [fetchApiRef, fetchApi],
        [lokiStackApiRef, new LokiStackClient({ discoveryApi, fetchApi })],
      ]}
    >
      <EntityProvider entity={entity}>
        <div style={{ width: 560, padding: 16 }}>
          <LokiStackCard />
        </div>
      </EntityProvider>
    </TestApiProvider>,
  ),
);
