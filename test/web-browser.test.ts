/**
 * The chat page when things go wrong and without a mouse, in a real browser (Debian chromium via playwright-core)
 * against the real launcher (API and worker as processes of their own): a worker SIGKILLed or the API stopped and
 * started again while an answer streams still ends in one complete answer; the main flow works from the keyboard
 * alone with the focus always visible; and the README's screenshots of the page are taken here.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebPage } from '../scripts/build-web-page';
import type { StackHandle } from '../scripts/stack';
import { ensureChromium, launchChromium, type ChromiumSession } from '../scripts/chromium';
import { testEnvironment } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type ChatCompletionBody, type OpenAiServer } from '../scripts/simulators/openai-server';
import { startTestStack } from './support/stack';
import { bearer } from './support/tokens';
import { signIn, tokenOf } from '../scripts/chat-page-sign-in';
import { readDownload, watchProblems } from './support/web-page';

const log = (line: string) => process.stderr.write(`${line}\n`);
const screenshots = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));

/** One paragraph, so the page shows it as one `<p>` whose text must equal it exactly: no gap, no doubled word. */
const longAnswer =
  'A conversation outlives the process that answers it: Temporal keeps its history, so another worker replays it, ' +
  'asks the model again and streams the reply from its first word, while the page drops what it had of the broken ' +
  'attempt and shows the new one, once, from the first word to the last.';
/** How many words of an answer the model sends before the suite holds it (see OpenAiServer.hold). */
const heldAfter = 8;
const firstWords = longAnswer.split(' ').slice(0, heldAfter).join(' ');

/**
 * What the README's screenshots show: a developer's questions, answered in Markdown with code. Short enough that
 * both turns fit the desktop picture, and the code's lines a desktop-width bubble (its copy button beside them).
 */
const screenshotAnswers: Record<string, string> = {
  'What can you help me with?': 'Questions, drafts, code reviews, plans: ask in plain words.',
  'How do I retry a flaky fetch in TypeScript?': [
    'Use a loop with **exponential backoff**, and give up after a few tries:',
    '',
    '```ts',
    'async function fetchWithRetry(url: string, tries = 4) {',
    '  for (let attempt = 1; ; attempt++) {',
    '    const res = await fetch(url).catch(() => undefined);',
    '    if (res && (res.status < 500 || attempt === tries)) return res;',
    '    if (attempt === tries) throw new Error(`no answer from ${url}`);',
    '    await new Promise((r) => setTimeout(r, 2 ** attempt * 100));',
    '  }',
    '}',
    '```',
    '',
    'Retry only what can succeed next time: network errors and `5xx`, never a `400`.',
  ].join('\n'),
  'Plan a three-day trip to Lisbon': 'Day one in Alfama and the castle, day two in Belém, day three on the train to Sintra.',
};

/** The answers to the suite's messages: the long one unless the message is one of the screenshots'. */
const answerFor = (body: ChatCompletionBody) => {
  const asked = body.messages?.findLast((message) => message.role === 'user')?.content;
  return (typeof asked === 'string' && screenshotAnswers[asked]) || longAnswer;
};

/** The names of the Socket.IO events the page receives from now on, in order (read off its WebSocket frames). */
function watchSocketEvents(page: Page): string[] {
  const names: string[] = [];
  page.on('websocket', (socket) =>
    socket.on('framereceived', ({ payload }) => {
      // Engine.IO message (4) carrying a Socket.IO event (2): `42["token",{…}]`.
      if (typeof payload === 'string' && payload.startsWith('42[')) names.push((JSON.parse(payload.slice(2)) as [string])[0]);
    }),
  );
  return names;
}

/** Where the focus is: its role and accessible name as a screen reader gets them, and whether a sighted user sees it. */
interface Focus {
  /** The focused element's line of the accessibility tree, e.g. `button "New chat"`; `body` when nothing has it. */
  element: string;
  /** On screen, and marked: a focus ring, or Material UI's own mark (a ripple or tint on buttons, a thick border on fields). */
  visible: boolean;
}

