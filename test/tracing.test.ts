/**
 * One id from the request to the model call: with OTEL_EXPORTER_OTLP_ENDPOINT set, the real launcher's processes
 * send their spans to a local OTLP receiver (a stand-in for a collector), one trace covers a message from the API
 * through signal-with-start, the workflow and its activity to the model call, and the ECS log lines of the API and
 * the worker carry that trace's id. Without the variable nothing is sent.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, keyRingOf } from '../lib/config';
import { dataConverterFor } from '../lib/temporal';
import { developmentKeyFile } from '../scripts/dev-credentials';
import type { StackHandle } from '../scripts/stack';
import { noWorkflowSpans } from '../workers/tracing';
import { ecsField, logDocuments, missingEcsFields, type LogDocument } from './support/ecs-lines';
import { sharedWorkflowBundle, testEnvironment } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { startOtlpCollector, type CollectedSpan, type OtlpCollector } from './support/otlp-collector';
import { startTestStack } from './support/stack';
import { bearer } from './support/tokens';

interface Chatted {
  status: number;
  /** X-Request-Id: the trace id while tracing is on. */
  requestId: string;
  replyText: string;
}

interface World {
  /** Every output line of the launcher and its processes. */
  lines: string[];
  env: Record<string, string>;
  stack?: StackHandle;
  model?: OpenAiServer;
}

/** The real launcher's processes answering from the local model server, their output lines kept; a chat call. */
function launchedEngine() {
  const world: World = { lines: [], env: {} };
  const start = async (extraEnv: Record<string, string> = {}) => {
    world.model = await startOpenAiServer();
    world.env = testEnvironment({
      providers: [{ name: 'local', type: 'openai-compatible', endpoint: world.model.url, model: 'test-model' }],
      env: { LOG_LEVEL: 'info', ...extraEnv },
    });
    world.stack = await startTestStack(world.env, (line) => world.lines.push(line));
  };
  const stop = async () => {
    await world.stack?.stop();
    await world.model?.close();
  };
  const chat = async (conversationId: string, text: string): Promise<Chatted> => {
    const response = await fetch(`${world.stack!.urls.api}/api/v1/chat`, {
      method: 'POST',
      headers: { ...(await bearer(world.env)), 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId, text }),
    });
    const body = (await response.json()) as { reply?: { text: string } };
    return { status: response.status, requestId: response.headers.get('x-request-id') ?? '', replyText: body.reply?.text ?? '' };
  };
  return { world, start, stop, chat };
}

/** The one span of `trace` named `name`. */
function only(trace: CollectedSpan[], name: string): CollectedSpan {
  const found = trace.filter((span) => span.name === name);
  expect(found.map((span) => span.name), `spans named ${name} in ${trace.map((span) => span.name).join(', ')}`).toEqual([name]);
  return found[0]!;
}

/** The log line `process` wrote with `message` in trace `traceId`. */
function lineOf(lines: readonly string[], process: RegExp, message: string, traceId: string): LogDocument | undefined {
  return logDocuments(lines).find((line) => process.test(line.process) && line.doc.message === message && ecsField(line.doc, 'trace.id') === traceId);
}

