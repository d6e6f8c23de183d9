/**
 * Load patterns: users that chat in a closed loop (the next message as soon as the reply is in), users that write at
 * a fixed pace (the seed's "one message every 5 s"), and a crowd opening new conversations. Every turn is timed
 * from the client; errors are kept with what went wrong, never retried into a success.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Target, TurnOutcome } from './targets';

export interface TurnRecord extends TurnOutcome {
  /** ms since the pattern started, when the message was sent. */
  at: number;
  /** 0 for a conversation's first message. */
  index: number;
}

export interface LoadResult {
  turns: TurnRecord[];
  errors: string[];
  wallMs: number;
}

export interface Progress {
  (done: number, errors: number): void;
}

/** The text a simulated user sends: short, like a chat message. */
function messageText(index: number): string {
  return `Bench message ${index}: how long does a turn take?`;
}

interface Runner {
  result: LoadResult;
  started: number;
  turn(conversationId: string, index: number, streaming: boolean): Promise<void>;
}

function runner(target: Target, runId: string, progress?: Progress): Runner {
  const result: LoadResult = { turns: [], errors: [], wallMs: 0 };
  const started = performance.now();
  return {
    result,
    started,
    async turn(conversationId, index, streaming) {
      const at = performance.now() - started;
      try {
        const outcome = await target.turn(conversationId, `${conversationId}-m${index}`, messageText(index), streaming);
        result.turns.push({ ...outcome, at, index });
      } catch (error) {
        result.errors.push(`${runId} ${conversationId} message ${index}: ${(error as Error).message}`);
      }
      progress?.(result.turns.length, result.errors.length);
    },
  };
}

export interface ClosedLoopOptions {
  runId: string;
  conversations: number;
  /** Each user stops after this many messages, or at `durationMs`, whichever comes first. */
  messages?: number;
  durationMs?: number;
  /** The first this-many users read replies from the event stream (time to first token). */
  streamingUsers?: number;
  /** Conversations' first turns (starting the workflow) are sent before the clock starts and not counted. */
  warmUp?: boolean;
}

export async function closedLoop(target: Target, options: ClosedLoopOptions, progress?: Progress): Promise<LoadResult> {
  const ids = Array.from({ length: options.conversations }, (_, n) => `${options.runId}-c${n}`);
  if (options.warmUp) {
    const warm = runner(target, options.runId);
    await Promise.all(ids.map((id) => warm.turn(id, 0, false)));
    if (warm.result.errors.length > 0) return { ...warm.result, wallMs: performance.now() - warm.started };
  }
  const first = options.warmUp ? 1 : 0;
  const run = runner(target, options.runId, progress);
  const deadline = run.started + (options.durationMs ?? Infinity);
  const last = first + (options.messages ?? Infinity);
  await Promise.all(
    ids.map(async (id, n) => {
      for (let index = first; index < last && performance.now() < deadline; index++) {
        await run.turn(id, index, n < (options.streamingUsers ?? 0));
      }
    }),
  );
  run.result.wallMs = performance.now() - run.started;
  return run.result;
}

export interface PacedOptions {
  runId: string;
  conversations: number;
  everyMs: number;
  durationMs: number;
  streamingUsers?: number;
}

/** Each user sends one message every `everyMs` (starting at a random offset), replies or not, until the end. */
export async function paced(target: Target, options: PacedOptions, progress?: Progress): Promise<LoadResult> {
  const run = runner(target, options.runId, progress);
  const deadline = run.started + options.durationMs;
  await Promise.all(
    Array.from({ length: options.conversations }, async (_, n) => {
      const id = `${options.runId}-c${n}`;
      const pending: Promise<void>[] = [];
      let next = run.started + Math.random() * options.everyMs;
      for (let index = 0; next < deadline; index++, next += options.everyMs) {
        await sleep(Math.max(0, next - performance.now()));
        pending.push(run.turn(id, index, n < (options.streamingUsers ?? 0)));
      }
      await Promise.all(pending);
    }),
  );
  run.result.wallMs = performance.now() - run.started;
  return run.result;
}

/** Opens `conversations` new conversations, `concurrency` at a time: one first message each. */
export async function openConversations(
  target: Target,
  options: { runId: string; conversations: number; concurrency: number },
  progress?: Progress,
): Promise<LoadResult> {
  const run = runner(target, options.runId, progress);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.conversations) }, async () => {
      while (next < options.conversations) await run.turn(`${options.runId}-c${next++}`, 0, false);
    }),
  );
  run.result.wallMs = performance.now() - run.started;
  return run.result;
}
