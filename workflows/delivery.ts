/**
 * What a turn runs to show its reply in the conversation's channel, beyond the event stream every channel's
 * replies go on (the history and SSE APIs read them there). The conversation workflow asks `deliveryFor` once per
 * run instead of branching on the channel; a channel with nothing of its own (the API, the web page) gets an empty
 * delivery.
 *
 * Safe for replay only while each channel's activities keep their types, options, order and summaries: recorded
 * histories (test/replay.test.ts) scheduled exactly these.
 */
import { ActivityFailure, isCancellation, log, proxyActivities } from '@temporalio/workflow';
import type { TelegramReplyActivities } from '../channels/telegram/reply-activities';
import { telegramDelivery, telegramPreview, telegramTaskQueue } from './activity-options';
import type { Channel, Reply } from './messages';

export interface ChannelDelivery {
  /** Started as the turn starts, before the model call, and not awaited: it ends by itself once the reply is final. */
  preview?(replyId: string): void;
  /**
   * Shows the final reply, after it is on the event stream. Resolves with the problem for the operator view when the
   * channel refused the reply for good (it stays in the transcript), else undefined.
   */
  deliver?(reply: Reply, turn: number): Promise<string | undefined>;
}

/** Where each channel's reply activities run: the conversation's own task queue, or one derived from it. */
export interface DeliveryTarget {
  conversationId: string;
  /** The conversation workflow's task queue. */
  taskQueue: string;
}

const deliveries: Partial<Record<Channel, (target: DeliveryTarget) => ChannelDelivery>> = {
  telegram: telegramChatDelivery,
};

export function deliveryFor(channel: Channel, target: DeliveryTarget): ChannelDelivery {
  return deliveries[channel]?.(target) ?? {};
}

/** Telegram activities run on their own task queue, whose workers pace sends to Telegram's limits. */
function telegramChatDelivery({ conversationId, taskQueue }: DeliveryTarget): ChannelDelivery {
  const queue = telegramTaskQueue(taskQueue);
  const previews = proxyActivities<Pick<TelegramReplyActivities, 'previewTelegramReply'>>({ ...telegramPreview, taskQueue: queue });
  const sends = proxyActivities<Pick<TelegramReplyActivities, 'sendTelegramReply'>>({ ...telegramDelivery, taskQueue: queue });
  return {
    /** Typing, then the answer as it streams. */
    preview(replyId) {
      const summary = 'show "typing…", then stream the answer into the chat';
      // Workflow time is the time this task started; the model's token events come after it (a minute of clock skew is fine).
      const input = { conversationId, replyId, sinceMs: Date.now() - 60_000 };
      previews.previewTelegramReply.executeWithOptions({ summary }, [input]).catch((error: unknown) => {
        log.info('telegram preview ended early', { replyId, cause: error instanceof ActivityFailure ? error.cause?.message : String(error) });
      });
    },
    async deliver(reply, turn) {
      const summary = `send the reply to turn ${turn} to Telegram`;
      try {
        await sends.sendTelegramReply.executeWithOptions({ summary }, [{ conversationId, reply }]);
        return undefined;
      } catch (error) {
        // A refusal (the user blocked the bot, the chat is gone) or hours of outage end it; the reply stays in the transcript.
        if (!(error instanceof ActivityFailure) || isCancellation(error)) throw error;
        log.warn('telegram reply not delivered', { replyId: reply.replyId, cause: error.cause?.message });
        return `the reply to turn ${turn} could not be sent to Telegram: ${error.cause?.message}`;
      }
    },
  };
}