describe('tracing on', () => {
  let collector: OtlpCollector;
  const { world, start, stop, chat } = launchedEngine();

  beforeAll(async () => {
    collector = await startOtlpCollector();
    await start({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
  });
  afterAll(async () => {
    await stop();
    await collector?.close();
  });

  /** The spans of `traceId`, once the model call's has arrived (the exporter sends in batches). */
  const traceOf = (traceId: string, what: string) =>
    eventually(() => {
      const trace = collector.spans().filter((span) => span.traceId === traceId);
      return trace.some((span) => span.name === 'chat test-model') && trace.some((span) => span.name === 'StartActivity:generateReply') && trace;
    }, { what, timeoutMs: 30_000 });

  it('when a message is answered then one trace runs from its request through the workflow and its activity to the model call', async () => {
    const text = `trace me ${randomUUID()}`;
    const answered = await chat(`traced-${randomUUID()}`, text);
    expect(answered.status).toBe(200);
    expect(answered.requestId).toMatch(/^[0-9a-f]{32}$/);

    const trace = await traceOf(answered.requestId, "the message's spans");
    const request = only(trace, 'POST /api/v1/chat');
    const signal = only(trace, 'SignalWithStartWorkflow:conversation');
    const handled = only(trace, 'HandleSignal:message');
    const scheduled = only(trace, 'StartActivity:generateReply');
    const activity = only(trace, 'RunActivity:generateReply');
    const modelCall = only(trace, 'chat test-model');
    expect(request).toMatchObject({ service: 'ai-assistant-core-api', kind: 2, attributes: { 'http.route': '/api/v1/chat', 'http.response.status_code': 200 } });
    expect(request.parentSpanId).toBeUndefined();
    expect(signal.parentSpanId).toBe(request.spanId);
    expect(handled.parentSpanId).toBe(signal.spanId);
    expect(scheduled.parentSpanId).toBe(signal.spanId);
    expect(activity.parentSpanId).toBe(scheduled.spanId);
    expect(modelCall.parentSpanId).toBe(activity.spanId);
    expect([handled, scheduled, activity, modelCall].map((span) => span.service)).toEqual(Array(4).fill('ai-assistant-core-worker'));
    expect(Object.keys(handled.attributes).sort()).toEqual(['attempt', 'namespace', 'runId', 'taskQueue', 'workflowId', 'workflowType']);
    expect(modelCall.attributes).toMatchObject({ 'gen_ai.provider.name': 'local', 'gen_ai.request.model': 'test-model', 'aac.model.outcome': 'ok' });
    expect(modelCall.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);

    const exported = JSON.stringify(collector.spans());
    expect(exported).not.toContain(text);
    expect(exported).not.toContain(answered.replyText);

    const apiLine = lineOf(world.lines, /^api$/, 'request', answered.requestId);
    const workerLine = await eventually(() => lineOf(world.lines, /^worker-/, 'model call succeeded', answered.requestId), {
      what: "the worker's log line of the model call",
    });
    for (const line of [apiLine, workerLine]) expect(line && missingEcsFields(line.doc)).toEqual([]);
    expect(apiLine && ecsField(apiLine.doc, 'http.request.id')).toBe(answered.requestId);
    expect(apiLine && ecsField(apiLine.doc, 'service.name')).toBe('ai-assistant-core-api');
    expect(ecsField(workerLine.doc, 'service.name')).toBe('ai-assistant-core-worker');
    // Logged at info: ids and counts, never what the user wrote or was answered.
    expect(world.lines.filter((line) => line.includes(text) || line.includes(answered.replyText))).toEqual([]);
  });

  it("when a second message comes to a running conversation then its model call is in its own trace, not the first one's", async () => {
    const conversationId = `traced-${randomUUID()}`;
    const first = await chat(conversationId, 'first');
    const second = await chat(conversationId, 'second');
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.requestId).not.toBe(first.requestId);

    const secondTrace = await traceOf(second.requestId, "the second message's spans");
    only(secondTrace, 'RunActivity:generateReply');
    only(secondTrace, 'chat test-model');
    only(await traceOf(first.requestId, "the first message's spans"), 'chat test-model');
    await eventually(() => lineOf(world.lines, /^worker-/, 'model call succeeded', second.requestId), {
      what: "the worker's log line of the second model call, in the second trace",
    });
  });

  it('when the traced conversation is replayed then its recorded history does not diverge', async () => {
    const conversationId = `traced-${randomUUID()}`;
    expect((await chat(conversationId, 'replay me')).status).toBe(200);
    // The launcher's processes encrypt payloads with the development key it wrote into their data directory.
    const config = loadConfig({ ...world.env, ENCRYPTION_KEYS_FILE: developmentKeyFile(world.env.DATA_DIR!, () => {}) });
    const connection = await Connection.connect({ address: config.temporal.address });
    try {
      const client = new Client({ connection, dataConverter: dataConverterFor(keyRingOf(config)) });
      const history = await client.workflow.getHandle(`api:anonymous:${conversationId}`).fetchHistory();
      const replayed = Worker.runReplayHistory(
        { workflowBundle: await sharedWorkflowBundle(), dataConverter: dataConverterFor(keyRingOf(config)), sinks: noWorkflowSpans },
        history,
      );
      await expect(replayed).resolves.toBeUndefined();
    } finally {
      await connection.close();
    }
  });
});

describe('tracing off', () => {
  let collector: OtlpCollector;
  const { world, start, stop, chat } = launchedEngine();

  beforeAll(async () => {
    collector = await startOtlpCollector();
    await start();
  });
  afterAll(async () => {
    await stop();
    await collector?.close();
  });

  it('when OTEL_EXPORTER_OTLP_ENDPOINT is unset then the engine answers, nothing is exported, and the request id is still logged', async () => {
    const answered = await chat(`untraced-${randomUUID()}`, 'hello');
    expect(answered.status).toBe(200);
    expect(answered.replyText).toBe('Answer to: hello');
    await world.stack!.stop(); // a tracer would send what it still holds now (stopping again is a no-op)

    expect(collector.spans()).toEqual([]);
    const apiLine = logDocuments(world.lines).find((line) => line.process === 'api' && line.doc.message === 'request' && ecsField(line.doc, 'http.request.id') === answered.requestId);
    expect(apiLine && missingEcsFields(apiLine.doc)).toEqual([]);
    expect(apiLine && ecsField(apiLine.doc, 'trace.id')).toBeUndefined();
  });
});
