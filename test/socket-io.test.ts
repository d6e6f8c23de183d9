/**
 * The web channel's Socket.IO protocol, as a client without a browser sees it (socket.io-client): acks, the order of
 * quick messages, authentication, limits, two API replicas, and resuming after a dropped connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as startApi, type ApiHandle } from '../api/main';
import type { Role } from '../lib/auth';
import { signToken } from '../lib/auth';
import { loadConfig } from '../lib/config';
import { freePort } from '../lib/free-ports';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { connectSocket, spelled, type TestSocket } from './support/socket-io';

describe('the web channel over Socket.IO', () => {
  let model: OpenAiServer;
  let engine: Engine;
  /** A second replica: the same Redis, Temporal task queue and secret. */
  let replica: ApiHandle;
  /** A replica with tight limits, for the limits' tests (limits are per process, counted per user in Redis). */
  let strict: ApiHandle;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    model = await startOpenAiServer();
    engine = await startEngine({ providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model' }] });
    replica = await startApi(loadConfig(engine.env));
    strict = await startApi(loadConfig({ ...engine.env, RATE_LIMIT_MESSAGES_PER_MINUTE: '3', RATE_LIMIT_STREAMS_PER_USER: '1' }));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await strict?.stop();
    await replica?.stop();
    await engine?.stop();
    await model?.close();
  });

  const tokenOf = async (user: string, role: Role = 'user') => (await engine.as(user, role)).authorization!.slice('Bearer '.length);
  const connect = async (user: string, url = engine.api.url) => {
    const socket = await connectSocket(url, await tokenOf(user));
    sockets.push(socket);
    return socket;
  };
  const replyTo = (client: TestSocket, conversationId: string, messageId: string) =>
    eventually(() => client.events('reply', conversationId).find((e) => e.reply.inReplyTo.includes(messageId)), { what: `the reply to ${messageId}` });

  it('when a client sends a message then the ack names it and the tokens and the reply stream to the client', async () => {
    const alice = await connect('alice');
    const ack = await alice.ask('message', { conversationId: 'first', text: 'hello there', messageId: 'm-1' });
    expect(ack).toEqual({ conversationId: 'first', messageId: 'm-1', status: 'queued' });

    const { reply } = await replyTo(alice, 'first', 'm-1');
    expect(reply.text).toBe('Answer to: hello there');
    expect(reply.inReplyTo).toEqual(['m-1']);
    const tokens = alice.events('token', 'first');
    expect(spelled(tokens, reply.replyId)).toBe(reply.text);
    for (const event of [...tokens, ...alice.events('reply', 'first')]) expect(event.id).toMatch(/^\d+-\d+$/);
    // The conversation is the workflow web:<user>:<client id> (DESIGN §3).
    expect((await engine.temporal.workflow.getHandle('web:alice:first').describe()).status.name).toBe('RUNNING');

    // Sent again with the same messageId (as after a lost ack): the same reply, and no second turn.
    const again = await alice.ask('message', { conversationId: 'first', text: 'hello there', messageId: 'm-1' });
    expect(again).toEqual({ conversationId: 'first', messageId: 'm-1', status: 'answered', reply });
  });

  it('when a message names no conversation then a new one is started and the ack names it', async () => {
    const alice = await connect('alice');
    const ack = await alice.ask('message', { text: 'a new topic', messageId: 'm-new' });
    expect(ack).toMatchObject({ messageId: 'm-new', status: 'queued' });
    expect(ack.conversationId).toMatch(/^[A-Za-z0-9._~-]{1,128}$/);
    const { reply } = await replyTo(alice, ack.conversationId, 'm-new');
    expect(reply.text).toBe('Answer to: a new topic');
    expect((await engine.temporal.workflow.getHandle(`web:alice:${ack.conversationId}`).describe()).status.name).toBe('RUNNING');
  });

  it('when a client sends 20 messages at once then it gets 20 acks, and the replies answer each message once, in order', async () => {
    const bob = await connect('bob');
    const messageIds = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    const acks = await Promise.all(messageIds.map((messageId, i) => bob.ask('message', { conversationId: 'burst', text: `number ${i}`, messageId })));
    expect(acks).toEqual(messageIds.map((messageId) => ({ conversationId: 'burst', messageId, status: 'queued' })));

    const replies = await eventually(
      () => {
        const arrived = bob.events('reply', 'burst');
        return arrived.flatMap((e) => e.reply.inReplyTo).length >= messageIds.length && arrived;
      },
      { what: 'replies to all 20 messages' },
    );
    expect(replies.flatMap((e) => e.reply.inReplyTo)).toEqual(messageIds);
    expect(new Set(replies.map((e) => e.reply.replyId)).size).toBe(replies.length);
    const tokens = bob.events('token', 'burst');
    expect(new Set(tokens.map((t) => t.id)).size).toBe(tokens.length);
    for (const { reply } of replies) expect(spelled(tokens, reply.replyId)).toBe(reply.text);
  });

  it('when the handshake carries no token or a refused one then the connection fails with a 401 problem, audited', async () => {
    const none = await connectSocket(engine.api.url, undefined).catch((error: { message: string; data: unknown }) => error);
    expect(none).toMatchObject({ message: 'Unauthorized', data: { type: 'about:blank', status: 401, title: 'Unauthorized' } });
    expect((none as { data: { detail: string } }).data.detail).toMatch(/auth: \{ token/);

    const forged = await signToken('not the secret the server knows, at all', { user: 'mallory', ttlMs: 60_000 });
    const refused = await connectSocket(engine.api.url, forged).catch((error: { data: unknown }) => error);
    expect(refused).toMatchObject({ data: { status: 401, detail: "The token was refused: the token's signature does not verify." } });

    const admin = await engine.as('root', 'admin');
    await eventually(async () => {
      const { records } = (await (await engine.get('/api/v1/audit?limit=500', admin)).json()) as { records: { action: string; target: string }[] };
      return records.some((r) => r.action === 'auth.token-refused' && r.target.startsWith('socket.io handshake'));
    }, { what: 'the refusal in the audit log' });
  });

  it('when a user sends more messages per minute than allowed then the ack refuses the excess with 429 and Retry-After, and the connection stays', async () => {
    const hasty = await connect('hasty', strict.url);
    for (const n of [1, 2, 3]) {
      expect(await hasty.ask('message', { conversationId: 'rush', text: `hurry ${n}`, messageId: `r-${n}` })).toMatchObject({ status: 'queued' });
    }
    const refused = await hasty.ask('message', { conversationId: 'rush', text: 'hurry 4', messageId: 'r-4' });
    expect(refused).toMatchObject({
      conversationId: 'rush',
      messageId: 'r-4',
      status: 'rejected',
      problem: { type: 'about:blank', status: 429, title: 'Too Many Requests' },
    });
    expect(refused.problem.detail).toMatch(/3 messages in the last minute/);
    expect(refused.problem.retryAfter).toBeGreaterThan(0);
    expect(refused.problem.retryAfter).toBeLessThanOrEqual(60);

    // Refusals of other kinds come back the same way, and the connection stays up through all of them.
    const tooLong = await hasty.ask('message', { conversationId: 'rush', text: 'x'.repeat(engine.config.api.maxTextChars + 1), messageId: 'r-5' });
    expect(tooLong).toMatchObject({ status: 'rejected', problem: { status: 422, errors: [{ field: 'text' }] } });
    const unknownField = await hasty.ask('message', { conversationId: 'rush', text: 'hi', messageId: 'r-6', wait: true });
    expect(unknownField).toMatchObject({ status: 'rejected', problem: { status: 422, errors: [{ field: 'wait' }] } });
    expect(hasty.socket.connected).toBe(true);
    await replyTo(hasty, 'rush', 'r-3');
  });

  it('when a user follows more conversations than their event streams allow then the refusal names the conversation', async () => {
    const keen = await connect('keen', strict.url);
    expect(await keen.ask('message', { conversationId: 'one', text: 'first stream', messageId: 'k-1' })).toMatchObject({ status: 'queued' });
    // Accepted, but following a second conversation would take a second stream: an error says so, with a 429.
    expect(await keen.ask('message', { conversationId: 'two', text: 'second stream', messageId: 'k-2' })).toMatchObject({ status: 'queued' });
    const [error] = await eventually(() => keen.events('error', 'two').length > 0 && keen.events('error', 'two'), { what: 'the stream limit error' });
    expect(error).toMatchObject({ status: 429, conversationId: 'two' });
    expect(error.retryAfter).toBeGreaterThan(0);
    const subscribed = await keen.ask('subscribe', { conversationId: 'two' });
    expect(subscribed).toMatchObject({ conversationId: 'two', status: 'rejected', problem: { status: 429 } });

    // Leaving the first makes room for the second.
    expect(await keen.ask('unsubscribe', { conversationId: 'one' })).toEqual({ conversationId: 'one', status: 'unsubscribed' });
    expect(await keen.ask('subscribe', { conversationId: 'two' })).toEqual({ conversationId: 'two', status: 'subscribed' });
    expect(await keen.ask('subscribe', { conversationId: 'nowhere' })).toMatchObject({ status: 'rejected', problem: { status: 404 } });
  });

  it('when a user has tabs on two API replicas then each tab gets every token and the reply exactly once', async () => {
    const sender = await connect('carol');
    expect(await sender.ask('message', { conversationId: 'shared', text: 'warm up', messageId: 's-1' })).toMatchObject({ status: 'queued' });
    await replyTo(sender, 'shared', 's-1');

    const elsewhere = await connect('carol', replica.url);
    const elsewhereToo = await connect('carol', replica.url);
    for (const tab of [elsewhere, elsewhereToo]) {
      expect(await tab.ask('subscribe', { conversationId: 'shared' })).toEqual({ conversationId: 'shared', status: 'subscribed' });
    }
    expect(await sender.ask('message', { conversationId: 'shared', text: 'seen everywhere', messageId: 's-2' })).toMatchObject({ status: 'queued' });

    const { reply } = await replyTo(sender, 'shared', 's-2');
    for (const tab of [sender, elsewhere, elsewhereToo]) {
      await replyTo(tab, 'shared', 's-2');
      const tokens = tab.events('token', 'shared').filter((t) => t.replyId === reply.replyId);
      expect(new Set(tokens.map((t) => t.id)).size).toBe(tokens.length);
      expect(spelled(tokens, reply.replyId)).toBe('Answer to: seen everywhere');
      expect(tab.events('reply', 'shared').filter((e) => e.reply.replyId === reply.replyId)).toHaveLength(1);
    }
  });

  it('when an operator follows a user\'s conversation then its events name it by full id, and another user cannot follow it', async () => {
    const owner = await connect('frank');
    expect(await owner.ask('message', { conversationId: 'watched', text: 'first', messageId: 'w-1' })).toMatchObject({ status: 'queued' });
    await replyTo(owner, 'watched', 'w-1');

    const stranger = await connect('mallory');
    expect(await stranger.ask('subscribe', { conversationId: 'web:frank:watched' })).toMatchObject({ status: 'rejected', problem: { status: 404 } });
    const operator = await connectSocket(engine.api.url, await tokenOf('olive', 'operator'));
    sockets.push(operator);
    expect(await operator.ask('subscribe', { conversationId: 'web:frank:watched' })).toEqual({ conversationId: 'web:frank:watched', status: 'subscribed' });
    // Messages go only to one's own conversations: a full id is not a client id.
    expect(await operator.ask('message', { conversationId: 'web:frank:watched', text: 'as frank', messageId: 'o-1' })).toMatchObject({
      status: 'rejected',
      problem: { status: 422, errors: [{ field: 'conversationId' }] },
    });

    expect(await owner.ask('message', { conversationId: 'watched', text: 'second', messageId: 'w-2' })).toMatchObject({ status: 'queued' });
    const { reply } = await replyTo(operator, 'web:frank:watched', 'w-2');
    expect(reply.text).toBe('Answer to: second');
  });

  describe('while an answer streams slowly', () => {
    beforeAll(() => {
      model.setAnswer(() => Array.from({ length: 40 }, (_, i) => `word${i}`).join(' '));
      model.setDelayMs(40);
    });
    afterAll(() => model.reset());

    const conversationEvents = (client: TestSocket, conversationId: string) =>
      client.received.filter((e) => ['token', 'restart', 'reply'].includes(e.name) && e.payload.conversationId === conversationId).map((e) => e.payload);
    /** Sends a message whose answer streams slowly, and waits for its first tokens. */
    const startAnswer = async (client: TestSocket, conversationId: string, messageId: string) => {
      expect(await client.ask('message', { conversationId, text: 'tell me a lot', messageId })).toMatchObject({ status: 'queued' });
      await eventually(() => client.events('token', conversationId).length >= 3, { what: 'the first tokens' });
    };
    /** The events a client kept spell the whole reply, none came twice, and their ids only increase. */
    const expectWholeAnswer = (events: any[], reply: { replyId: string; text: string }) => {
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      const ids = events.map((e) => e.id.split('-').map(Number) as [number, number]);
      for (let i = 1; i < ids.length; i++) {
        const [[ms, seq], [prevMs, prevSeq]] = [ids[i]!, ids[i - 1]!];
        expect(ms > prevMs || (ms === prevMs && seq > prevSeq)).toBe(true);
      }
      expect(spelled(events.filter((e) => 'index' in e), reply.replyId)).toBe(reply.text);
    };

    it('when the connection drops mid-answer and comes back then it is recovered and the answer completes without a gap or a double', async () => {
      const dave = await connect('dave');
      await startAnswer(dave, 'flaky', 'f-1');

      const reconnected = new Promise<void>((resolve) => dave.socket.once('connect', () => resolve()));
      dave.socket.io.engine.close(); // the network goes away (not a disconnect the client asked for)
      await reconnected;
      expect(dave.socket.recovered).toBe(true);

      const { reply } = await replyTo(dave, 'flaky', 'f-1');
      expectWholeAnswer(conversationEvents(dave, 'flaky'), reply);
    });

    it('when the API restarts mid-answer then the client comes back, is recovered, and the answer completes without a gap or a double', async () => {
      const env = { ...engine.env, PORT: String(await freePort()) };
      let api = await startApi(loadConfig(env));
      try {
        const gina = await connect('gina', api.url);
        await startAnswer(gina, 'restarted', 'g-1');

        const disconnected = new Promise<void>((resolve) => gina.socket.once('disconnect', () => resolve()));
        await api.stop();
        await disconnected;
        const reconnected = new Promise<void>((resolve) => gina.socket.once('connect', () => resolve()));
        api = await startApi(loadConfig(env));
        await reconnected;
        expect(gina.socket.recovered).toBe(true);

        const { reply } = await replyTo(gina, 'restarted', 'g-1');
        expectWholeAnswer(conversationEvents(gina, 'restarted'), reply);
      } finally {
        await api.stop();
      }
    });

    it('when a new connection subscribes after the last event id it has then it gets the rest of the answer, nothing twice', async () => {
      const erin = await connect('erin');
      await startAnswer(erin, 'resumed', 'e-1');
      erin.close(); // a reload: this connection is gone for good
      const before = conversationEvents(erin, 'resumed');

      const again = await connect('erin', replica.url);
      const ack = await again.ask('subscribe', { conversationId: 'resumed', after: before.at(-1)!.id });
      expect(ack).toEqual({ conversationId: 'resumed', status: 'subscribed' });
      const { reply } = await replyTo(again, 'resumed', 'e-1');
      expectWholeAnswer([...before, ...conversationEvents(again, 'resumed')], reply);
    });
  });
});
