/**
 * The raw-Temporal floor the bench compares the engine with: the least a Temporal conversation can do per turn.
 * A message arrives by signal-with-start, one activity asks the model, a second writes the reply to a Redis
 * stream the client reads. No dedupe, context, archive, encryption or operator view: what is left is the cost of
 * Temporal itself on this machine.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { FloorActivities } from './activities';

export interface FloorMessage {
  messageId: string;
  text: string;
}

export const floorMessageSignal = defineSignal<[FloorMessage]>('floorMessage');

const { floorGenerate, floorDeliver } = proxyActivities<FloorActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '5 seconds' },
});

export async function floorConversation(conversationId: string): Promise<void> {
  const inbox: FloorMessage[] = [];
  setHandler(floorMessageSignal, (message) => void inbox.push(message));
  // Ends after a quiet minute, so a finished bench leaves nothing running.
  while (await condition(() => inbox.length > 0, '1 minute')) {
    const message = inbox.shift()!;
    const text = await floorGenerate(message.text);
    await floorDeliver(conversationId, message.messageId, text);
  }
}
