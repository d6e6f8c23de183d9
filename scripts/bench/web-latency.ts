/**
 * `npm run bench:web`: how fast the chat page answers, next to REST + SSE. Starts the bench's own stack
 * (./world.ts: `npm start`'s settings, a model that answers at once), opens the page in Debian chromium and sends N
 * messages one after another, timing each in the browser from the `message` emit on its WebSocket to the first
 * `token` and to the `reply`; turn about with those, the same over REST + SSE (POST /api/v1/chat with `wait: false`,
 * then the event stream, as ./targets.ts reads it). Also the page's load on localhost by the Performance API. Prints
 * p50/p99 side by side and writes web-latency.json; exits non-zero when a turn failed, never because of a timing.
 * @example npm run bench:web -- --messages 100
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchChromium, type ChromiumSession } from '../chromium';
import { signIn } from '../chat-page-sign-in';
import { ensureWebPage } from '../build-web-page';
import type { LatencyStats } from '../chaos/drill-report';
import { latencyStats } from '../chaos/latency-stats';
import { engineTarget } from './targets';
import { startWorld, type World } from './world';

const usage = `npm run bench:web -- [options]
  --messages N   messages sent each way, one after another (default 100)
  --loads N      reloads of the signed-in page timed (default 10)
  --out DIR      where web-latency.json and the processes' log go (default data/bench/web-<time>)`;

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100' },
    loads: { type: 'string', default: '10' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
const messages = Number(values.messages);
const loads = Number(values.loads);
if (values.help || !Number.isInteger(messages) || messages < 1 || !Number.isInteger(loads) || loads < 1) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}

/** What one turn's timings are, in ms from the message going out. */
interface TurnTimes {
  firstTokenMs: number;
  replyMs: number;
}

/** A page load, in ms from navigation start (the Performance API's). */
interface LoadTimes {
  domContentLoadedMs: number;
  loadMs: number;
  firstContentfulPaintMs: number | null;
  /** Until what the visitor came for can be used: the sign-in form, or the conversation shown and live. */
  usableMs: number;
  /** What came over the network, compressed, page and assets (0 when all came from the cache). */
  transferredBytes: number;
}

/** How long one turn may take before the bench gives up on it. */
const turnTimeoutMs = 60_000;

const startedAt = new Date().toISOString();
const dir = values.out ?? join('data', 'bench', `web-${startedAt.replace(/[:.]/g, '-')}`);
mkdirSync(dir, { recursive: true });
const processLog = createWriteStream(join(dir, 'processes.log'));
const say = (line: string) => console.log(line);
let world: World | undefined;
let browser: ChromiumSession | undefined;
const stopAll = async () => {
  await browser?.close();
  await world?.stop();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`[web] ${signal}: stopping`);
    void stopAll().finally(() => process.exit(130));
  });
}

/** What the page notes of its Socket.IO traffic, by its own clock (`performance.now()`). */
interface SocketIoWatch {
  /** The connection moved from HTTP long-polling, where Socket.IO starts, to its WebSocket. */
  upgraded: boolean;
  turns: { messageId: string; sentAt: number; firstTokenAt?: number; replyAt?: number }[];
}

/**
 * Runs in the page before its own scripts (so the page is not changed, only watched): notes when each `message`
 * event leaves on a WebSocket and when its first `token` and its `reply` arrive, in `window.socketIo`.
 */
