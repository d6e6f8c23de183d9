/**
 * What the bench's simulated users talk to. Each target answers one turn: send a message, resolve once its reply
 * is readable by the client, with the time to the first streamed token where the target streams.
 * - engine: `POST /api/v1/chat` waiting for the reply, like the measurements (after a 202, the reply is read
 *   from the event stream); a streaming user posts without waiting and reads the SSE stream instead, like a web page.
 * - floor: signal-with-start of the floor workflow, then `XREAD BLOCK` on its reply stream.
 * - model: the model server alone.
 */
import { Client, Connection } from '@temporalio/client';
import OpenAI from 'openai';
import { BlockingConnections } from '../../lib/blocking-connections';
import { createRedis, type Redis } from '../../lib/redis';
import { sseEvents } from '../sse';
import { floorStreamKey } from './floor/activities';
import type { floorConversation, FloorMessage } from './floor/workflow';

export interface TurnOutcome {
  latencyMs: number;
  /** Time to the first token event (streaming users of the engine only). */
  firstTokenMs?: number;
}

export interface Target {
  name: 'engine' | 'floor' | 'model';
  /** One turn; rejects with a message that says what went wrong. */
  turn(conversationId: string, messageId: string, text: string, streaming: boolean): Promise<TurnOutcome>;
  close(): Promise<void>;
}

/** How long a turn (or the wait for its reply on the event stream) may take before the bench counts it as an error. */
const turnTimeoutMs = 120_000;
/** `api` as the user `authorization` (a `Bearer …` header value) signs in as. */
export function engineTarget(api: string, authorization: string): Target {
  return {
    name: 'engine',
    async turn(conversationId, messageId, text, streaming) {
      const started = performance.now();
      const response = await postChat(api, authorization, { conversationId, messageId, text, wait: !streaming });
      if (response.status === 200 && !streaming) {
        await response.arrayBuffer();
        return { latencyMs: performance.now() - started };
      }
      // 202: accepted, and the reply is read from the event stream, as a careful client does after the wait ran out.
      if (response.status !== 202) throw new Error(`POST /api/v1/chat answered ${response.status}: ${await response.text()}`);
      const { eventsUrl } = (await response.json()) as { eventsUrl: string };
      return replyFromEvents(api, authorization, eventsUrl, messageId, started);
    },
    async close() {},
  };
}

/** Reads the conversation's SSE stream from `eventsUrl` until the reply to `messageId`; times the first token too. */
async function replyFromEvents(api: string, authorization: string, eventsUrl: string, messageId: string, started: number): Promise<TurnOutcome> {
  const events = await fetch(`${api}${eventsUrl}`, { headers: { authorization }, signal: AbortSignal.timeout(turnTimeoutMs) });
  if (!events.ok || !events.body) throw new Error(`GET ${eventsUrl} answered ${events.status}`);
  let firstTokenMs: number | undefined;
  for await (const event of sseEvents(events.body)) {
    if (event.event === 'token') firstTokenMs ??= performance.now() - started;
    if (event.event !== 'reply') continue;
    const { reply } = JSON.parse(event.data) as { reply: { inReplyTo: string[] } };
    if (!reply.inReplyTo.includes(messageId)) continue;
    // Leaving the loop cancels the response body, which closes the stream.
    return { latencyMs: performance.now() - started, ...(firstTokenMs === undefined ? {} : { firstTokenMs }) };
  }
  throw new Error(`the event stream ${eventsUrl} ended before the reply to ${messageId}`);
}

function postChat(api: string, authorization: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${api}/api/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(turnTimeoutMs),
  });
}

export async function floorTarget(options: { temporalAddress: string; redisUrl: string; taskQueue: string }): Promise<Target> {
  const connection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({ connection });
  const redis: Redis = createRedis(options.redisUrl, { connectionName: 'bench-floor-client' });
  const readers = new BlockingConnections(redis, 1000);
  return {
    name: 'floor',
    async turn(conversationId, messageId, text) {
      const started = performance.now();
      const key = floorStreamKey(conversationId);
      // The stream position before the signal: the reply is the first entry after it that names this message.
      const last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
      // By name: the workflow module is for the worker's sandbox, not for this process.
      await client.workflow.signalWithStart<typeof floorConversation, [FloorMessage]>('floorConversation', {
        workflowId: `floor-${conversationId}`,
        taskQueue: options.taskQueue,
        args: [conversationId],
        signal: 'floorMessage',
        signalArgs: [{ messageId, text }],
      });
      let after = last;
      const deadline = started + turnTimeoutMs;
      while (performance.now() < deadline) {
        const read = await readers.use((r) => r.xread('BLOCK', 5000, 'STREAMS', key, after));
        for (const [id, fields] of read?.[0]?.[1] ?? []) {
          after = id;
          if (fields[1] === messageId) return { latencyMs: performance.now() - started };
        }
      }
      throw new Error(`no floor reply to ${messageId} within ${turnTimeoutMs} ms`);
    },
    async close() {
      readers.close();
      redis.disconnect();
      await connection.close();
    },
  };
}

/** The model server alone, streamed through the `openai` package: what a turn would cost with no engine at all. */
export function modelTarget(baseURL: string): Target {
  const client = new OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0 });
  return {
    name: 'model',
    async turn(_conversationId, _messageId, text) {
      const started = performance.now();
      const stream = await client.chat.completions.create({ model: 'bench-model', stream: true, messages: [{ role: 'user', content: text }] });
      let firstTokenMs: number | undefined;
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) firstTokenMs ??= performance.now() - started;
      return { latencyMs: performance.now() - started, ...(firstTokenMs === undefined ? {} : { firstTokenMs }) };
    },
    async close() {},
  };
}
