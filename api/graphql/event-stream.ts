/**
 * A subscription's source: a conversation's event feed from the edge API (lib/conversations.ts `events`), one event
 * at a time. Opening it checks the conversation and takes one of the user's stream leases, so those refusals are the
 * operation's errors; the feed is closed (the lease given back) as soon as the subscription ends, when the client
 * unsubscribes or disconnects.
 */
import { Repeater } from 'graphql-yoga';
import type { StoredEvent } from '../../lib/conversation-events';
import type { ConversationRef } from '../../lib/conversations';
import type { GraphqlContext } from './context';

export async function conversationEventStream(
  { caller, conversations }: GraphqlContext,
  conversation: ConversationRef,
  after: string | undefined,
): Promise<AsyncIterable<StoredEvent>> {
  const feed = await conversations.events(caller, conversation, { after });
  return new Repeater<StoredEvent>(async (push, stop) => {
    void stop.then(() => feed.close());
    for await (const batch of feed) for (const event of batch) await push(event);
    stop();
  });
}
