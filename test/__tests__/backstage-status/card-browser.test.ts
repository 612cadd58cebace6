// The status card in a real browser: Debian's headless Chromium (driven by playwright-core) opens a page that
// mounts the card in Backstage's test app wrapper (test/browser/card-page.tsx, bundled by esbuild); the card's
// client asks the loki-stack backend, which reads the test API server. Screenshots go to
// test/artifacts/screenshots/ (ignored by git; CI keeps them as artifacts).
import { build, type Plugin } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { mockCredentials } from '@backstage/backend-test-utils';
import { startStatusBackend, type StatusBackend } from './stacks.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const require = createRequire(import.meta.url);
export const SCREENSHOTS = join(ROOT, 'test/artifacts/screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

test('Chromium is installed ($CHROMIUM or /usr/bin/chromium; bash .ci/run installs Debian\'s)', () => {
  expect(existsSync(CHROMIUM)).toBe(true);
});

/**
 * npm nests a copy of Material UI v4 under each Backstage package (its peer range stops at React 17), and each
 * copy has its own theme context: the card's components would not see the app's theme. An app's bundler
 * dedupes; here every `@material-ui/core` and `@material-ui/styles` import resolves from core-components' copy.
 */
const oneMaterialUi: Plugin = {
  name: 'one-material-ui',
  setup(build) {
    const from = dirname(createRequire(require.resolve('@backstage/core-components/package.json')).resolve('@material-ui/core/package.json'));
    build.onResolve({ filter: /^@material-ui\/(core|styles)(\/|$)/ }, (args) =>
      args.pluginData === 'one-material-ui' ? undefined : build.resolve(args.path, { kind: args.kind, resolveDir: from, pluginData: 'one-material-ui' }),
    );
  },
};

let backend: StatusBackend;
let page: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  backend = await startStatusBackend(1);
  const bundle = await build({
    entryPoints: [join(ROOT, 'test/browser/card-page.tsx')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.svg': 'dataurl', '.png': 'dataurl' },
    logLevel: 'warning',
    plugins: [oneMaterialUi],
  });
  const script = bundle.outputFiles[0]!.contents;
  const backendPort = (backend.server.address() as AddressInfo).port;
  // The page and its script from here; /api/* to the Backstage backend, as an app's proxy would.
  page = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url.startsWith('/api/')) {
      // The page passes ?as=nobody on to its API calls (no Backstage credentials), and ?slow=ms (a slow answer).
      const as = new URL(request.headers.referer ?? origin).searchParams;
      const headers: Record<string, string> = as.get('as') === 'nobody' ? { Authorization: mockCredentials.none.header() } : {};
      const delay = Number(as.get('slow') ?? 0);
      void new Promise((resolve) => setTimeout(resolve, delay))
        .then(() => fetch(`http://127.0.0.1:${backendPort}${url}`, { headers }))
        .then(async (answer) => {
          response.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
        });
    } else if (url.startsWith('/page.js')) {
      response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    } else {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><html><body><div id="root"></div><script type="module" src="/page.js"></script></body></html>');
    }
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'] });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await backend.untilCondition('/stacks/dev/b-ready/loki', 'Ready');
  await backend.untilCondition('/stacks/dev/b-degraded/loki', 'Degraded');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  page?.close();
  await backend?.close();
});

/** Wait for `text` on the page; on timeout, say what the page shows instead. */
async function waitForText(tab: Awaited<ReturnType<Browser['newPage']>>, text: string, errors: string[]): Promise<void> {
  try {
    await tab.getByText(text).first().waitFor({ timeout: 20_000 });
  } catch {
    throw new Error(`"${text}" did not appear; the page shows: ${await tab.locator('body').innerText()}\npage errors: ${errors.join('; ')}`);
  }
}

async function open(stack: string, query = '') {
  const tab = await browser.newPage({ viewport: { width: 640, height: 900 } });
  const errors: string[] = [];
  tab.on('pageerror', (error) => errors.push(error.message));
  tab.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await tab.goto(`${origin}/?stack=${stack}${query}`);
  return { tab, errors };
}

test('a healthy stack: Ready, every component ready, the URLs and the version', async () => {
  const { tab, errors } = await open('dev/b-ready/loki');
  await waitForText(tab, '9 components ready (AllComponentsReady)', errors);
  const text = await tab.locator('#root').innerText();
  expect(text).toContain('Loki stack');
  expect(text).toContain('dev · b-ready/loki');
  expect(text).toMatch(/Ready\s/);
  for (const component of ['distributor', 'ingester', 'querier', 'query-frontend', 'query-scheduler', 'index-gateway', 'compactor', 'ruler', 'object-store']) expect(text).toContain(component);
  expect(text).toContain('2/2');
  expect(text).toContain('http://loki-distributor.b-ready.svc.cluster.local:3100/loki/api/v1/push');
  expect(text).toContain('http://loki-query-frontend.b-ready.svc.cluster.local:3100');
  expect(text).toMatch(/Loki 3\.7\.8 · last checked/);
  expect(text).not.toContain('Pods not ready');
  await tab.screenshot({ path: join(SCREENSHOTS, 'loki-stack-card-ready.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('a degraded stack: Degraded, which component, and why', async () => {
  const { tab, errors } = await open('dev/b-degraded/loki');
  await waitForText(tab, 'distributor 1/1 ready (ImagePullBackOff) (ComponentsDegraded)', errors);
  const text = await tab.locator('#root').innerText();
  expect(text).toMatch(/Degraded\s/);
  expect(text).toContain('Pods not ready');
  expect(text).toMatch(/loki-distributor-[a-z0-9-]+: Failed \(ImagePullBackOff, container loki\)/);
  expect(text).toContain('degraded');
  await tab.screenshot({ path: join(SCREENSHOTS, 'loki-stack-card-degraded.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('every other state has its own message: loading, not found, unreachable, unauthorised, no annotation', async () => {
  const alertOf = async (stack: string, query = '') => {
    const { tab } = await open(stack, query);
    await tab.getByRole('alert').waitFor({ timeout: 20_000 });
    return tab.getByRole('alert').innerText();
  };
  const slow = await open('dev/b-ready/loki', '&slow=3000');
  await slow.tab.getByRole('progressbar').waitFor({ timeout: 20_000 });
  expect(await slow.tab.locator('#root').innerText()).not.toContain('AllComponentsReady');
  expect(await alertOf('dev/b-ready/nothing')).toContain('No Loki stack b-ready/nothing on cluster dev');
  expect(await alertOf('gone/b-ready/loki')).toMatch(/The cluster cannot tell right now: cluster "gone" cannot be reached/);
  expect(await alertOf('dev/b-ready/loki', '&as=nobody')).toMatch(/You are not allowed to read this stack's status/);
  const none = await open('');
  await none.tab.getByText('loki-microservices/stack').first().waitFor({ timeout: 20_000 });
  expect(await none.tab.locator('#root').innerText()).toMatch(/Missing Annotation/i);
  await none.tab.screenshot({ path: join(SCREENSHOTS, 'loki-stack-card-no-annotation.png'), fullPage: true });
});
