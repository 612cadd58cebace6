// The status card in a real browser: Debian's headless Chromium (driven by playwright-core) opens a page that
// mounts the card as a Backstage app shows it — Backstage's UI stylesheet, its theme provider (light and dark)
// and an entity page (test/browser/card-page.tsx, bundled by esbuild); the card's client asks the loki-stack
// backend by entity, which reads the entity from its catalog and the stack from the test API server.
// Screenshots go to test/artifacts/screenshots/ (ignored by git; CI keeps them as artifacts);
// docs/loki-stack-card.png, the README's picture, is a copy of loki-stack-card-degraded-light.png.
import { build, type Plugin } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AS, startStatusBackend, type StatusBackend } from './stacks.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const require = createRequire(import.meta.url);
export const SCREENSHOTS = join(ROOT, 'test/artifacts/screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

test('Chromium is installed ($CHROMIUM, which npm test provides, or /usr/bin/chromium)', () => {
  expect(existsSync(CHROMIUM)).toBe(true);
});

/**
 * One Material UI v4 for the whole page, as an app's bundler (webpack, rspack) makes it: each copy, and each of
 * its two builds, has its own theme context, and components of one do not see the theme of another. Every
 * `@material-ui/core` and `@material-ui/styles` import resolves from core-components' copy, and `require()`s
 * (material-table's, which draws the components table) to its ES modules too, where esbuild would pick the
 * CommonJS build.
 */
const oneMaterialUi: Plugin = {
  name: 'one-material-ui',
  setup(build) {
    const from = dirname(
      createRequire(require.resolve('@backstage/core-components/package.json')).resolve(
        '@material-ui/core/package.json',
      ),
    );
    build.onResolve({ filter: /^@material-ui\/(core|styles)(\/|$)/ }, (args) =>
      args.pluginData === 'one-material-ui'
        ? undefined
        : build.resolve(args.path, { kind: 'import-statement', resolveDir: from, pluginData: 'one-material-ui' }),
    );
  },
};

/** The browser's globals, for the functions evaluated in the page (this project compiles without the DOM library). */
type PageGlobals = {
  getComputedStyle(element: unknown): { fontFamily: string; color: string; backgroundColor: string };
  document: { body: { getAttribute(name: string): string | null; innerText: string } };
};
/** Material UI v4 suffixes its class names under the app's nested style providers: match their stems. */
const CARD = '[class*="MuiCard-root"]';
const TYPOGRAPHY = '[class*="MuiTypography-root"]';
const TEXT_NODE = 3;

let backend: StatusBackend;
let page: Server;
let browser: Browser;
let origin: string;

/** The page's script and stylesheet (the UI stylesheet the page imports, as an app's index.tsx does). */
async function bundlePage(): Promise<Record<string, Uint8Array>> {
  const bundle = await build({
    entryPoints: { page: join(ROOT, 'test/browser/card-page.tsx') },
    bundle: true,
    write: false,
    outdir: '/page',
    platform: 'browser',
    format: 'esm',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.svg': 'dataurl', '.png': 'dataurl' },
    logLevel: 'warning',
    plugins: [oneMaterialUi],
  });
  return Object.fromEntries(bundle.outputFiles.map((file) => [file.path, file.contents]));
}

beforeAll(async () => {
  backend = await startStatusBackend(1);
  const files = await bundlePage();
  const backendPort = (backend.server.address() as AddressInfo).port;
  // The page and its files from here; /api/* to the Backstage backend, as an app's proxy would.
  page = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url.startsWith('/api/')) {
      // The page passes ?as=<principal of AS> on to its API calls (default: the mock user), and ?slow=ms (a slow answer).
      const params = new URL(request.headers.referer ?? origin).searchParams;
      const as = AS[(params.get('as') ?? 'user') as keyof typeof AS];
      const delay = Number(params.get('slow') ?? 0);
      void new Promise((resolve) => setTimeout(resolve, delay))
        .then(() => fetch(`http://127.0.0.1:${backendPort}${url}`, { headers: { Authorization: as } }))
        .then(async (answer) => {
          response
            .writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' })
            .end(Buffer.from(await answer.arrayBuffer()));
        })
        // A request still on its way (a slow one) when the suite closes the backend: answered, not left to crash the run.
        .catch((error: Error) => {
          if (!response.headersSent) response.writeHead(502, { 'Content-Type': 'text/plain' }).end(error.message);
        });
    } else if (files[url.split('?')[0]!]) {
      response
        .writeHead(200, { 'Content-Type': url.endsWith('.css') ? 'text/css' : 'text/javascript' })
        .end(files[url]);
    } else {
      response
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          '<!doctype html><html><head><link rel="stylesheet" href="/page/page.css"></head><body><div id="root"></div><script type="module" src="/page/page.js"></script></body></html>',
        );
    }
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await backend.untilCondition('dev/b-ready/loki', 'Ready');
  await backend.untilCondition('dev/b-degraded/loki', 'Degraded');
  await backend.untilRulesLoaded('dev/b-rules/loki', 2);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  page?.close();
  await backend?.close();
});