async function focusOf(page: Page): Promise<Focus> {
  await settled(page);
  const visible = await page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return undefined;
    const box = element.getBoundingClientRect();
    const onScreen = box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0 && box.top < innerHeight && box.left < innerWidth;
    const style = getComputedStyle(element);
    const ring = element.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const marked = element.classList.contains('Mui-focusVisible') || element.closest('.Mui-focused') !== null;
    return onScreen && (ring || marked);
  });
  if (visible === undefined) return { element: 'body', visible: false };
  const tree = await page.locator('*:focus').ariaSnapshot({ timeout: 5_000 });
  // The first line names the element itself (`- button "New chat"`); what follows is its value and its children.
  const [, role, name] = /^- ([\w-]+)(?: ("(?:[^"\\]|\\.)*"))?/.exec(tree) ?? [];
  return { element: name ? `${role} ${name}` : (role ?? tree), visible };
}

/**
 * Waits until what the last key set off has played out: menus and dialogs open and close with transitions, and the
 * focus moves as they do. A focus ripple pulses for as long as the focus stays: only finite animations count.
 */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    document.getAnimations().every((animation) => animation.playState !== 'running' || animation.effect?.getTiming().iterations === Infinity),
  );
}

/** Keys only, and after each one the focus must be visible and named, as it must be for someone who cannot see a pointer. */
function keyboardOf(page: Page) {
  const press = async (key: string): Promise<Focus> => {
    await page.keyboard.press(key);
    const focus = await focusOf(page);
    expect(focus.visible, `after ${key} the focus (${focus.element}) is not visible`).toBe(true);
    expect(focus.element, `after ${key} the focus is on something without a name`).toMatch(/^[\w-]+ ".+"/);
    return focus;
  };
  return {
    press,
    /** Fails unless the focus is on `element` (`role "name"`), and visible. */
    async expectFocusOn(element: string): Promise<void> {
      expect(await focusOf(page)).toEqual({ element, visible: true });
    },
    /** Presses `key` until the focus reaches `target` (at most `limit` times); returns the stops on the way. */
    async moveTo(key: 'Tab' | 'Shift+Tab', target: string, limit = 20): Promise<string[]> {
      const stops: string[] = [];
      while (stops.length < limit) {
        const { element } = await press(key);
        stops.push(element);
        if (element.startsWith(target)) return stops;
      }
      throw new Error(`${key} never reached ${target}: ${stops.join(' → ')}`);
    },
  };
}

