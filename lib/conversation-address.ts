/**
 * How every edge names a conversation, and who may: a client id ("demo") means the caller's own conversation on the
 * edge's channel (`api:<user>:demo`, `web:<user>:demo`); a full id (`web:alice:x`, `api:alice:demo`,
 * `telegram:42`) names one directly. Another user's conversation needs a role (operators read, admins change); a
 * plain user naming one gets exactly the NotFoundError of a conversation that does not exist, so that nobody
 * learns which ids other users have.
 */
import type { AuditAction, AuditEvent } from './audit-log';
import { hasRole, type Principal, type Role } from './auth';
import { ForbiddenError, InvalidInputError, NotFoundError } from './errors';
import type { Channel } from '../workflows/messages';

/** Who is calling, for access checks, limits and the audit log. */
export interface Caller {
  principal: Principal;
  /** The request (HTTP), operation (GraphQL) or socket event it acts for; goes into the audit log. */
  requestId: string;
  /** The peer address, when known. */
  ip: string;
}

/** Who a conversation is with, as an edge knows it: what the Temporal UI shows and filters by. */
export interface ConversationRef {
  /** The workflow id, `<channel>:<external id>`. */
  id: string;
  channel: Channel;
  /** The owner: the user id for API and web conversations, the workflow id for Telegram chats. */
  user: string;
  /** The id inside the owner's namespace (`demo` of `api:alice:demo`; the chat id of a Telegram chat). */
  clientId: string;
  /** A human title for the UI, e.g. `API conversation "demo" with alice`. */
  title: string;
}

/** The edges whose users name their own conversations by client id. */
export type UserChannel = 'api' | 'web';

export const clientIdPattern = /^[A-Za-z0-9._~-]{1,128}$/;
export const clientIdRule = 'use 1-128 characters from A-Z a-z 0-9 . _ ~ -';

export type Audit = (caller: Caller, action: AuditAction, target: string, outcome: AuditEvent['outcome']) => void;

export interface AddressOptions {
  /** The channel a bare client id belongs to. */
  channel: UserChannel;
  /** What another user's conversation needs: `operator` to read it, `admin` to change it. */
  need: Exclude<Role, 'user'>;
  /** Whose conversation a bare client id names (an operator's `?user=`); default the caller. */
  owner?: string | undefined;
}

export function userConversation(channel: UserChannel, user: string, clientId: string): ConversationRef {
  const edge = channel === 'api' ? 'API' : 'Web';
  return { id: `${channel}:${user}:${clientId}`, channel, user, clientId, title: `${edge} conversation "${clientId}" with ${user}` };
}

export function telegramConversation(chatId: number | string): ConversationRef {
  const id = `telegram:${chatId}`;
  return { id, channel: 'telegram', user: id, clientId: String(chatId), title: `Telegram chat ${chatId}` };
}

/** A full conversation id taken apart; undefined when `name` is not one (a bare client id, or malformed). */
export function parseConversationId(name: string): ConversationRef | undefined {
  const telegram = /^telegram:(-?\d{1,20})$/.exec(name);
  if (telegram) return telegramConversation(telegram[1]!);
  const user = /^(api|web):(.+):([^:]+)$/.exec(name);
  if (!user || !clientIdPattern.test(user[3]!)) return undefined;
  return userConversation(user[1] as UserChannel, user[2]!, user[3]!);
}

/**
 * The conversation `name` means for `caller` (existence is not checked). Reading someone else's is audited as
 * such; a refusal is audited as `role.denied`.
 */
export function addressConversation(caller: Caller, name: string, options: AddressOptions, audit: Audit): ConversationRef {
  const ref = name.includes(':') ? parseConversationId(name) : bareConversation(caller, name, options);
  if (!ref) {
    throw new InvalidInputError('id', `"${name}" is neither a conversation id (${clientIdRule}) nor a full one such as web:<user>:<id>`);
  }
  const { principal } = caller;
  if (ref.channel !== 'telegram' && ref.user === principal.user) return ref;
  if (hasRole(principal, options.need)) {
    // A change is audited as such by the edge API; a read of someone else's conversation here.
    if (options.need === 'operator') audit(caller, 'conversation.read-other', ref.id, 'allowed');
    return ref;
  }
  audit(caller, 'role.denied', ref.id, 'denied');
  if (hasRole(principal, 'operator')) {
    throw new ForbiddenError(`Doing this to another user's conversation needs the ${options.need} role.`);
  }
  // Worded as Conversations.require words a missing one.
  throw new NotFoundError(`No conversation "${ref.clientId}".`);
}

function bareConversation(caller: Caller, clientId: string, options: AddressOptions): ConversationRef | undefined {
  if (!clientIdPattern.test(clientId)) return undefined;
  return userConversation(options.channel, options.owner ?? caller.principal.user, clientId);
}
