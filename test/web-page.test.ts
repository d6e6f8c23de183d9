/**
 * The chat page as a user meets it: the API serves it with caching headers and a CSP that names no other origin,
 * /docs works without a CDN, and in a real browser (Debian chromium via playwright-core) a user signs in with a
 * token, sends a message and watches the answer stream in token by token and end as rendered Markdown.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webConfigOf, contentSecurityPolicy, webPageRoutes } from '../api/routes/web-page';
import { loadConfig } from '../lib/config';
import { freePort } from '../lib/free-ports';
import { buildWebPage, type BuiltFile } from '../scripts/build-web-page';
import { ensureChromium, launchChromium, type ChromiumSession } from '../scripts/chromium';
import { startEngine, type Engine } from './support/engine';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { signIn } from '../scripts/chat-page-sign-in';
import { readDownload, watchProblems } from './support/web-page';

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * An identity provider people sign in at: oidc-provider with its own login and consent pages, the chat page as a
 * public client (code + PKCE) and JWT access tokens for the API's audience.
 */
async function startLoginProvider(options: { clientId: string; redirectUri: string; audience: string }) {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [options.redirectUri],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'web-page-test' }] },
    cookies: { keys: ['web-page-test-cookies'] },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
    clientBasedCORS: () => true,
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:ai-assistant-core:api',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api', audience: options.audience, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
      },
    },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Relative luminance (0 black … 1 white) of a CSS `rgb(r, g, b)` colour. */
