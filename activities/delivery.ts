/**
 * Reply delivery. For API (and later web) conversations the reply goes onto the conversation's Redis
 * stream, at most once per replyId, however often the activity is retried.
 */
import type { Channel, Reply } from '../workflows/messages';
import type { Metrics } from '../lib/metrics';
import type { ConversationCache, LargeTexts } from './ports';

export interface DeliverReplyInput {
  channel: Channel;
  conversationId: string;
  reply: Reply;
}

export function createDeliveryActivities(deps: { cache: ConversationCache; texts: LargeTexts; metrics?: Pick<Metrics, 'turn'> | undefined }) {
  return {
    /** Clients read the whole text from the stream: a reply carried by reference is resolved first. */
    async deliverReply({ channel, conversationId, reply }: DeliverReplyInput): Promise<void> {
      await deps.cache.publishReply(conversationId, await deps.texts.resolve(reply));
      // Answers are counted where the model activity publishes them; this one publishes apologies (and the answers
      // of runs recorded before the model published its own).
      deps.metrics?.turn.replies.inc({ channel, kind: reply.kind });
    },
  };
}
