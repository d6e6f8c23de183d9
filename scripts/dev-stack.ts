/**
 * `npm start`: the whole system with embedded defaults (see scripts/stack.ts); with `--cluster`
 * (`npm run start:cluster`), the scale-out profile on Temporal's real server (see scripts/cluster.ts). Ctrl-C stops
 * everything it started. Run with `node --import tsx` (not the tsx CLI) so the signal reaches this process directly.
 */
import { relative } from 'node:path';
import { ensureWebPage } from './build-web-page';
import { startCluster } from './cluster';
import { startStack, type StackHandle } from './stack';

const cluster = process.argv.includes('--cluster');

const starting = new AbortController();
let stack: StackHandle | undefined;
let stopRequested = false;

function onSignal(signal: NodeJS.Signals): void {
  // npm forwards the terminal's Ctrl-C as well, so the same signal can arrive twice: act once.
  if (stopRequested) return;
  stopRequested = true;
  console.log(`[stack] ${signal} received`);
  if (stack) void stack.stop();
  else starting.abort();
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

try {
  // The chat page is built once (again only when its sources change); without it the API still runs, and `/` says so.
  await ensureWebPage((line) => console.log(line)).catch((error: unknown) => {
    console.error(`[web] the chat page could not be built (${error instanceof Error ? error.message : String(error)}); run npm run build:web`);
  });
  stack = await (cluster ? startCluster : startStack)({ signal: starting.signal });
} catch (error) {
  if (starting.signal.aborted) process.exit(0);
  // The message names the cause and where to look (e.g. "see the [temporal] lines above"); a stack trace would not help.
  console.error(`[stack] could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

const { urls } = stack;
console.log(
  [
    '',
    '[stack] ready',
    `  API          ${urls.api}${urls.apiReplicas ? ` (balancing ${urls.apiReplicas.join(', ')})` : ''}`,
    `  Chat page    ${urls.api}/`,
    `  API docs     ${urls.docs}`,
    urls.temporalUi ? `  Temporal UI  ${urls.temporalUi}` : `  Temporal     ${urls.temporalAddress}`,
    ...(urls.telegram ? [`  Telegram     ${urls.telegram}`] : []),
    ...(urls.devToken
      ? [`  Token        ${relative(process.cwd(), urls.devToken)} (user dev): curl -H "authorization: Bearer $(cat ${relative(process.cwd(), urls.devToken)})" ${urls.api}/api/v1/…`]
      : []),
    `  workers      ${stack.workerPids().length} (pids ${stack.workerPids().join(', ')})`,
    '  Ctrl-C stops everything.',
    '',
  ].join('\n'),
);

const failure = await stack.stopped;
if (failure) console.error(`[stack] ${failure.message}`);
process.exit(failure ? 1 : 0);
