/**
 * GraphQL at /graphql as its clients see it: every operation against a real worker, Temporal, Redis and MinIO; the
 * same bearer tokens, ownership rules and limits as REST; the query limits; the subscription over SSE resuming after an
 * event id; GraphiQL outside production only; and the checked-in schema.graphql matching the server's schema.
 */
import { readFileSync } from 'node:fs';
import { buildClientSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printedSchema, schemaFile } from '../api/graphql/schema';
import { generateKeySpec } from '../lib/key-ring';
import { sseEvents } from '../scripts/sse';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';

type Headers = Record<string, string>;
/** A GraphQL response body, as JSON. */
type Result = { data?: any; errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] };

const send = `mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) { conversationId messageId status after reply { replyId text inReplyTo kind } }
}`;
const events = `subscription Events($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename id replyId
    ... on TokenEvent { attempt index text }
    ... on RestartEvent { attempt }
    ... on ReplyEvent { reply { replyId text inReplyTo } }
  }
}`;

describe('GraphQL API', () => {
  let engine: Engine;
  beforeAll(async () => {
    // Two event streams per user, so that the stream limit is reachable.
    engine = await startEngine({ env: { RATE_LIMIT_STREAMS_PER_USER: '2' } });
  });
  afterAll(async () => {
    await engine?.stop();
  });

  async function graphql(headers: Headers, query: string, variables: Record<string, unknown> = {}) {
    const response = await fetch(`${engine.api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Result };
  }

  /** The data of an operation that must succeed. */
  async function data(headers: Headers, query: string, variables: Record<string, unknown> = {}) {
    const { body } = await graphql(headers, query, variables);
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  /** The code of an operation's first error (and the error), for one that must fail. */
  async function refusal(headers: Headers, query: string, variables: Record<string, unknown> = {}) {
    const { body } = await graphql(headers, query, variables);
    expect(body.errors).toHaveLength(1);
    return { code: body.errors![0]!.extensions?.code, error: body.errors![0]! };
  }

  /** conversationEvents over SSE (POST, Accept: text/event-stream), as GraphiQL and graphql-sse clients open it. */
  async function subscribe(headers: Headers, variables: { id: string; after?: string }) {
    const abort = new AbortController();
    const response = await fetch(`${engine.api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query: events, variables }),
      signal: abort.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const stream = sseEvents(response.body!);
    return {
      /** Results (one per `next` event) until `until` holds or the server completes the stream. */
      async take(until: (results: Result[]) => boolean): Promise<Result[]> {
        const results: Result[] = [];
        for (let next = await stream.next(); !next.done; next = await stream.next()) {
          if (next.value.event === 'complete') break;
          results.push(JSON.parse(next.value.data) as Result);
          if (until(results)) break;
        }
        return results;
      },
      close: () => abort.abort(),
    };
  }

  const hasReply = (results: Result[]) => results.some((r) => r.data?.conversationEvents.__typename === 'ReplyEvent');
  const eventsOf = (results: Result[]) => results.map((r) => r.data.conversationEvents);
  const tokenText = (seen: { __typename: string; text?: string }[]) => seen.filter((e) => e.__typename === 'TokenEvent').map((e) => e.text).join('');

  it('when a user sends a message then the reply comes back, and me, conversations, conversation and messages show it', async () => {
    // A user of this suite's own: other suites' conversations share the Temporal server (its list, and api:alice:demo).
    const user = `alice-gql-${Date.now()}`;
    const alice = await engine.as(user);
    const input = { conversationId: 'demo', text: 'hello over graphql', messageId: 'gql-1' };
    const { sendMessage } = await data(alice, send, { input });
    expect(sendMessage).toMatchObject({ conversationId: `api:${user}:demo`, messageId: 'gql-1', status: 'answered', after: null });
    expect(sendMessage.reply.text).toContain('hello over graphql');
    expect(sendMessage.reply.inReplyTo).toEqual(['gql-1']);
    expect(sendMessage.reply.kind).toBe('answer');

    const again = await data(alice, send, { input });
    expect(again.sendMessage.reply.replyId).toBe(sendMessage.reply.replyId);

    const read = await data(
      alice,
      `{
        me { user role }
        conversation(id: "demo") { id status turnCount pendingCount summary recentTurns { number messages { messageId text } reply { replyId usage { totalTokens } } } }
        messages(conversationId: "api:${user}:demo", after: 0, limit: 10) { conversationId nextAfter messages { turn role id text inReplyTo provider } }
      }`,
    );
    expect(read.me).toEqual({ user, role: 'user' });
    expect(read.conversation).toMatchObject({ id: `api:${user}:demo`, turnCount: 1, pendingCount: 0 });
    expect(read.conversation.recentTurns).toEqual([
      { number: 1, messages: [{ messageId: 'gql-1', text: 'hello over graphql' }], reply: { replyId: sendMessage.reply.replyId, usage: expect.any(Object) } },
    ]);
    expect(read.messages.conversationId).toBe(`api:${user}:demo`);
    expect(read.messages.nextAfter).toBeNull();
    expect(read.messages.messages.map((m: { role: string; id: string }) => [m.role, m.id])).toEqual([
      ['user', 'gql-1'],
      ['assistant', sendMessage.reply.replyId],
    ]);
    expect(read.messages.messages[1].inReplyTo).toEqual(['gql-1']);

    // Temporal's visibility store is eventually consistent.
    const listed = await eventually(
      async () => {
        const { conversations } = await data(alice, '{ conversations { id channel clientId title status turnCount lastActiveAt } }');
        return conversations.length === 1 ? conversations[0] : undefined;
      },
      { what: "alice's conversation in the list" },
    );
    expect(listed).toMatchObject({ id: `api:${user}:demo`, channel: 'api', clientId: 'demo', title: 'hello over graphql' });
  });

  it('when a message is sent without waiting then it is queued and its reply arrives on the subscription from `after`', async () => {
    const bea = await engine.as('bea');
    const input = { conversationId: 'later', text: 'answer me later', messageId: 'later-1', wait: false };
    const { sendMessage } = await data(bea, send, { input });
    expect(sendMessage).toMatchObject({ status: 'queued', reply: null });
    expect(sendMessage.after).toMatch(/^\d+-\d+$/);

    const subscription = await subscribe(bea, { id: 'later', after: sendMessage.after });
    const seen = eventsOf(await subscription.take(hasReply));
    subscription.close();
    const reply = seen.find((e) => e.__typename === 'ReplyEvent').reply;
    expect(reply.inReplyTo).toEqual(['later-1']);
    expect(tokenText(seen)).toBe(reply.text);
    expect(new Set(seen.map((e) => e.replyId))).toEqual(new Set([reply.replyId]));
  });

  it("when a subscription resumes after the first reply's event id then it gets only the second reply's events", async () => {
    const cleo = await engine.as('cleo');
    const first = (await data(cleo, send, { input: { conversationId: 'resume', text: 'first', messageId: 'r-1' } })).sendMessage;
    const second = (await data(cleo, send, { input: { conversationId: 'resume', text: 'second', messageId: 'r-2' } })).sendMessage;

    const fromStart = await subscribe(cleo, { id: 'resume', after: '0-0' });
    const untilFirstReply = eventsOf(await fromStart.take(hasReply));
    fromStart.close();
    const firstReplyEvent = untilFirstReply.at(-1);
    expect(firstReplyEvent.reply.replyId).toBe(first.reply.replyId);

    const resumed = await subscribe(cleo, { id: 'resume', after: firstReplyEvent.id });
    const seen = eventsOf(await resumed.take(hasReply));
    resumed.close();
    expect(new Set(seen.map((e) => e.replyId))).toEqual(new Set([second.reply.replyId]));
    expect(tokenText(seen)).toBe(second.reply.text);
    expect(seen.at(-1).reply.text).toBe(second.reply.text);
  });

  it('when a request has no token or a bad one then it is refused as UNAUTHENTICATED with a Bearer challenge', async () => {
    const none = await graphql({}, '{ me { user } }');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect(none.body.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(none.body.data).toBeUndefined();

    const forged = await graphql({ authorization: 'Bearer not-a-jwt' }, '{ me { user } }');
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(forged.body.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');

    const introspection = await graphql({}, '{ __schema { queryType { name } } }');
    expect(introspection.status).toBe(401);
  });

  it('when a body is larger than the API accepts then it is refused, and without a token it is not even read', async () => {
    const jay = await engine.as('jay');
    const huge = await graphql(jay, send, { input: { conversationId: 'big', text: 'x'.repeat(2_000_000), messageId: 'big-1' } });
    expect(huge.status).toBe(413);
    expect(huge.body.errors![0]!.message).toMatch(/too large/i);
    const anonymous = await graphql({}, send, { input: { conversationId: 'big', text: 'x'.repeat(2_000_000), messageId: 'big-2' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('connection')).toBe('close');
  });

  it("when users reach for each other's conversations then a user finds nothing, an operator reads but may not change, an admin changes", async () => {
    const dana = await engine.as('dana');
    await data(dana, send, { input: { conversationId: 'private', text: 'my secret', messageId: 'p-1' } });
    const id = 'api:dana:private';
    const readIt = `query($id: ID!) { conversation(id: $id) { turnCount } messages(conversationId: $id) { messages { text } } }`;
    const reset = `mutation($id: ID!) { resetConversation(id: $id) { conversationId } }`;
    const remove = `mutation($id: ID!) { deleteConversation(id: $id) { conversationId deleted { runs transcriptSegments texts } } }`;

    const eve = await engine.as('eve');
    const nosy = await graphql(eve, readIt, { id });
    expect(nosy.body.data).toEqual({ conversation: null, messages: null });
    expect(nosy.body.errors!.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    // Exactly what a conversation that does not exist looks like.
    const missing = await graphql(eve, readIt, { id: 'api:dana:nothing' });
    expect(missing.body.errors!.map((e) => e.message.replace('nothing', 'private'))).toEqual(nosy.body.errors!.map((e) => e.message));
    expect((await refusal(eve, reset, { id })).code).toBe('NOT_FOUND');
    expect((await refusal(eve, remove, { id })).code).toBe('NOT_FOUND');
    expect((await refusal(eve, send, { input: { conversationId: id, text: 'hi', messageId: 'e-1' } })).code).toBe('NOT_FOUND');
    const eavesdrop = await subscribe(eve, { id });
    const [refused] = await eavesdrop.take(() => true);
    expect(refused!.errors![0]!.extensions?.code).toBe('NOT_FOUND');
    expect((await data(eve, '{ conversations(user: "dana") { id } }')).conversations).toEqual([]);

    const olga = await engine.as('olga', 'operator');
    const read = await data(olga, readIt, { id });
    expect(read.conversation.turnCount).toBe(1);
    expect(read.messages.messages[0].text).toBe('my secret');
    expect((await refusal(olga, reset, { id })).code).toBe('FORBIDDEN');
    expect((await refusal(olga, remove, { id })).code).toBe('FORBIDDEN');
    // Deleting needs admin, even one's own conversation.
    expect((await refusal(dana, remove, { id: 'private' })).code).toBe('FORBIDDEN');

    const ada = await engine.as('ada', 'admin');
    expect((await data(ada, reset, { id })).resetConversation).toEqual({ conversationId: id });
    const { deleteConversation } = await data(ada, remove, { id });
    expect(deleteConversation.conversationId).toBe(id);
    expect(deleteConversation.deleted.runs).toBeGreaterThanOrEqual(1);
    // Temporal deletes the runs' histories in the background: until it has, the conversation shows as closed and empty.
    await eventually(async () => (await graphql(dana, readIt, { id: 'private' })).body.errors?.[0]?.extensions?.code === 'NOT_FOUND', {
      what: 'the deleted conversation gone',
      // The dev server took 30-40 s to delete a history while the whole suite ran.
      timeoutMs: 120_000,
    });

    // Audited as REST's refusals and deletions are.
    const records = await eventually(
      async () => {
        const page = await (await engine.get('/api/v1/audit?limit=200', ada)).json();
        const found = page.records.filter((r: { target: string }) => r.target === id);
        return found.some((r: { action: string }) => r.action === 'conversation.delete') ? found : undefined;
      },
      { what: 'the audit records about the conversation' },
    );
    const summary = records.map((r: { actor: string; action: string; outcome: string }) => `${r.actor} ${r.action} ${r.outcome}`);
    expect(summary).toEqual(
      expect.arrayContaining(['eve role.denied denied', 'olga conversation.read-other allowed', 'olga role.denied denied', 'ada conversation.delete done']),
    );
  }, 180_000); // waits for Temporal to delete a history

  it('when input is malformed then the error is BAD_USER_INPUT and names the field', async () => {
    const fay = await engine.as('fay');
    const empty = await refusal(fay, send, { input: { conversationId: 'x', text: '   ', messageId: 'f-1' } });
    expect([empty.code, empty.error.extensions?.field]).toEqual(['BAD_USER_INPUT', 'text']);
    const badId = await refusal(fay, '{ conversation(id: "a b") { id } }');
    expect([badId.code, badId.error.extensions?.field]).toEqual(['BAD_USER_INPUT', 'id']);
    const badLimit = await refusal(fay, '{ messages(conversationId: "x", limit: 0) { nextAfter } }');
    expect([badLimit.code, badLimit.error.extensions?.field]).toEqual(['BAD_USER_INPUT', 'limit']);
    const subscription = await subscribe(fay, { id: 'x', after: 'yesterday' });
    const [badAfter] = await subscription.take(() => true);
    expect(badAfter!.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('when a query nests too deep or uses too many aliases then it is refused before anything runs', async () => {
    const gus = await engine.as('gus');
    const deep = await graphql(gus, '{ __type(name: "Query") { fields { type { fields { type { fields { name } } } } } } }');
    expect(deep.body.data).toBeUndefined();
    expect(deep.body.errors![0]!.message).toMatch(/depth limit of 6 exceeded, found 7/);

    const aliases = Array.from({ length: 11 }, (_, i) => `a${i}: me { user }`).join(' ');
    const aliased = await graphql(gus, `{ ${aliases} }`);
    expect(aliased.body.data).toBeUndefined();
    expect(aliased.body.errors![0]!.message).toMatch(/aliases limit of 10 exceeded/i);
  });

  it('when a user holds as many event streams as allowed then the next is RATE_LIMITED until one closes', async () => {
    const hal = await engine.as('hal');
    await data(hal, send, { input: { conversationId: 'streams', text: 'hi', messageId: 'h-1' } });
    const open = [await subscribe(hal, { id: 'streams' }), await subscribe(hal, { id: 'streams' })];
    const third = await subscribe(hal, { id: 'streams' });
    const [refused] = await third.take(() => true);
    expect(refused!.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });

    open[0]!.close();
    // The server learns of the disconnect and gives the lease back; a replay from the start then yields data.
    await eventually(async () => {
      const again = await subscribe(hal, { id: 'streams', after: '0-0' });
      const [first] = await again.take(() => true);
      again.close();
      return first?.data !== undefined;
    }, { what: 'a stream allowed again' });
    open[1]!.close();

    // Audited as REST's 429s are.
    const ada = await engine.as('ada', 'admin');
    await eventually(async () => {
      const page = await (await engine.get('/api/v1/audit?limit=500', ada)).json();
      return page.records.some((r: { actor: string; action: string; target: string }) =>
        r.actor === 'hal' && r.action === 'limit.exceeded' && r.target === 'POST /graphql conversationEvents');
    }, { what: "hal's refused stream in the audit log" });
  });

  it('when the schema is asked for then the served one is schema.graphql exactly, and introspection works with a token', async () => {
    expect(readFileSync(schemaFile, 'utf8'), 'schema.graphql is stale: run npm run graphql:schema').toBe(printedSchema());
    const introspection = await data(await engine.as('ivy'), getIntrospectionQuery({ descriptions: true }));
    expect(printSchema(lexicographicSortSchema(buildClientSchema(introspection))) + '\n').toBe(readFileSync(schemaFile, 'utf8'));
  });

  it('when a browser opens /graphql outside production then GraphiQL loads without a token, with nothing from a CDN', async () => {
    const page = await fetch(`${engine.api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
  });

  it('when a browser opens /graphql in production then there is no GraphiQL: it needs a token like any request', async () => {
    const production = await startEngine({
      worker: false,
      providers: [{ name: 'remote', type: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1', model: 'm' }],
      env: { APP_ENV: 'production', ENCRYPTION_KEYS: generateKeySpec('k1'), CODEC_LISTEN: '' },
    });
    try {
      const page = await fetch(`${production.api.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(401);
      expect(await page.text()).not.toContain('GraphiQL');
      const withToken = await fetch(`${production.api.url}/graphql`, { headers: { accept: 'text/html', ...(await production.as('ivy')) } });
      expect(await withToken.text()).not.toContain('GraphiQL');
    } finally {
      await production.stop();
    }
  });
});
