// A page that mounts the Loki stack card the way a Backstage app shows it: Backstage's UI stylesheet (as an
// app's index.tsx imports it), the app's theme (UnifiedThemeProvider, light or dark), and an entity page
// (Page, Header, Content, a grid of cards) in Backstage's test app wrapper, for the catalog entity that names
// `?stack=<cluster>/<namespace>/<name>` (the backend's catalog holds the same entity). `?theme=dark` for the
// dark theme. The real client asks the loki-stack backend at /api/loki-stack. Bundled by esbuild for the
// browser test (not part of any package).
import '@backstage/ui/css/styles.css';
import { Content, Header, Page } from '@backstage/core-components';
import { discoveryApiRef, fetchApiRef } from '@backstage/core-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { TestApiProvider, wrapInTestApp } from '@backstage/test-utils';
import { themes, UnifiedThemeProvider } from '@backstage/theme';
import { LokiStackCard, LokiStackClient, lokiStackApiRef } from '@loki-microservices/plugin-loki-stack';
import { Grid } from '@material-ui/core';
import { useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { stackEntity } from '../__tests__/backstage-status/entities.js';

const params = new URLSearchParams(window.location.search);
const entity = stackEntity(params.get('stack') || null);
const theme = params.get('theme') === 'dark' ? themes.dark : themes.light;
const discoveryApi = { getBaseUrl: async (pluginId: string) => `${window.location.origin}/api/${pluginId}` };
const fetchApi = { fetch: (input: RequestInfo | URL, init?: RequestInit) => window.fetch(input, init) };

/**
 * The page's theme, in place of the test app wrapper's (light only). It mounts once the wrapper's provider has
 * marked the page as light (effects run children first), so that its mode is the page's, as with an app's
 * one theme provider: Backstage UI's stylesheet colours the page by that mark.
 */
function AppTheme({ children }: { children: ReactNode }) {
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  return mounted ? <UnifiedThemeProvider theme={theme}>{children}</UnifiedThemeProvider> : null;
}

createRoot(document.getElementById('root')!).render(
  wrapInTestApp(
    <AppTheme>
      <TestApiProvider
        apis={[
          [discoveryApiRef, discoveryApi],
          [fetchApiRef, fetchApi],
          [lokiStackApiRef, new LokiStackClient({ discoveryApi, fetchApi })],
        ]}
      >
        <EntityProvider entity={entity}>
          <Page themeId="service">
            <Header
              title={entity.metadata.name}
              subtitle={`${entity.kind} in ${entity.metadata.namespace}`}
              type="resource"
            />
            <Content>
              <Grid container spacing={3}>
                <Grid item xs={12} md={6}>
                  <LokiStackCard />
                </Grid>
              </Grid>
            </Content>
          </Page>
        </EntityProvider>
      </TestApiProvider>
    </AppTheme>,
  ),
);
