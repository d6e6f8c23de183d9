/**
 * A conversation that lives long on maximum-size messages: 1,000 turns of 16,000 CJK characters each continue as
 * new several times, never terminate, and the whole history reads back end to end, in order, every text whole.
 * Real Temporal, Redis and MinIO; a local OpenAI-compatible model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './support/engine';
import { payloadSizes } from './support/payload-sizes';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { payloadBudgetBytes } from '../workflows/payload-budget';

const turns = 1_000;
const maxTurnsPerRun = 150;
const text = (i: number) => `turn ${i}:`.padEnd(16_000, '漢字');

describe('a long conversation of maximum-size messages', () => {
  let server: OpenAiServer;
  let engine: Engine;
  beforeAll(async () => {
    server = await startOpenAiServer({ apiKey: 'sk-test', answer: (body) => `noted ${String(body.messages?.at(-1)?.content).slice(0, 9)}` });
    engine = await startEngine({
      providers: [{ name: 'fake', type: 'openai-compatible', endpoint: server.url, api_key: 'sk-test', model: 'test-model', timeout: '30s' }],
      app: { conversation: { idle_timeout: '30m', max_turns_per_run: maxTurnsPerRun } },
    });
  });
  afterAll(async () => {
    await engine?.stop();
    await server?.close();
  });

  it(`when ${turns} maximum-size messages are answered one after another then the runs continue as new and the history reads back whole`, async () => {
    const clientId = `long-${Date.now()}`;
    for (let i = 1; i <= turns; i++) {
      const response = await engine.post('/api/v1/chat', { conversationId: clientId, text: text(i), messageId: `long-${i}` });
      expect(response.status, `turn ${i}`).toBe(200);
    }

    const history: { role: string; text: string; turn: number }[] = [];
    let after = 0;
    for (;;) {
      const page = await (await engine.get(`/api/v1/conversations/${clientId}/messages?after=${after}&limit=200`)).json();
      history.push(...page.messages);
      if (page.nextAfter === null) break;
      after = page.nextAfter;
    }
    const asked = history.filter((m) => m.role === 'user');
    expect(asked).toHaveLength(turns);
    expect(asked.every((m, i) => m.text === text(i + 1) && m.turn === i + 1)).toBe(true);
    expect(history.filter((m) => m.role === 'assistant')).toHaveLength(turns);

    const sizes = await payloadSizes(engine.temporal, engine.workflowId(clientId));
    const statuses = sizes.runs.map((run) => run.status);
    expect(statuses.filter((s) => s === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(Math.floor(turns / maxTurnsPerRun));
    expect(statuses.filter((s) => s !== 'CONTINUED_AS_NEW')).toEqual(['RUNNING']);
    expect(Math.max(...sizes.largest.values())).toBeLessThan(payloadBudgetBytes);
    expect(sizes.offloaded).toBe(0);
  }, 30 * 60_000);
});