function watchSocketIo(): void {
  const watch: SocketIoWatch = { upgraded: false, turns: [] };
  const { turns } = watch;
  (window as unknown as { socketIo: SocketIoWatch }).socketIo = watch;
  // Socket.IO events are Engine.IO messages (4) of type event (2), with an ack id when one is wanted: 42[…], 4217[…].
  const eventOf = (data: unknown): [string, any] | undefined =>
    typeof data === 'string' && /^42\d*\[/.test(data) ? JSON.parse(data.slice(data.indexOf('['))) : undefined;
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', ({ data }) => {
        const [name, payload] = eventOf(data) ?? [];
        const now = performance.now();
        if (name === 'token') for (const turn of turns) if (turn.replyAt === undefined) turn.firstTokenAt ??= now;
        if (name === 'reply') for (const turn of turns) if (payload.reply.inReplyTo.includes(turn.messageId)) turn.replyAt ??= now;
      });
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      // Engine.IO's upgrade packet: from now on everything goes through this WebSocket.
      if (data === '5') watch.upgraded = true;
      const [name, payload] = eventOf(data) ?? [];
      // A message sent again after a reconnect keeps its first time.
      if (name === 'message' && !turns.some((turn) => turn.messageId === payload.messageId)) {
        turns.push({ messageId: payload.messageId, sentAt: performance.now() });
      }
      super.send(data);
    }
  };
}

/** Sends `text` from the page's composer; resolves with its times once the page has the reply. */
async function browserTurn(page: Page, index: number, text: string): Promise<TurnTimes> {
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill(text);
  await composer.press('Enter');
  const turn = await page.waitForFunction(
    (n) => {
      const done = (window as unknown as { socketIo: SocketIoWatch }).socketIo.turns[n];
      return done?.replyAt !== undefined && done;
    },
    index,
    { timeout: turnTimeoutMs },
  );
  const { sentAt, firstTokenAt, replyAt } = (await turn.jsonValue()) as SocketIoWatch['turns'][number] & { replyAt: number };
  return { firstTokenMs: (firstTokenAt ?? replyAt) - sentAt, replyMs: replyAt - sentAt };
}

/** Loads the page by `navigate`; resolves with the Performance API's figures once `usable` is in the page. */
async function timedLoad(page: Page, navigate: () => Promise<unknown>, usable: string): Promise<LoadTimes> {
  await navigate();
  await page.waitForFunction((selector) => document.querySelector(selector) !== null, usable, { polling: 'raf' });
  return page.evaluate(() => {
    const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    return {
      domContentLoadedMs: navigation?.domContentLoadedEventEnd ?? 0,
      loadMs: navigation?.loadEventEnd ?? 0,
      firstContentfulPaintMs: paint?.startTime ?? null,
      usableMs: performance.now(),
      transferredBytes: [navigation, ...resources].reduce((sum, entry) => sum + (entry?.transferSize ?? 0), 0),
    };
  });
}

const p50p99 = (stats: LatencyStats) => `${round(stats.p50)} / ${round(stats.p99)}`;
const round = (ms: number | null) => (ms === null ? '—' : String(Math.round(ms)));
const tenths = (ms: number) => Math.round(ms * 10) / 10;

