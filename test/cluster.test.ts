/**
 * The cluster profile as `npm run start:cluster` runs it: Temporal's real server on a private PostgreSQL, its web
 * UI, two workers and two API replicas behind one port.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '../scripts/cluster';
import type { StackHandle } from '../scripts/stack';
import { testEnvironment } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { freePort, freePortBlock } from '../lib/free-ports';
import { collectSse, type SseEvent } from './support/sse';
import { bearer } from './support/tokens';

const run = promisify(execFile);
const longAnswer = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');

describe("the cluster profile: Temporal's server on PostgreSQL, two workers, two API replicas", () => {
  let model: OpenAiServer;
  let cluster: StackHandle;
  let dataDir: string;
  let postgresPort: number;
  let auth: Record<string, string>;
  const output: string[] = [];

  beforeAll(async () => {
    model = await startOpenAiServer();
    const env = testEnvironment({
      providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model', timeout: '60s' }],
    });
    auth = await bearer(env);
    dataDir = mkdtempSync(join(tmpdir(), 'aac-cluster-'));
    chmodSync(dataDir, 0o755); // a root run starts PostgreSQL as `postgres`, which must reach its data in here
    postgresPort = await freePort();
    cluster = await startCluster({
      env: { ...env, DATA_DIR: dataDir },
      port: await freePortBlock(103), // the balancer's port, and the replicas' at +101 and +102
      temporalPort: await freePortBlock(9),
      temporalUiPort: await freePort(),
      postgresPort,
      historyShards: 2,
      workers: 2,
      apiReplicas: 2,
      restartPolicy: { initialDelayMs: 200, maxDelayMs: 1000, resetAfterMs: 60_000 },
      log: (line) => output.push(line),
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${output.slice(-30).join('\n')}`, { cause: error });
    });
  }, 600_000);
  afterAll(async () => {
    await cluster?.stop();
    await model?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  const chat = async (conversationId: string, text: string, wait = true) => {
    const response = await fetch(`${cluster.urls.api}/api/v1/chat`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId, text, wait }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('answers through the balancer, from each replica, and keeps its workflows in PostgreSQL', async () => {
    const answered = await chat('on-postgres', 'hello cluster');
    expect(answered.status).toBe(200);
    expect(answered.body.reply.text).toBe('Answer to: hello cluster');

    expect(cluster.urls.apiReplicas).toHaveLength(2);
    expect(cluster.apiPids()).toHaveLength(2);
    for (const replica of cluster.urls.apiReplicas!) {
      const snapshot = await fetch(`${replica}/api/v1/conversations/on-postgres`, { headers: auth });
      expect(snapshot.status).toBe(200);
      expect(((await snapshot.json()) as { turnCount: number }).turnCount).toBe(1);
    }

    const { stdout } = await run('psql', ['-h', '127.0.0.1', '-p', String(postgresPort), '-U', 'temporal', '-d', 'temporal', '-tAc',
      'select workflow_id from current_executions']);
    expect(stdout).toContain('on-postgres');
  });

  it('shows the conversation in the Temporal UI served for the cluster', async () => {
    const response = await fetch(`${cluster.urls.temporalUi}/api/v1/namespaces/default/workflows?query=${encodeURIComponent("ChatChannel='api'")}`);
    expect(response.status).toBe(200);
    const { executions } = (await response.json()) as { executions: { execution: { workflowId: string } }[] };
    expect(executions.map((e) => e.execution.workflowId).some((id) => id.includes('on-postgres'))).toBe(true);
  });

  it('when a worker is SIGKILLed mid-reply then every message is still answered exactly once, in order', async () => {
    model.setAnswer(() => longAnswer);
    model.setDelayMs(50);
    const first = await chat('survivor', 'first', false);
    expect(first.status).toBe(202);
    let seen: SseEvent[] = [];
    const streamed = collectSse(
      `${cluster.urls.api}${first.body.eventsUrl}`,
      (events) => {
        seen = events;
        return events.filter((e) => e.event === 'reply').length >= 2;
      },
      { headers: auth, timeoutMs: 180_000 },
    );
    await eventually(() => seen.some((e) => e.event === 'token'), { what: 'tokens of the first reply' });
    const [victim] = cluster.workerPids();
    process.kill(victim!, 'SIGKILL');
    const second = await chat('survivor', 'second', false);
    expect(second.status).toBe(202);

    const events = await streamed;
    const replies = events.filter((e) => e.event === 'reply').map((e) => JSON.parse(e.data).reply);
    expect(replies.map((r) => r.inReplyTo)).toEqual([[first.body.messageId], [second.body.messageId]]);
    expect(replies.every((r) => r.text === longAnswer)).toBe(true);
    await eventually(() => cluster.workerPids().length === 2 && !cluster.workerPids().includes(victim!), {
      what: 'the killed worker restarted',
    });
    const snapshot = (await (await fetch(`${cluster.urls.api}/api/v1/conversations/survivor`, { headers: auth })).json()) as { turnCount: number };
    expect(snapshot.turnCount).toBe(2);
  });
});
