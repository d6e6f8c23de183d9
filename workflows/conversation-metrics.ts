/**
 * What the conversation workflow counts about itself, through the SDK's workflow metric meter: nothing is
 * recorded while a worker replays history, and the numbers reach the SDK core's exporter (served on the worker's
 * metrics port beside the engine's own). Tags are bounded: the channel and the event, never an id.
 */
import { metricMeter } from '@temporalio/workflow';

export type ConversationEvent = 'duplicate_ignored' | 'malformed_ignored' | 'continued_as_new' | 'parked' | 'idle_closed';

export function conversationMetrics(channel: string) {
  const meter = metricMeter.withTags({ channel });
  const events = meter.createCounter('aac_conversation_events', undefined, 'Duplicates and malformed signals ignored, runs continued as new, runs parked, idle closes');
  const waiting = meter.createHistogram('aac_turn_queued_messages', 'int', undefined, 'Messages still waiting when a turn starts');
  return {
    count: (event: ConversationEvent) => events.add(1, { event }),
    queued: (count: number) => waiting.record(count),
  };
}
