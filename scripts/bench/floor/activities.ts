/** The floor's two activities: a streamed model call and one XADD, as plain as they can be. */
import OpenAI from 'openai';
import type { Redis } from '../../../lib/redis';

export function floorStreamKey(conversationId: string): string {
  return `bench-floor:{${conversationId}}:replies`;
}

export function createFloorActivities(model: { baseURL: string; name: string }, redis: Redis) {
  const client = new OpenAI({ baseURL: model.baseURL, apiKey: 'bench', maxRetries: 0 });
  return {
    async floorGenerate(text: string): Promise<string> {
      const stream = await client.chat.completions.create({
        model: model.name,
        stream: true,
        messages: [{ role: 'user', content: text }],
      });
      let reply = '';
      for await (const chunk of stream) reply += chunk.choices[0]?.delta.content ?? '';
      return reply;
    },
    async floorDeliver(conversationId: string, messageId: string, text: string): Promise<void> {
      await redis.xadd(floorStreamKey(conversationId), 'MAXLEN', '~', '100', '*', 'messageId', messageId, 'text', text);
    },
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
