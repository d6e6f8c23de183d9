/**
 * An API process stopping (a rolling update, a scale-down): what its clients see. The request in flight is
 * answered; the next one goes to whoever listens next, not to the process about to stop.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as startApi } from '../api/main';
import { loadConfig } from '../lib/config';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';

describe('an API process stopping', () => {
  let model: OpenAiServer;
  let engine: Engine;

  beforeAll(async () => {
    model = await startOpenAiServer();
    engine = await startEngine({ providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model' }] });
  });
  afterAll(async () => {
    model?.release();
    await engine?.stop();
    await model?.close();
  });

  it('when it stops while a chat waits for its reply then the chat is answered, and the client\'s next request is not served by it', async () => {
    const api = await startApi(loadConfig(engine.env));
    // As browsers and most HTTP clients do, the client keeps its connection alive for the next request.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const headers = { ...(await engine.as('ursula')), 'content-type': 'application/json' };
    const send = (method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const sent = request(`${api.url}${path}`, { method, agent, headers }, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode!, body: text }));
        });
        sent.on('error', reject);
        sent.end(body === undefined ? undefined : JSON.stringify(body));
      });
    let stopped: Promise<void> | undefined;
    try {
      model.hold(0);
      const chat = send('POST', '/api/v1/chat', { conversationId: 'rolling', text: 'are you still there?' });
      await eventually(() => model.inFlight === 1, { what: 'the model asked' });

      stopped = api.stop();
      model.release();
      const answered = await chat;
      expect(answered.status).toBe(200);
      expect(JSON.parse(answered.body).reply.text).toBe('Answer to: are you still there?');
      // The connection the answer came on was not kept: the next request needs a new one, and nobody listens.
      await expect(send('GET', '/api/v1/conversations/rolling')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      model.release();
      agent.destroy();
      await (stopped ?? api.stop());
    }
  });
});
