/**
 * What a client may send over the socket, checked before anything acts on it: unknown fields are refused, as HTTP
 * refuses them. Mostly shapes are checked here; what a value means (a conversation id, a text's length, a
 * messageId's form) is the edge API's to judge, the same for every channel.
 */
import { z } from 'zod';
import { clientIdPattern, clientIdRule } from '../../lib/conversation-address';
import { isEventId } from '../../lib/conversation-store';
import { InvalidInputError } from '../../lib/errors';
import type { MessageRequest, SubscribeRequest } from './protocol';

/** A client id or a full conversation id: the edge API judges which conversation it names, and who may. */
const conversationId = z.string().min(1).max(300);

/** Messages go to the caller's own web conversations only, named by client id, as HTTP's go to their API ones. */
const messageRequest = z.strictObject({
  conversationId: z.string().regex(clientIdPattern, clientIdRule).optional(),
  text: z.string(),
  messageId: z.string(),
});

const subscribeRequest = z.strictObject({
  conversationId,
  after: z.string().refine(isEventId, 'must be an event id such as 1700000000000-0').optional(),
});

const unsubscribeRequest = z.strictObject({ conversationId });

export const parseMessage = (payload: unknown): MessageRequest => parse(messageRequest, payload);
export const parseSubscribe = (payload: unknown): SubscribeRequest => parse(subscribeRequest, payload);
export const parseUnsubscribe = (payload: unknown): { conversationId: string } => parse(unsubscribeRequest, payload);

/** The ids a payload names, as far as it names them: a refusal's ack echoes them. */
export function namedIds(payload: unknown): { conversationId?: string; messageId?: string } {
  const named = z.object({ conversationId: z.string().optional().catch(undefined), messageId: z.string().optional().catch(undefined) }).safeParse(payload);
  if (!named.success) return {};
  const { conversationId: conversation, messageId } = named.data;
  return { ...(conversation === undefined ? {} : { conversationId: conversation }), ...(messageId === undefined ? {} : { messageId }) };
}

function parse<T>(schema: z.ZodType<T>, payload: unknown): T {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.map(String).join('.') || '(payload)';
  const message = issue.code === 'unrecognized_keys' ? 'unknown field (not part of this protocol)' : issue.message;
  throw new InvalidInputError(field, `${field}: ${message}`);
}