function luminance(color: string): number {
  const [r = 0, g = 0, b = 0] = (color.match(/\d+/g) ?? []).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/** What the model answers: Markdown worth rendering, and HTML that must stay text. */
const answer = [
  'Here is **bold** text and a list:',
  '',
  '- first item',
  '- second item',
  '',
  '```js',
  "console.log('copied');",
  '```',
  '',
  'And <img src=x onerror="document.title=\'pwned\'"> stays text.',
].join('\n');

describe('the chat page', () => {
  let engine: Engine;
  let model: OpenAiServer;
  let built: BuiltFile[];

  // Type-checking and bundling the page takes a while on a busy 2-core machine.
  beforeAll(async () => {
    built = await buildWebPage({ log, typecheck: true });
    model = await startOpenAiServer({ answer: () => answer });
    engine = await startEngine({
      providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model' }],
    });
  }, 300_000);

  afterAll(async () => {
    await engine?.stop();
    await model?.close();
  });

  it('when a browser asks for / then it gets the page, revalidated on every visit, under a CSP that names no other origin', async () => {
    const response = await fetch(`${engine.api.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|\*|'unsafe-eval'/);
    const html = await response.text();
    const references = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(references).toEqual(references.map(() => expect.stringMatching(/^(\/(?!\/)|data:)/)));
    const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((match) => match[1]);
    expect(scripts).toEqual([expect.stringMatching(/^\/assets\/index-[\w-]+\.js$/)]);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // nothing inline
  });

  it('when the page loads its assets then they are compressed and cached for a year, and nothing else is served from there', async () => {
    const assets = built.filter((file) => file.file.startsWith('assets/'));
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const response = await fetch(`${engine.api.url}/${asset.file}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(response.headers.get('content-encoding')).toBe('gzip');
      expect((await response.arrayBuffer()).byteLength).toBe(asset.bytes); // fetch decodes it back
    }
    for (const path of ['/assets/missing-0000.js', '/assets/..%2Findex.html', '/assets/%2E%2E%2Fpaths.ts']) {
      const response = await fetch(`${engine.api.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('when the page has not been built then / says how to build it', async () => {
    const app = new OpenAPIHono();
    webPageRoutes({ config: engine.config }, app, join(tmpdir(), 'no-web-page-build-here'));
    const response = await app.request('/');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect((await response.json()).detail).toContain('npm run build:web');
  });

  it('when an identity provider is configured then the page is told where to sign in and may talk to it, and only there', async () => {
    const development = await (await fetch(`${engine.api.url}/web/config.json`)).json();
    expect(development).toEqual({ tokenSignIn: true });

    const config = loadConfig({ ...engine.env, AUTH_ISSUER: 'https://id.example.com/realms/main', WEB_OIDC_CLIENT_ID: 'chat-page' });
    const oidc = { authority: 'https://id.example.com/realms/main', clientId: 'chat-page', scope: 'openid profile' };
    expect(webConfigOf(config)).toEqual({ tokenSignIn: true, oidc });
    // In production, signing in is the identity provider's business alone.
    expect(webConfigOf({ ...config, mode: 'production' })).toEqual({ tokenSignIn: false, oidc });
    expect(contentSecurityPolicy(config)).toContain("connect-src 'self' https://id.example.com;");
  });

  it('when /docs is opened then Swagger UI comes from this server and names no other origin', async () => {
    const response = await fetch(`${engine.api.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).not.toMatch(/https?:\/\//);
    const references = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(references).toEqual(expect.arrayContaining([expect.stringMatching(/swagger-ui-bundle\.js$/), expect.stringMatching(/swagger-ui\.css$/)]));
    for (const reference of references) {
      expect(reference).toMatch(/^\/docs\//);
      const asset = await fetch(`${engine.api.url}${reference}`);
      expect(asset.status, reference).toBe(200);
      if (reference.endsWith('.js')) expect(await asset.text()).not.toMatch(/\bcdn\b|unpkg|jsdelivr/);
    }
  });

  describe('in a browser', { timeout: 120_000 }, () => {
    let browser: ChromiumSession | undefined;
    let page: Page;
    let problems: string[] = [];

    // On a machine without it, apt-get installs Chromium: that alone can take minutes.
    beforeAll(() => ensureChromium(log), 600_000);
    beforeAll(async () => {
      browser = await launchChromium({ viewport: { width: 1280, height: 800 }, log });
      page = browser.page;
      page.setDefaultTimeout(20_000);
      problems = watchProblems(page);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('when a user signs in with a token and sends a message then the answer streams in and ends as rendered Markdown', async () => {
      // A word every 150 ms: slow enough that the page shows the answer while it is still being written.
      model.setDelayMs(150);

      await page.goto(`${engine.api.url}/`);
      await signIn(page, await engine.as('alice'));
      const composer = page.getByRole('textbox', { name: 'Message' });
      await composer.fill('Show me some Markdown, please.');
      await composer.press('Enter');

      const mine = page.locator('li[data-role="user"]');
      await mine.filter({ hasText: 'Show me some Markdown, please.' }).waitFor();
      const reply = page.locator('li[data-role="assistant"]');
      // Part of the answer is on the page while the rest is still coming.
      const streamed = reply.and(page.locator('[data-state="streaming"]')).filter({ hasText: 'Here is' });
      await streamed.waitFor();
      const partial = await streamed.innerText();

      const final = reply.and(page.locator('[data-state="final"]'));
      await final.waitFor();
      expect(await final.count()).toBe(1);
      expect(partial.length).toBeLessThan((await final.innerText()).length);
      await expect.poll(() => final.locator('strong').innerText()).toBe('bold');
      expect(await final.locator('li').allInnerTexts()).toEqual(['first item', 'second item']);
      expect(await final.locator('pre code').innerText()).toContain("console.log('copied');");
      await final.getByRole('button', { name: 'Copy code' }).waitFor();
      // The model's HTML is shown as text: no element made of it, nothing run.
      expect(await final.innerText()).toContain('<img src=x onerror=');
      expect(await final.locator('img').count()).toBe(0);
      expect(await page.title()).not.toBe('pwned');

      // The typing box is empty again and keeps the focus for the next message.
      expect(await composer.inputValue()).toBe('');
      expect(await composer.evaluate((element) => element === document.activeElement)).toBe(true);
      // The conversation is listed under its first message.
      await page.getByRole('navigation', { name: 'Conversations' }).getByText('Show me some Markdown, please.').waitFor();
      expect(problems).toEqual([]);
    });

    it('when the user writes with Shift+Enter then the message keeps its lines, and Enter sends it', async () => {
      model.setDelayMs(0);
      await page.getByRole('button', { name: 'New chat' }).click();
      const composer = page.getByRole('textbox', { name: 'Message' });
      await composer.pressSequentially('first line');
      await composer.press('Shift+Enter');
      await composer.pressSequentially('second line');
      expect(await composer.inputValue()).toBe('first line\nsecond line');
      await composer.press('Enter');
      await page.locator('li[data-role="user"]').filter({ hasText: 'second line' }).waitFor();
      expect(await page.locator('li[data-role="user"]').innerText()).toContain('first line\nsecond line');
      await page.locator('li[data-role="assistant"][data-state="final"]').waitFor();
      expect(problems).toEqual([]);
    });

    it('when the page is reloaded while the answer streams then the answer completes once, from its first word', async () => {
      model.setDelayMs(150);
      await page.getByRole('button', { name: 'New chat' }).click();
      const composer = page.getByRole('textbox', { name: 'Message' });
      await composer.fill('Answer slowly, please.');
      await composer.press('Enter');
      const reply = page.locator('li[data-role="assistant"]');
      await reply.and(page.locator('[data-state="streaming"]')).filter({ hasText: 'Here is' }).waitFor();
      await page.waitForURL(/#\/c\//); // the new chat's id is in the URL, so the reload comes back to it

      await page.reload();
      const final = reply.and(page.locator('[data-state="final"]'));
      await final.waitFor();
      expect(await reply.count()).toBe(1);
      expect(await final.innerText()).toMatch(/^(Assistant:\s*)?Here is bold text and a list:/);
      expect((await final.innerText()).match(/first item/g)).toHaveLength(1);
      expect(problems).toEqual([]);
    });

    it('when a second tab has the conversation open then it shows the answer to what the first tab sent, live', async () => {
      model.setDelayMs(100);
      const conversationUrl = page.url();
      const second = await browser!.context.newPage();
      try {
        await second.goto(conversationUrl);
        await signIn(second, await engine.as('alice')); // each tab signs in for itself (sessionStorage)
        // The history is there, and the tab follows the conversation live.
        await second.locator('ol[data-live="true"]').waitFor();
        const before = await second.locator('li[data-role="assistant"][data-state="final"]').count();
        expect(before).toBeGreaterThan(0);

        await page.getByRole('textbox', { name: 'Message' }).fill('Sent from the first tab.');
        await page.getByRole('textbox', { name: 'Message' }).press('Enter');
        const streamed = second.locator('li[data-role="assistant"][data-state="streaming"]');
        await streamed.waitFor();
        await second.locator('li[data-role="user"]').filter({ hasText: 'Sent from the first tab.' }).waitFor();
        await expect.poll(() => second.locator('li[data-role="assistant"][data-state="final"]').count(), { timeout: 20_000 }).toBe(before + 1);
        expect(await second.locator('li[data-role="assistant"]').count()).toBe(before + 1);
      } finally {
        await second.close();
      }
      expect(problems).toEqual([]);
    });

    it('when the user exports the conversation then they get its whole history as Markdown and as JSON', async () => {
      await page.getByRole('button', { name: 'Conversation actions' }).click();
      const [markdown] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Export as Markdown' }).click()]);
      const markdownText = await readDownload(markdown);
      expect(markdown.suggestedFilename()).toMatch(/^conversation-web_alice_.+\.md$/);
      expect(markdownText).toContain('Answer slowly, please.');
      expect(markdownText).toContain('Sent from the first tab.');
      expect(markdownText).toContain('```js');

      await page.getByRole('button', { name: 'Conversation actions' }).click();
      const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Export as JSON' }).click()]);
      const exported = JSON.parse(await readDownload(json));
      expect(exported.conversationId).toMatch(/^web:alice:/);
      expect(exported.messages.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(problems).toEqual([]);
    });

    it('when a user who may not delete tries then the page says why; an admin deletes it and it leaves the list', async () => {
      const title = 'Answer slowly, please.';
      const list = page.getByRole('navigation', { name: 'Conversations' });
      await page.getByRole('button', { name: 'Conversation actions' }).click();
      await page.getByRole('menuitem', { name: 'Delete…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete this conversation?' });
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await dialog.getByText('needs the admin role').waitFor();
      expect(problems.splice(0)).toEqual([expect.stringContaining('status of 403')]); // the browser logs the refused request
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await list.getByText(title).waitFor();

      // The same user, signed in again as an admin, comes back to the same conversation.
      await page.getByRole('button', { name: /^Account/ }).click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await signIn(page, await engine.as('alice', 'admin'));
      await list.getByText(title).waitFor();
      await page.getByRole('button', { name: 'Conversation actions' }).click();
      await page.getByRole('menuitem', { name: 'Delete…' }).click();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await page.getByText('The conversation was deleted.').waitFor();
      await expect.poll(() => list.getByText(title).count(), { timeout: 20_000 }).toBe(0);
      expect(await page.getByRole('heading', { name: 'New chat' }).count()).toBe(1);
      expect(problems).toEqual([]);
    });

    it('when the page is used at phone width in dark mode then the list is a drawer and the colours are dark', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.emulateMedia({ colorScheme: 'dark' });
      // The page lays itself out again once it has seen the new width: the drawer's button appears then.
      const drawerButton = page.getByRole('button', { name: 'Conversations' });
      await drawerButton.waitFor();
      expect(await page.getByRole('navigation', { name: 'Conversations' }).isVisible()).toBe(false);
      await drawerButton.click();
      const list = page.getByRole('navigation', { name: 'Conversations' });
      await list.getByText('Show me some Markdown, please.').click();
      await expect.poll(() => list.isVisible(), { timeout: 20_000 }).toBe(false);
      await page.locator('li[data-role="assistant"][data-state="final"]').first().waitFor();
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(luminance(background)).toBeLessThan(0.2);

      // Chosen colours are remembered, over what the system prefers.
      await page.getByRole('button', { name: 'Colour mode' }).click();
      await page.getByRole('menuitem', { name: 'Light' }).click();
      await page.reload();
      await page.locator('li[data-role="assistant"][data-state="final"]').first().waitFor();
      expect(luminance(await page.evaluate(() => getComputedStyle(document.body).backgroundColor))).toBeGreaterThan(0.8);
      expect(problems).toEqual([]);
    });
  });

  describe('signing in with an identity provider, in a browser', { timeout: 120_000 }, () => {
    let idp: Awaited<ReturnType<typeof startLoginProvider>>;
    let oidcEngine: Engine;
    let browser: ChromiumSession | undefined;

    beforeAll(() => ensureChromium(log), 600_000);
    beforeAll(async () => {
      // The provider must know the page's address before the API that serves it starts.
      const port = await freePort();
      idp = await startLoginProvider({ clientId: 'chat-page', redirectUri: `http://127.0.0.1:${port}/`, audience: 'chat-api' });
      oidcEngine = await startEngine({
        worker: false,
        env: {
          PORT: String(port),
          AUTH_JWT_SECRET: '',
          AUTH_JWKS_URL: `${idp.issuer}/jwks`,
          AUTH_ISSUER: idp.issuer,
          AUTH_AUDIENCE: 'chat-api',
          WEB_OIDC_CLIENT_ID: 'chat-page',
          WEB_OIDC_SCOPE: 'openid profile api',
        },
      });
      browser = await launchChromium({ viewport: { width: 1280, height: 800 }, log });
      browser.page.setDefaultTimeout(20_000);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await oidcEngine?.stop();
      await idp?.close();
    });

    it('when a user signs in at the provider then they come back to where they were, signed in for REST and the socket', async () => {
      const { page } = browser!;
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      const where = `#/c/${encodeURIComponent('web:carol:later')}`;
      await page.goto(`${oidcEngine.api.url}/${where}`);
      await page.getByRole('button', { name: `Sign in with ${new URL(idp.issuer).host}` }).click();

      // The provider's own pages: any login, then consent.
      await page.locator('input[name="login"]').fill('carol');
      await page.locator('input[name="password"]').fill('any');
      await page.locator('button[type="submit"]').click();
      await page.locator('button[type="submit"]', { hasText: 'Continue' }).click();

      await page.waitForURL(`${oidcEngine.api.url}/${where}`);
      await page.getByRole('button', { name: 'Account (carol)' }).waitFor();
      await page.getByText('No conversations yet.').waitFor(); // the list answered the provider's token
      await expect.poll(() => page.getByText(/Connecting|Reconnecting/).count(), { timeout: 20_000 }).toBe(0); // so did the socket
      expect(await page.getByRole('button', { name: 'Account (carol)' }).isVisible()).toBe(true);
      expect(await page.evaluate(() => sessionStorage.length)).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    });
  });
});