describe('the chat page in a browser, when processes fail and without a mouse', { timeout: 180_000 }, () => {
  let model: OpenAiServer;
  let env: Record<string, string>;
  let stack: StackHandle;
  let browser: ChromiumSession | undefined;

  // On a machine without it, apt-get installs Chromium: that alone can take minutes.
  beforeAll(() => ensureChromium(log), 600_000);
  // The page is built when missing or stale; the launcher's processes start in a few seconds each.
  beforeAll(async () => {
    await ensureWebPage(log);
    model = await startOpenAiServer({ answer: answerFor });
    env = testEnvironment({ providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model' }] });
    stack = await startTestStack(env);
    browser = await launchChromium({ viewport: { width: 1280, height: 800 }, log });
    mkdirSync(screenshots, { recursive: true });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await model?.close();
  });

  /** A tab of its own (its own sessionStorage, so its own sign-in), with what goes wrong in it and what its socket hears. */
  const openTab = async (user: string) => {
    const page = await browser!.context.newPage();
    page.setDefaultTimeout(20_000);
    const problems = watchProblems(page);
    const events = watchSocketEvents(page);
    await page.goto(`${stack.urls.api}/`);
    await signIn(page, await bearer(env, user));
    return { page, problems, events };
  };

  /** The answer while it streams, when it shows exactly the words the model sends before it is held. */
  const heldAnswer = (page: Page) =>
    page.locator('li[data-role="assistant"][data-state="streaming"]').locator('p', { hasText: new RegExp(`^${firstWords}$`) });

  /** Sends `text` in a new chat and waits until the answer shows its first words and stops there (the model is held). */
  const askAndHoldMidway = async (page: Page, text: string) => {
    model.hold(heldAfter);
    await page.getByRole('button', { name: 'New chat' }).click();
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill(text);
    await composer.press('Enter');
    await heldAnswer(page).waitFor();
  };

  /** The one answer of the open conversation, once final; fails when there is not exactly one, or it is not whole. */
  const expectOneWholeAnswer = async (page: Page) => {
    const final = page.locator('li[data-role="assistant"][data-state="final"]');
    await final.waitFor({ timeout: 60_000 });
    expect(await page.locator('li[data-role="assistant"]').count()).toBe(1);
    expect(await final.locator('p').allInnerTexts()).toEqual([longAnswer]);
  };

  it('when the worker is SIGKILLed while the answer streams then, after the retry restarts it, the page shows one whole answer', async () => {
    const { page, problems, events } = await openTab('wren');
    try {
      const calls = model.chatRequests.length;
      await askAndHoldMidway(page, 'Tell me why a crash loses nothing.');
      const [victim] = stack.workerPids();
      process.kill(victim!, 'SIGKILL');

      // The launcher starts a new worker; once the dead one's heartbeat is missed, the model is asked again.
      await eventually(() => model.chatRequests.length === calls + 2, { what: 'the retried model call', timeoutMs: 90_000 });
      const retried = () => events.slice(events.indexOf('restart') + 1).filter((name) => name === 'token').length;
      await eventually(() => events.includes('restart') && retried() === heldAfter, { what: "the restart event and the new attempt's words" });
      // The broken attempt's words are gone: the new attempt's show from its first word, not after the old ones.
      await heldAnswer(page).waitFor();
      model.release();

      await expectOneWholeAnswer(page);
      expect(events.indexOf('restart')).toBeLessThan(events.indexOf('reply'));
      expect(events.filter((name) => name === 'reply')).toHaveLength(1);
      expect(stack.workerPids()).not.toContain(victim);
      expect(problems).toEqual([]);
    } finally {
      model.release();
      await page.close();
    }
  });

  it('when the API is stopped and started again while the answer streams then the page says it is reconnecting, and the answer completes once', async () => {
    const { page, problems } = await openTab('wren');
    try {
      await askAndHoldMidway(page, 'Tell me why a restart loses nothing.');
      const [stopped] = stack.apiPids();
      process.kill(stopped!, 'SIGTERM'); // a graceful stop; the launcher starts a new API process on the same port

      await page.getByText('Reconnecting…').waitFor();
      // The rest of the answer is written while the page has no API to hear it from.
      model.release();
      await expect.poll(() => page.getByText(/Connecting…|Reconnecting…/).count(), { timeout: 60_000 }).toBe(0);
      expect(stack.apiPids()).not.toContain(stopped);

      await expectOneWholeAnswer(page);
      // While the API was down, the browser logged the refused connections, and nothing else.
      expect(problems.filter((problem) => !/ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/.test(problem))).toEqual([]);
    } finally {
      model.release();
      await page.close();
    }
  });

  it('when a user has only a keyboard then they sign in, start a chat, send, and reach the conversation menu, always seeing the focus', async () => {
    const page = await browser!.context.newPage();
    page.setDefaultTimeout(20_000);
    const problems = watchProblems(page);
    const keys = keyboardOf(page);
    try {
      await page.goto(`${stack.urls.api}/`);
      // The token field has the focus from the start.
      await page.getByRole('textbox', { name: 'Access token' }).waitFor();
      await keys.expectFocusOn('textbox "Access token"');
      await page.keyboard.insertText(tokenOf(await bearer(env, 'kim'))); // as a paste arrives
      expect((await keys.press('Tab')).element).toBe('button "Sign in with this token"');
      await page.keyboard.press('Enter');

      // Signed in, the focus is where the next thing to do is: writing.
      const composer = page.getByRole('textbox', { name: 'Message' });
      await composer.waitFor();
      await keys.expectFocusOn('textbox "Message"');
      await page.keyboard.type('What can you help me with?');
      expect((await keys.press('Enter')).element).toBe('textbox "Message"'); // sent, and ready for the next one
      await page.locator('li[data-role="assistant"][data-state="final"]').waitFor();

      // Back to the list for a new chat, and the focus is in its composer.
      await keys.moveTo('Shift+Tab', 'button "New chat"');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'New chat' }).waitFor();
      await keys.expectFocusOn('textbox "Message"');
      await page.keyboard.type('How do I retry a flaky fetch in TypeScript?');
      await keys.press('Enter');
      await page.locator('li[data-role="assistant"][data-state="final"]').locator('pre').waitFor();

      // The conversation menu: Enter opens it on its first item, Escape closes it and gives the focus back.
      const actions = 'button "Conversation actions"';
      await keys.moveTo('Shift+Tab', actions);
      expect((await keys.press('Enter')).element).toBe('menuitem "Export as Markdown"');
      expect((await keys.press('Escape')).element).toBe(actions);

      const [download] = await Promise.all([page.waitForEvent('download'), keys.press('Enter').then(() => keys.press('Enter'))]);
      expect(await readDownload(download)).toContain('How do I retry a flaky fetch in TypeScript?');
      await keys.expectFocusOn(actions);

      // Inside a menu the arrow keys move (Tab leaves it, as menus do).
      await keys.press('Enter');
      await keys.press('ArrowDown');
      expect((await keys.press('ArrowDown')).element).toBe('menuitem "Reset context"');
      await keys.press('Enter');
      await page.getByText('Reset: the assistant starts afresh from here; the history stays.').waitFor();
      await keys.expectFocusOn(actions);

      // Delete asks first, with the focus on Cancel; Escape leaves everything as it was.
      expect((await keys.press('Enter')).element).toBe('menuitem "Export as Markdown"');
      expect((await keys.press('ArrowUp')).element).toBe('menuitem "Delete…"');
      expect((await keys.press('Enter')).element).toBe('button "Cancel"');
      await page.getByRole('dialog', { name: 'Delete this conversation?' }).waitFor();
      expect((await keys.press('Escape')).element).toBe(actions);
      expect(await page.getByRole('dialog').count()).toBe(0);

      // And on to writing again.
      await keys.moveTo('Tab', 'textbox "Message"');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('when the README needs pictures of the page then a real conversation is shot at desktop and phone width, light and dark', async () => {
    const { page, problems } = await openTab('ada');
    try {
      const composer = page.getByRole('textbox', { name: 'Message' });
      const ask = async (question: string, answers: number) => {
        await composer.fill(question);
        await composer.press('Enter');
        await expect.poll(() => page.locator('li[data-role="assistant"][data-state="final"]').count()).toBe(answers);
      };
      // An older conversation for the list, then the one on show: two turns, the second with code.
      await ask('Plan a three-day trip to Lisbon', 1);
      await page.getByRole('button', { name: 'New chat' }).click();
      await ask('What can you help me with?', 1);
      await ask('How do I retry a flaky fetch in TypeScript?', 2);
      await page.getByRole('navigation', { name: 'Conversations' }).getByText('What can you help me with?').waitFor();

      const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
      for (const [device, size] of Object.entries(sizes)) {
        await page.setViewportSize(size);
        for (const colorScheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme });
          await settleForScreenshot(page, page.locator('li[data-role="assistant"]').last());
          // Transitions end at once: the colours are the new scheme's, not a blend of both.
          await page.screenshot({ path: `${screenshots}web-chat-${device}-${colorScheme}.png`, animations: 'disabled' });
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

/** No pointer effects (tooltips, hover tints) and no focus ring on the picture; `last` at the bottom, as a chat shows it. */
async function settleForScreenshot(page: Page, last: Locator): Promise<void> {
  await page.mouse.move(0, (page.viewportSize()?.height ?? 800) - 1);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await last.evaluate((element) => element.scrollIntoView({ block: 'end' }));
}
