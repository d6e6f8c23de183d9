/**
 * One connection's work: its client's `message`, `subscribe` and `unsubscribe` (channels/web/protocol.ts), each
 * translated into edge API calls and answered in its ack; the conversations it follows (socket-follows.ts).
 * Messages are handled one at a time in the order they came, so a conversation gets them in that order.
 * A refusal (a limit, a bad payload, a token that expired) is an ack with status `rejected`; the connection stays.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../lib/audit-log';
import { AuthenticationError, type Verifier } from '../../lib/auth';
import { userConversation } from '../../lib/conversation-address';
import type { Caller, Conversations } from '../../lib/conversations';
import type { Logger } from '../../lib/logger';
import type { ConversationFeeds } from './conversation-feeds';
import { principalOf } from './handshake';
import { logProblem, problemOf } from './problem';
import type { MessageAck, SubscribeAck } from './protocol';
import { namedIds, parseMessage, parseSubscribe, parseUnsubscribe } from './requests';
import { SocketFollows, wireName } from './socket-follows';
import type { EdgeSocket } from './web-socket-edge';

export interface SessionDeps {
  conversations: Pick<Conversations, 'address' | 'post'>;
  feeds: ConversationFeeds;
  verify: Verifier;
  audit: Pick<AuditLog, 'record'>;
  logger: Logger;
}

type Ack = MessageAck | SubscribeAck;
/** Names the conversation (and message) a refusal is about, once known. */
type Echo = { conversationId?: string; messageId?: string };

export function serveSocket(socket: EdgeSocket, deps: SessionDeps): void {
  const { conversations, feeds, verify, audit, logger } = deps;
  const { user } = socket.data.principal;
  const logFields = { 'socket.id': socket.id, 'user.id': user };
  const follows = new SocketFollows(socket, feeds, logger);
  let messages: Promise<unknown> = Promise.resolve();

  /** Runs `work` for one client event and answers it: in its ack, or with `error` when the client asked for none. */
  const handle = async (event: string, payload: unknown, ack: unknown, work: (caller: Caller, answer: (body: Ack) => void, echo: Echo) => Promise<void>) => {
    const started = performance.now();
    const requestId = randomUUID();
    const echo: Echo = namedIds(payload);
    const outcome: { status?: string; 'problem.status'?: number } = {};
    const answer = (body: Ack) => {
      outcome.status = body.status;
      if (typeof ack === 'function') ack(body);
    };
    try {
      const caller = { principal: await principalOf(socket, verify), requestId, ip: socket.handshake.address };
      await work(caller, answer, echo);
    } catch (error) {
      const problem = problemOf(error);
      logProblem(logger, error, problem, { ...logFields, event, requestId });
      const target = `socket.io ${event} ${echo.conversationId ?? ''}`.trimEnd();
      if (error instanceof AuthenticationError) auditRefusal('auth.token-refused', target, requestId);
      if (problem.status === 429) auditRefusal('limit.exceeded', target, requestId);
      outcome['problem.status'] = problem.status;
      // What fails after the ack (following the conversation) is told apart, as an `error` naming the conversation.
      if (outcome.status === undefined && typeof ack === 'function') answer({ ...echo, status: 'rejected', problem });
      else socket.emit('error', { ...problem, ...echo });
    }
    logger.info({ ...logFields, event, requestId, ...outcome, 'event.duration': Math.round((performance.now() - started) * 1e6) }, 'socket event');
  };

  const auditRefusal = (action: 'auth.token-refused' | 'limit.exceeded', target: string, requestId: string) => {
    const { principal } = socket.data;
    audit.record({ actor: principal.user, roles: [principal.role], action, target, outcome: 'denied', requestId, ip: socket.handshake.address });
  };

  socket.on('message', (payload: unknown, ack: unknown) => {
    // One at a time, in the order they came: each conversation's messages reach it in the order they were sent.
    messages = messages.then(() =>
      handle('message', payload, ack, async (caller, answer, echo) => {
        const { conversationId: name, text, messageId } = parseMessage(payload);
        // A new conversation's client id is made here; the ack names it, and the conversation is `web:<user>:<id>`.
        const conversationId = name ?? randomUUID();
        const ref = userConversation('web', caller.principal.user, conversationId);
        echo.conversationId = conversationId;
        const result = await conversations.post(caller, ref, { text, messageId }, { wait: false });
        if (result.status === 'answered') return answer({ conversationId, messageId, status: 'answered', reply: result.reply });
        answer({ conversationId, messageId, status: 'queued' });
        // After the ack, so that the client knows the conversation before its first token arrives.
        await follows.follow(caller, ref, result.after);
      }),
    ).catch((error: unknown) => logger.error({ ...logFields, err: error }, 'answering a message failed'));
  });

  socket.on('subscribe', (payload: unknown, ack: unknown) =>
    void handle('subscribe', payload, ack, async (caller, answer, echo) => {
      const { conversationId: name, after } = parseSubscribe(payload);
      const ref = conversations.address(caller, name, { channel: 'web', need: 'operator' });
      echo.conversationId = wireName(caller, ref);
      await follows.follow(caller, ref, after);
      answer({ conversationId: echo.conversationId, status: 'subscribed' });
    }),
  );

  socket.on('unsubscribe', (payload: unknown, ack: unknown) =>
    void handle('unsubscribe', payload, ack, async (caller, answer, echo) => {
      const ref = conversations.address(caller, parseUnsubscribe(payload).conversationId, { channel: 'web', need: 'operator' });
      echo.conversationId = wireName(caller, ref);
      follows.unfollow(ref);
      answer({ conversationId: echo.conversationId, status: 'unsubscribed' });
    }),
  );

  socket.on('disconnect', (reason) => {
    follows.disconnected();
    logger.info({ ...logFields, reason }, 'socket disconnected');
  });

  // A recovered connection follows again what it followed, from the last event it was sent (its missed ones were
  // replayed by the recovery itself).
  const recovered = follows.takeRecovered();
  for (const [conversationId, cursor] of recovered) {
    void handle('resume', { conversationId }, undefined, async (caller, _answer, echo) => {
      const ref = conversations.address(caller, conversationId, { channel: 'web', need: 'operator' });
      echo.conversationId = wireName(caller, ref);
      await follows.follow(caller, ref, cursor ?? undefined);
    });
  }
  logger.info({ ...logFields, recovered: socket.recovered, following: recovered.length }, 'socket connected');
}