/** Wait for `text` on the page; on timeout, say what the page shows instead. */
async function waitForText(tab: Page, text: string | RegExp, errors: string[]): Promise<void> {
  try {
    await tab.getByText(text).first().waitFor({ timeout: 20_000 });
  } catch {
    throw new Error(
      `"${text}" did not appear; the page shows: ${await tab.locator('body').innerText()}\npage errors: ${errors.join('; ')}`,
    );
  }
}

async function open(stack: string, query = '') {
  const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  tab.on('pageerror', (error) => errors.push(error.message));
  tab.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await tab.goto(`${origin}/?stack=${stack}${query}`);
  return { tab, errors };
}

/**
 * A picture of the whole page. Backstage's Page scrolls inside the window, so the window first grows to the
 * height of the page's content.
 */
async function screenshot(tab: Page, name: string): Promise<void> {
  const height = await tab
    .locator('main')
    .first()
    .evaluate((element) => element.getBoundingClientRect().top + element.scrollHeight);
  await tab.setViewportSize({ width: 1280, height: Math.ceil(Math.max(height, 600)) + 24 });
  await tab.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

/** The font families of every element of the card that holds text of its own. */
function cardFonts(tab: Page): Promise<string[]> {
  return tab.locator(CARD).evaluate((card, textNode) => {
    const page = globalThis as unknown as PageGlobals;
    const fonts = new Set<string>();
    for (const element of card.querySelectorAll('*')) {
      if ([...element.childNodes].some((node) => node.nodeType === textNode && node.textContent?.trim()))
        fonts.add(page.getComputedStyle(element).fontFamily);
    }
    return [...fonts];
  }, TEXT_NODE);
}

/** Relative luminance (0 black … 1 white) of an element's computed `property` colour. */
function luminance(tab: Page, selector: string, property: 'color' | 'backgroundColor'): Promise<number> {
  return tab
    .locator(selector)
    .first()
    .evaluate((element, key) => {
      const [r, g, b] = (
        (globalThis as unknown as PageGlobals).getComputedStyle(element)[key].match(/\d+(\.\d+)?/g) ?? []
      ).map(Number) as [number, number, number];
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    }, property);
}

/**
 * What a Backstage look means here: no serif anywhere — the theme's sans-serif, Backstage UI's system-ui where
 * text inherits the page's font (material-table's cells), monospace for URLs — and the theme's colours.
 */
async function expectBackstageLook(tab: Page, theme: 'light' | 'dark'): Promise<void> {
  const fonts = await cardFonts(tab);
  expect(fonts.length).toBeGreaterThan(0);
  for (const font of fonts) expect(font).toMatch(/(sans-serif|system-ui|monospace)$/);
  const background = await luminance(tab, CARD, 'backgroundColor');
  const text = await luminance(tab, `${CARD} ${TYPOGRAPHY}`, 'color');
  if (theme === 'dark') expect([background < 0.3, text > 0.7]).toEqual([true, true]);
  else expect([background > 0.9, text < 0.3]).toEqual([true, true]);
  expect(
    await tab.evaluate(() => (globalThis as unknown as PageGlobals).document.body.getAttribute('data-theme-mode')),
  ).toBe(theme);
}

/** Each endpoint row: its copy button beside its URL, on the same line (bounding boxes). */
async function expectCopyButtonsBesideUrls(tab: Page): Promise<void> {
  for (const label of ['Push', 'Query']) {
    const row = tab.locator(`tr[data-endpoint="${label}"]`);
    const url = (await row.locator('td').first().boundingBox())!;
    const button = (await row.getByRole('button', { name: `Copy the ${label.toLowerCase()} URL` }).boundingBox())!;
    const middle = button.y + button.height / 2;
    expect([label, middle > url.y && middle < url.y + url.height]).toEqual([label, true]);
    expect([label, button.x >= url.x + url.width - 1]).toEqual([label, true]);
  }
}

describe.each(['light', 'dark'] as const)('%s theme', (theme) => {
  test('a healthy stack: Ready, every component ready, the URLs and the version, on an entity page', async () => {
    const { tab, errors } = await open('dev/b-ready/loki', `&theme=${theme}`);
    await waitForText(tab, '9 components ready (AllComponentsReady)', errors);
    expect(await tab.getByRole('heading', { level: 1 }).innerText()).toBe('dev.b-ready.loki');
    const text = await tab.locator(CARD).innerText();
    expect(text).toContain('Loki stack');
    expect(text).toContain('dev · b-ready/loki');
    expect(text).toMatch(/Ready\s/);
    for (const component of [
      'distributor',
      'ingester',
      'querier',
      'query-frontend',
      'query-scheduler',
      'index-gateway',
      'compactor',
      'ruler',
      'object-store',
    ])
      expect(text).toContain(component);
    expect(text).toContain('2/2');
    expect(text).toContain('http://loki-distributor.b-ready.svc.cluster.local:3100/loki/api/v1/push');
    expect(text).toContain('http://loki-query-frontend.b-ready.svc.cluster.local:3100');
    expect(text).toMatch(/Loki 3\.7\.8 · last checked/);
    expect(text).not.toContain('Pods not ready');
    expect(text).not.toContain('Rules');
    await expectBackstageLook(tab, theme);
    await expectCopyButtonsBesideUrls(tab);
    await screenshot(tab, `loki-stack-card-ready-${theme}.png`);
    expect(errors).toEqual([]);
  });

  test('a degraded stack: Degraded, which component, and why', async () => {
    const { tab, errors } = await open('dev/b-degraded/loki', `&theme=${theme}`);
    // The kubelet alternates ErrImagePull and ImagePullBackOff while it retries the pull; either is the answer.
    await waitForText(tab, /distributor 1\/1 ready \((ErrImagePull|ImagePullBackOff)\) \(ComponentsDegraded\)/, errors);
    const text = await tab.locator(CARD).innerText();
    expect(text).toMatch(/Degraded\s/);
    expect(text).toContain('Pods not ready');
    expect(text).toMatch(/loki-distributor-[a-z0-9-]+: Failed \((ErrImagePull|ImagePullBackOff), container loki\)/);
    expect(text).toContain('degraded');
    await expectBackstageLook(tab, theme);
    await expectCopyButtonsBesideUrls(tab);
    await screenshot(tab, `loki-stack-card-degraded-${theme}.png`);
    expect(errors).toEqual([]);
  });
});

test('a stack with rules: how many groups the ruler loaded, and the failing one with its tenant, file and error', async () => {
  const { tab, errors } = await open('dev/b-rules/loki');
  await waitForText(tab, 'Rules: 2 groups loaded, 1 not', errors);
  const failing = tab.locator('[data-rule-group="typo"]');
  expect(await failing.innerText()).toMatch(/^rules\/shop\.yaml, group "typo" \(tenant fake\): failing: parse error/);
  expect(await tab.locator('[data-rule-group]').count()).toBe(1);
  await screenshot(tab, 'loki-stack-card-rules-light.png');
  expect(errors).toEqual([]);
});

test('refresh is an icon button named Refresh, with a tooltip, that asks again', async () => {
  const { tab, errors } = await open('dev/b-ready/loki');
  await waitForText(tab, '9 components ready (AllComponentsReady)', errors);
  const refresh = tab.getByRole('button', { name: 'Refresh' });
  expect(await refresh.locator('svg').count()).toBe(1);
  expect((await refresh.innerText()).trim()).toBe('');
  await refresh.hover();
  await expect(tab.getByRole('tooltip').innerText()).resolves.toBe('Refresh');
  const before = await tab.getByText(/last checked/).innerText();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const asked = tab.waitForResponse((response) =>
    response.url().includes('/api/loki-stack/stacks/by-entity/resource/observability/dev.b-ready.loki'),
  );
  await refresh.click();
  expect((await asked).status()).toBe(200);
  await tab.waitForFunction(
    (old) => !(globalThis as unknown as PageGlobals).document.body.innerText.includes(old),
    before,
    { timeout: 10_000 },
  );
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
  expect(await alertOf('gone/b-ready/loki')).toMatch(
    /The cluster cannot tell right now: cluster "gone" cannot be reached/,
  );
  expect(await alertOf('dev/b-ready/loki', '&as=nobody')).toMatch(/You are not allowed to read this stack's status/);
  expect(await alertOf('dev/b-ready/loki', '&as=noStatus')).toMatch(
    /You are not allowed to read this stack's status .*permission loki\.stack\.read/,
  );
  expect(await alertOf('dev/b-ready/loki', '&as=outsider')).toMatch(
    /No Loki stack b-ready\/loki on cluster dev: no entity resource:observability\/dev\.b-ready\.loki that you may read/,
  );
  const none = await open('');
  await none.tab.getByText('loki-microservices/stack').first().waitFor({ timeout: 20_000 });
  expect(await none.tab.locator('#root').innerText()).toMatch(/Missing Annotation/i);
  await screenshot(none.tab, 'loki-stack-card-no-annotation.png');
});