let failure: unknown;
try {
  await ensureWebPage(say);
  say(`[web] starting the stack; output in ${dir}`);
  world = await startWorld({ dir, workers: 1, log: (line) => processLog.write(`${line}\n`) });
  const authorization = world.authorization();
  browser = await launchChromium({ viewport: { width: 1280, height: 800 }, log: say });
  const { page } = browser;
  page.setDefaultTimeout(turnTimeoutMs);
  // tsx compiles this file keeping function names, with a `__name(fn, 'name')` helper that only Node has: the page
  // gets a stand-in, or the functions sent to it fail.
  await page.addInitScript({ content: 'globalThis.__name = (target) => target;' });
  await page.addInitScript(watchSocketIo);
  page.on('console', (m) => say('CONSOLE ' + m.type() + ' ' + m.text())); page.on('pageerror', (e) => say('PAGEERROR ' + e.message));

  // A first visit: nothing cached, nobody signed in.
  const firstVisit = await timedLoad(page, () => page.goto(`${world!.api}/`), 'textarea');
  await signIn(page, { authorization });
  // Messages sent before the upgrade would go by long-polling, where the watch cannot see them.
  await page.waitForFunction(() => (window as unknown as { socketIo: SocketIoWatch }).socketIo.upgraded);

  // Each side's first turn starts its conversation (and warms the page's code up): not counted.
  const rest = engineTarget(world.api, authorization);
  const restConversation = `web-latency-${Date.now().toString(36)}`;
  const turn = (index: number) => `Latency message ${index}: how long does a turn take?`;
  await browserTurn(page, 0, turn(0));
  await rest.turn(restConversation, `${restConversation}-m0`, turn(0), true);
  const browserTimes: TurnTimes[] = [];
  const restTimes: TurnTimes[] = [];
  for (let index = 1; index <= messages; index++) {
    browserTimes.push(await browserTurn(page, index, turn(index)));
    const outcome = await rest.turn(restConversation, `${restConversation}-m${index}`, turn(index), true);
    restTimes.push({ firstTokenMs: outcome.firstTokenMs ?? outcome.latencyMs, replyMs: outcome.latencyMs });
    if (index % 20 === 0) say(`[web] ${index} of ${messages} messages each way`);
  }

  // Reloads of the signed-in page: assets from the cache, the conversation read back and followed live again.
  const reloads: LoadTimes[] = [];
  for (let n = 0; n < loads; n++) reloads.push(await timedLoad(page, () => page.reload(), 'ol[data-live="true"] li'));
  const loadStats = Object.fromEntries(
    (['domContentLoadedMs', 'loadMs', 'firstContentfulPaintMs', 'usableMs'] as const).map((key) => [
      key,
      latencyStats(reloads.flatMap((load) => (load[key] === null ? [] : [load[key]]))),
    ]),
  );

  // Each turn too, in the order sent: whether a long conversation slows the page down shows there.
  const figures = (times: TurnTimes[]) => ({
    firstToken: latencyStats(times.map((t) => t.firstTokenMs)),
    reply: latencyStats(times.map((t) => t.replyMs)),
    turns: times.map((t) => [tenths(t.firstTokenMs), tenths(t.replyMs)]),
  });
  const report = {
    startedAt,
    messages,
    machine: { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    socketIo: figures(browserTimes),
    restSse: figures(restTimes),
    load: { firstVisit, reloads: loadStats },
  };
  writeFileSync(join(dir, 'web-latency.json'), `${JSON.stringify(report, null, 2)}\n`);

  say(`[web] ${messages} messages each way, one after another, ms p50 / p99:`);
  say(`[web]                       first token   reply`);
  say(`[web]   page over Socket.IO   ${p50p99(report.socketIo.firstToken).padEnd(13)} ${p50p99(report.socketIo.reply)}`);
  say(`[web]   REST + SSE            ${p50p99(report.restSse.firstToken).padEnd(13)} ${p50p99(report.restSse.reply)}`);
  const ms = (value: number | null) => `${round(value)} ms`;
  say(
    `[web] first visit (sign-in page, empty cache, ${(firstVisit.transferredBytes / 1000).toFixed(1)} kB over the wire): ` +
      `DOMContentLoaded ${ms(firstVisit.domContentLoadedMs)}, load ${ms(firstVisit.loadMs)}, ` +
      `first contentful paint ${ms(firstVisit.firstContentfulPaintMs)}, usable ${ms(firstVisit.usableMs)}`,
  );
  say(
    `[web] reload signed in, p50 of ${loads}: DOMContentLoaded ${ms(loadStats.domContentLoadedMs!.p50)}, load ${ms(loadStats.loadMs!.p50)}, ` +
      `first contentful paint ${ms(loadStats.firstContentfulPaintMs!.p50)}, conversation live ${ms(loadStats.usableMs!.p50)}`,
  );
  say(`[web] report: ${join(dir, 'web-latency.json')}`);
} catch (error) {
  failure = error;
} finally {
  await stopAll();
  processLog.end();
}
if (failure) say(`[web] FAILED: ${(failure as Error).stack ?? String(failure)}; the processes' output is in ${join(dir, 'processes.log')}`);
process.exit(failure ? 1 : 0);
