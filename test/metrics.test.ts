/**
 * What Prometheus scrapes: the worker's metrics port (the engine's metrics and the Temporal SDK core's, one
 * scrape) and the API's /metrics (operators only), from the real launcher's processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackHandle } from '../scripts/stack';
import { testEnvironment } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { freePort } from '../lib/free-ports';
import { startTestStack } from './support/stack';
import { bearer } from './support/tokens';

/** The value of the first sample whose name and labels contain every fragment, or undefined. */
function sample(exposition: string, name: string, ...labels: string[]): number | undefined {
  const line = exposition
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && labels.every((label) => l.includes(label)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics', () => {
  let server: OpenAiServer;
  let stack: StackHandle;
  let env: Record<string, string>;
  let worker: string;
  const conversationId = `metrics-${Date.now()}`;
  const chat = async (messageId: string) =>
    fetch(`${stack.urls.api}/api/v1/chat`, {
      method: 'POST',
      headers: { ...(await bearer(env)), 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId, messageId, text: 'count me' }),
    });

  beforeAll(async () => {
    server = await startOpenAiServer();
    const metricsPort = await freePort();
    env = testEnvironment({
      providers: [{ name: 'local', type: 'openai-compatible', endpoint: server.url, model: 'test-model' }],
      // Runs of two turns: the second turn ends the run, and the workflow counts its continue-as-new.
      env: { METRICS_PORT: String(metricsPort), MAX_TURNS_PER_RUN: '2' },
    });
    stack = await startTestStack(env);
    worker = `http://127.0.0.1:${metricsPort}`;
    await eventually(async () => (await fetch(`${worker}/readyz`).catch(() => undefined))?.status === 200, { what: 'the worker ready' });
  });
  afterAll(async () => {
    await stack?.stop();
    await server?.close();
  });

  it('when a turn has been answered then the worker reports it, its model call and the SDK, with no ids in any label', async () => {
    expect((await chat('m-1')).status).toBe(200);
    expect((await chat('m-1')).status).toBe(200); // the same message again: answered from the first reply
    expect((await chat('m-2')).status).toBe(200);

    const scrape = await eventually(async () => {
      const text = await (await fetch(`${worker}/metrics`)).text();
      return (sample(text, 'aac_conversation_events', 'event="continued_as_new"') ?? 0) >= 1 && text;
    }, { what: "the workflow's continue-as-new counted" });
    expect(sample(scrape, 'aac_turn_duration_seconds_count', 'channel="api"')).toBe(2);
    expect(sample(scrape, 'aac_turn_first_token_seconds_count', 'channel="api"')).toBe(2);
    expect(sample(scrape, 'aac_replies_total', 'channel="api"', 'kind="answer"')).toBe(2);
    expect(sample(scrape, 'aac_turn_queued_messages_count', 'channel="api"')).toBe(2);
    expect(sample(scrape, 'aac_model_requests_total', 'provider="local"', 'model="test-model"', 'outcome="ok"')).toBe(2);
    expect(sample(scrape, 'aac_model_tokens_total', 'direction="completion"')).toBeGreaterThan(0);
    expect(sample(scrape, 'process_resident_memory_bytes', 'service="worker"')).toBeGreaterThan(0);
    // The idle closer runs in the worker, and its visibility query is one the server takes.
    expect(sample(scrape, 'aac_idle_closer_rounds_total', 'outcome="ok"')).toBeGreaterThan(0);
    expect(sample(scrape, 'aac_idle_closer_rounds_total', 'outcome="failed"') ?? 0).toBe(0);
    // The SDK core's own numbers, in the same scrape.
    expect(sample(scrape, 'temporal_workflow_completed')).toBeUndefined(); // the conversation is still open
    expect(sample(scrape, 'temporal_num_pollers', 'poller_type="workflow_task"')).toBeGreaterThan(0);
    expect(sample(scrape, 'temporal_activity_execution_latency_count', 'activity_type="generateReply"')).toBeGreaterThanOrEqual(1);
    expect(scrape).not.toContain(conversationId);
    expect((await fetch(`${worker}/healthz`)).status).toBe(200);
  });

  it('when the API is scraped then operators get request counts by route pattern, and others are refused', async () => {
    const url = `${stack.urls.api}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    const user = await fetch(url, { headers: await bearer(env, 'alice', 'user') });
    expect(user.status).toBe(403);
    expect(((await user.json()) as { detail: string }).detail).toMatch(/operator role/);
    await fetch(`${stack.urls.api}/api/v1/conversations/${conversationId}`, { headers: await bearer(env) });

    const text = await (await fetch(url, { headers: await bearer(env, 'olga', 'operator') })).text();
    expect(sample(text, 'aac_http_requests_total', 'route="/api/v1/chat"', 'method="POST"', 'status="200"')).toBe(3);
    expect(sample(text, 'aac_http_requests_total', 'route="/metrics"', 'status="403"')).toBe(1);
    expect(sample(text, 'aac_http_requests_total', 'route="/api/v1/conversations/:id"', 'status="200"')).toBeGreaterThanOrEqual(1);
    // Two messages reached the conversation; the repeated one was answered from the first reply.
    expect(sample(text, 'aac_messages_total', 'channel="api"', 'outcome="accepted"')).toBe(2);
    expect(sample(text, 'aac_http_request_duration_seconds_count', 'route="/api/v1/chat"')).toBe(3);
    expect(text).not.toContain(conversationId);
  });
});
