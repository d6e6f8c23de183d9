/**
 * The operator's view in a real browser: the Temporal UI (the one embedded in the project's `temporal` CLI)
 * lists conversations by search attribute and shows their encrypted payloads decoded through the API's codec
 * server. Also regenerates the README's screenshots in docs/screenshots/.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../lib/key-ring';
import { encryptedEncoding } from '../lib/payload-codec';
import { searchAttributes } from '../lib/search-attributes';
import { startDevServer, type DevServer } from '../scripts/temporal-dev-server';
import { ensureChromium, launchChromium, type ChromiumSession } from '../scripts/chromium';
import { sharedWorkflowBundle, startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { freePorts } from '../lib/free-ports';
import { testServices } from './support/services';

const screenshots = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const user = 'alice';
const conversationId = 'demo';
const workflowId = `api:${user}:${conversationId}`;
const marker = `orchid-${randomUUID().slice(0, 8)}`;
const userText = `Please remember the word ${marker}.`;
const log = (line: string) => process.stderr.write(`${line}\n`);

// Chromium and the UI start in seconds; each story then takes a few more on a 2-core machine.
describe('conversations in the Temporal UI, in a browser', { timeout: 60_000 }, () => {
  let temporal: DevServer | undefined;
  let engine: Engine | undefined;
  let browser: ChromiumSession | undefined;
  let page: Page;
  let uiUrl: string;
  /** The run the edge started: it has the summary and the message's signal. */
  let firstRunId: string;

  // On a machine without it, apt-get installs Chromium: that alone can take minutes.
  beforeAll(() => ensureChromium(log), 600_000);

  beforeAll(async () => {
    const [grpcPort, uiPort, codecPort] = (await freePorts(3)) as [number, number, number];
    uiUrl = `http://127.0.0.1:${uiPort}`;
    // The dev server is told the codec endpoint before the API exists, so the codec server gets a fixed port; held
    // until the API binds it, because the dev server picks free ports of its own (HTTP, metrics) as it starts.
    const releaseCodecPort = await holdPort(codecPort);
    try {
      // Its own dev server: the shared one runs headless, and the UI must call this suite's codec server.
      temporal = await startDevServer({
        cli: testServices().temporalCliPath,
        port: grpcPort,
        uiPort,
        uiCodecEndpoint: `http://127.0.0.1:${codecPort}/codec`,
        fast: true,
        searchAttributes,
        log,
      });
      // Bundled now, so that the port is free only for the moment the engine needs to start its worker.
      await sharedWorkflowBundle();
    } finally {
      await releaseCodecPort();
    }
    engine = await startEngine({
      temporalAddress: temporal.address,
      archive: 'directory',
      // As npm start runs it: the dev server's UI has no token to send, so the codec server on loopback needs none.
      env: { CODEC_LISTEN: `127.0.0.1:${codecPort}`, CODEC_REQUIRE_TOKEN: 'false', ENCRYPTION_KEYS: generateKeySpec('ui') },
      // Search attributes of a busy conversation are written once a minute by default: once a second here.
      app: { codec: { cors_origins: [uiUrl, `http://localhost:${uiPort}`] }, conversation: { quiet_period: '1s' } },
    });
    const response = await engine.post('/api/v1/chat', { conversationId, text: userText }, await engine.as(user));
    expect(response.status).toBe(200);
    expect((await response.json()).reply.text).toContain(marker);
    // The list shows what visibility holds: wait for the status the turn ends with, so the screenshot does too.
    // A conversation's continued runs (every 25 turns, or when it parks with park_after set) are listed too: the open one.
    const settled = `WorkflowId = "${workflowId}" AND ChatStatus = "waiting" AND ChatTurns = 1 AND ExecutionStatus = "Running"`;
    await eventually(async () => (await engine!.temporal.workflow.count(settled)).count === 1, { what: settled });
    firstRunId = (await engine.temporal.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.firstRunId ?? '';

    browser = await launchChromium({ viewport: { width: 1280, height: 800 }, log });
    page = browser.page;
    // Playwright waits this long for each element or navigation before it fails the step.
    page.setDefaultTimeout(15_000);
    mkdirSync(screenshots, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
    await temporal?.child.stop(5_000);
  });

  it('when an operator filters the list by ChatChannel then the conversation is listed with its search attributes', async () => {
    await page.goto(`${uiUrl}/namespaces/default/workflows`);
    await page.getByTestId('toggle-manual-query').click();
    await page.getByTestId('manual-search-input').fill('ChatChannel = "api" AND ExecutionStatus = "Running"');
    await page.getByTestId('manual-search-button').click();
    await page.waitForURL(/[?&]query=ChatChannel/);

    // Columns that tell conversations apart, instead of ones that are the same for all (type) or noise (run id).
    await page.getByTestId('workflows-summary-table-configuration-button').click();
    for (const column of ['Run ID', 'Type', 'End']) await page.getByTestId(`orderable-list-item-${column}-remove-button`).click();
    for (const column of ['ChatUser', 'ChatStatus', 'ChatTurns']) await page.getByTestId(`orderable-list-item-${column}-add-button`).click();
    await page.getByTestId('drawer-close-button').click();
    await page.getByRole('button', { name: 'Collapse saved views' }).click();

    const row = page.getByTestId('workflows-summary-configurable-table-row').filter({ hasText: workflowId });
    await row.getByText('waiting').waitFor();
    const cells = await row.getByTestId('workflows-summary-table-body-cell').allInnerTexts();
    expect(cells).toEqual(expect.arrayContaining(['Running', workflowId, user, 'waiting', '1']));
    // This suite's own server: the conversation is the only one.
    expect(await page.getByTestId('workflow-count').innerText()).toBe('1');

    await settleForScreenshot(page, page.getByTestId('workflow-count'));
    await page.screenshot({ path: `${screenshots}temporal-ui-conversations.png` });
  });

  it('when the operator opens the conversation then its summary, details and decoded message text are shown', async () => {
    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${firstRunId}/history`);
    await page.getByTestId('workflow-id-heading').filter({ hasText: workflowId }).waitFor();

    // Summary and current details are markdown, each rendered in its own frame: the summary's, then the current
    // details' (the static details, empty for conversations, would have one in between).
    await page.getByTestId('user-metadata-tab').click();
    const rendered = page.locator('iframe[title="output"]');
    // The renderer typesets the summary's straight quotes as curly ones.
    await rendered.nth(0).contentFrame().getByText(new RegExp(`^API conversation .${conversationId}. with ${user}$`)).waitFor();
    const details = rendered.nth(1).contentFrame().locator('body');
    await details.getByText('Last reply').waitFor();
    expect(await details.innerText()).toMatch(/Status waiting · Turns 1 · Waiting messages 0[\s\S]*Last reply via dev\/echo/);

    await page.getByTestId('search-attributes-tab').click();
    for (const attribute of ['"ChatChannel": "api"', `"ChatUser": "${user}"`, '"ChatStatus": "waiting"', '"ChatTurns": 1']) {
      await page.locator('.cm-line', { hasText: attribute }).waitFor();
    }

    await page.getByTestId('history-tab').click();
    // Oldest first, so the message that started it all sits at the top of the table.
    await page.getByRole('button', { name: 'Descending' }).click();
    await page.getByTestId('event-summary-row').filter({ hasText: 'Workflow Execution Signaled' }).click();
    const expanded = page.getByTestId('event-summary-row-expanded').filter({ hasText: 'Workflow Execution Signaled' });
    await expectDecoded(expanded);

    await settleForScreenshot(page, expanded);
    await page.screenshot({ path: `${screenshots}temporal-ui-conversation.png` });
  });
});

/**
 * Waits for the user's text in the expanded event; the payload is readable only through the codec server,
 * so when the UI shows the encrypted payload instead, says so (and why that usually happens).
 */
async function expectDecoded(expanded: Locator): Promise<void> {
  try {
    await expanded.getByText(userText).waitFor();
  } catch (error) {
    const shown = await expanded.innerText().catch(() => '(the event is not shown)');
    const stillEncrypted = [encryptedEncoding, Buffer.from(encryptedEncoding).toString('base64')].some((s) => shown.includes(s));
    throw new Error(
      stillEncrypted
        ? `The Temporal UI shows the message payload still encrypted (encoding ${encryptedEncoding}): it did not decode ` +
            'it through the codec server. Check --ui-codec-endpoint, the API port and codec.cors_origins. The UI shows:\n' +
            shown
        : `The Temporal UI does not show the message text "${userText}" in the expanded event. The UI shows:\n${shown}`,
      { cause: error },
    );
  }
}

/** Keeps `port` bound until the returned function releases it. */
async function holdPort(port: number): Promise<() => Promise<void>> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return () => new Promise((resolve) => server.close(() => resolve()));
}

/** A screenshot without hover effects (tooltips, the navigation's expand button), with `anchor` scrolled into view. */
async function settleForScreenshot(page: Page, anchor: Locator): Promise<void> {
  // The top right corner, just below the header: nothing there reacts to the pointer.
  await page.mouse.move((page.viewportSize()?.width ?? 1280) - 1, 60);
  await anchor.scrollIntoViewIfNeeded();
}
