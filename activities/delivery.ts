/**
 * Reply delivery. For API (and later web) conversations the reply goes onto the conversation's Redis
 * stream, at most once per replyId, however often the activity is retried.
 */
import type { Channel, Reply } from '../workflows/messages';
import type { ConversationCache } from './ports';

export interface DeliverReplyInput {
  channel: Channel;
  conversationId: string;
  reply: Reply;
}

export function createDeliveryActivities(deps: { cache: ConversationCache }) {
  return {
    async deliverReply({ conversationId, reply }: DeliverReplyInput): Promise<void> {
      await deps.cache.publishReply(conversationId, reply);
    },
  };
}
