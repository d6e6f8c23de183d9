import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import proto from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apologyText } from '../workflows/conversation';
import { idleCloseSignal, messageSignal, searchAttributeKeys } from '../workflows/messages';
import { start as startWorker } from '../workers/main';
import { sharedWorkflowBundle, startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { recordingHistories, saveHistories } from './support/histories';
import { startOpenAiServer, type OpenAiServer, type RecordedRequest } from '../scripts/simulators/openai-server';

/** The text of every message the model was sent in one request. */
const contents = (request: RecordedRequest) => (request.body?.messages ?? []).map((m) => String(m.content));
const isSummaryRequest = (request: RecordedRequest) => contents(request)[0]?.startsWith('You maintain the running summary') ?? false;
const replyRequests = (server: OpenAiServer) => server.chatRequests.filter((r) => !isSummaryRequest(r));
/** The identities of the workers polling an engine's parked queue for workflow tasks. */
const parkedQueuePollers = async (engine: Engine) => {
  const { pollers } = await engine.temporal.workflowService.describeTaskQueue({
    namespace: engine.config.temporal.namespace,
    taskQueue: { name: `${engine.config.temporal.taskQueue}-parked` },
    taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (pollers ?? []).map((poller) => poller.identity);
};

/**
 * One engine + model server per describe block, a fresh conversation id per test, and (with RECORD_HISTORIES=1)
 * the test's workflow histories saved for the replay test.
 */
function conversationSuite(name: string, conversation: Record<string, unknown>, options: { archive?: 'directory' } = {}) {
  const suite = {
    server: undefined as unknown as OpenAiServer,
    engine: undefined as unknown as Engine,
    id: '',
    chat: (text: string, extra: Record<string, unknown> = {}) =>
      suite.engine.post('/api/v1/chat', { conversationId: suite.id, text, ...extra }),
    snapshot: async () => (await suite.engine.get(`/api/v1/conversations/${suite.id}`)).json(),
    /** The snapshot once the turn in flight has finished, summarizing included. */
    settled: () =>
      eventually(async () => {
        const snapshot = await suite.snapshot();
        return snapshot.status === 'waiting' && snapshot.pendingCount === 0 && snapshot;
      }),
    handle: () => suite.engine.temporal.workflow.getHandle(suite.engine.workflowId(suite.id)),
    /** The Redis key of the conversation's context snapshot. */
    contextKey: () => `${suite.engine.config.redis.keyPrefix}conv:{${suite.engine.workflowId(suite.id)}}:context`,
    /** Once the context snapshot is in Redis: the conversation was checkpointed (or closed). */
    checkpointed: () => eventually(async () => (await suite.engine.redis.exists(suite.contextKey())) === 1 || undefined, { what: 'a checkpoint' }),
    /** Once the conversation's run has completed: an idle close. */
    closed: () => eventually(async () => (await suite.handle().describe()).status.name === 'COMPLETED', { what: 'idle close' }),
    runs: async () => {
      const runs: { status: string }[] = [];
      const query = `WorkflowId = '${suite.engine.workflowId(suite.id)}'`;
      for await (const run of suite.engine.temporal.workflow.list({ query })) runs.push({ status: run.status.name });
      return runs;
    },
  };
  let n = 0;
  beforeAll(async () => {
    suite.server = await startOpenAiServer({ apiKey: 'sk-test' });
    suite.engine = await startEngine({
      providers: [{ name: 'fake', type: 'openai-compatible', endpoint: suite.server.url, api_key: 'sk-test', model: 'test-model', timeout: '10s' }],
      app: { conversation },
      ...options,
    });
  });
  afterAll(async () => {
    await suite.engine?.stop();
    await suite.server?.close();
  });
  beforeEach(() => {
    suite.server.reset();
    suite.id = `${name}${++n}-${Date.now()}`;
  });
  afterEach(async () => {
    if (recordingHistories()) await saveHistories(suite.engine.temporal, suite.engine.workflowId(suite.id), `${name}-${n}`);
  });
  return suite;
}

describe('conversation workflow', () => {
  // A long idle timeout: these tests must never race an idle close.
  const suite = conversationSuite('conversation', {
    context_token_budget: 120,
    summary_max_tokens: 40,
    idle_timeout: '5m',
    max_turns_per_run: 3,
    archive_every_turns: 2,
  });
  const { chat } = suite;

  it('when the same messageId arrives twice then only one turn answers it', async () => {
    const a = await chat('only once', { messageId: 'm-1', wait: false });
    const b = await chat('only once', { messageId: 'm-1', wait: false });
    expect([a.status, b.status]).toEqual([202, 202]);
    const reply = await eventually(async () => (await chat('only once', { messageId: 'm-1' })).json().then((r) => r.reply));
    expect(reply.inReplyTo).toEqual(['m-1']);
    const snapshot = await suite.snapshot();
    expect(snapshot.turnCount).toBe(1);
    expect(snapshot.counters.duplicatesIgnored).toBeGreaterThanOrEqual(1);
    expect(replyRequests(suite.server)).toHaveLength(1);
  });

  it('when messages arrive during a slow turn then the next turn answers them together with one reply', async () => {
    const { server } = suite;
    server.setDelayMs(300);
    await chat('first', { messageId: 'q1', wait: false });
    await eventually(() => server.inFlight > 0, { what: 'the first model call' });
    await chat('second', { messageId: 'q2', wait: false });
    await chat('third', { messageId: 'q3', wait: false });
    const reply = await eventually(async () => (await (await chat('third', { messageId: 'q3' })).json()).reply);
    expect(reply.inReplyTo).toEqual(['q2', 'q3']);
    const requests = replyRequests(server);
    expect(requests).toHaveLength(2);
    expect(contents(requests[1]!).slice(-2)).toEqual(['second', 'third']);
  });

  it('when the context outgrows its token budget then old turns are folded into a summary the model sees', async () => {
    for (let i = 1; i <= 4; i++) await chat(`fact number ${i}: ${'detail '.repeat(20)}`);
    const snapshot = await suite.settled();
    expect(snapshot.summary).not.toBe('');
    expect(snapshot.recentTurns.length).toBeLessThan(4);
    expect(suite.server.chatRequests.some(isSummaryRequest)).toBe(true);
    await chat('what do you remember?');
    const last = replyRequests(suite.server).at(-1)!;
    expect(contents(last).some((c) => c.includes(snapshot.summary))).toBe(true);
  });

  it('when a run reaches its turn limit then it continues as new keeping summary, window, dedupe set and history', async () => {
    for (let i = 1; i <= 3; i++) await chat(`turn ${i}: ${'detail '.repeat(20)}`, { messageId: `can-${i}` });
    await eventually(async () => (await suite.runs()).some((run) => run.status === 'CONTINUED_AS_NEW'), {
      what: 'continue-as-new',
    });
    // The new run has answered nothing yet: everything it knows was carried over, its search attributes too.
    const described = await suite.handle().describe();
    expect(described.typedSearchAttributes.get(searchAttributeKeys.user)).toBe('anonymous');
    expect(described.typedSearchAttributes.get(searchAttributeKeys.turns)).toBe(3);
    const carried = await suite.settled();
    expect(carried.counters.turnsThisRun).toBe(0);
    expect(carried.turnCount).toBe(3);
    expect(carried.summary).not.toBe('');
    expect(carried.recentTurns.at(-1).number).toBe(3);

    // Straight to the workflow, past the API's reply index: only the carried dedupe set can stop this.
    await suite.handle().signal(messageSignal, { messageId: 'can-1', text: 'turn 1 again', receivedAt: new Date().toISOString() });
    await eventually(async () => (await suite.snapshot()).counters.duplicatesIgnored > carried.counters.duplicatesIgnored);

    await chat('turn 4', { messageId: 'can-4' });
    const turn4 = contents(replyRequests(suite.server).at(-1)!);
    expect(turn4.some((c) => c.includes(carried.summary))).toBe(true);
    expect(turn4).toContain(carried.recentTurns.at(-1).messages[0].text);

    const history = await (await suite.engine.get(`/api/v1/conversations/${suite.id}/messages`)).json();
    const users = history.messages.filter((m: { role: string }) => m.role === 'user');
    expect(users.map((m: { id: string }) => m.id)).toEqual(['can-1', 'can-2', 'can-3', 'can-4']);
    expect(users.map((m: { turn: number }) => m.turn)).toEqual([1, 2, 3, 4]);
  });

  it('when the user resets then the model no longer sees earlier turns, and the history keeps them', async () => {
    await chat('my name is Ada');
    expect((await suite.engine.post(`/api/v1/conversations/${suite.id}/reset`)).status).toBe(202);
    await chat('what is my name?');
    const last = contents(replyRequests(suite.server).at(-1)!);
    expect(last).not.toContain('my name is Ada');
    const history = await (await suite.engine.get(`/api/v1/conversations/${suite.id}/messages`)).json();
    expect(history.messages.map((m: { text: string }) => m.text)).toContain('my name is Ada');
  });

  it('when every provider rejects the request then the user gets a short apology, not silence', async () => {
    suite.server.setFault(400);
    const response = await chat('this will fail');
    expect(response.status).toBe(200);
    const { reply } = await response.json();
    expect(reply.kind).toBe('apology');
    expect(reply.text).toBe(apologyText);
    expect(replyRequests(suite.server)).toHaveLength(1);
  });

  it('when an operator cancels the conversation then its unarchived turns still reach the history', async () => {
    await chat('keep this turn');
    await suite.handle().cancel();
    await eventually(async () => (await suite.handle().describe()).status.name === 'CANCELLED', { what: 'cancellation' });
    const history = await (await suite.engine.get(`/api/v1/conversations/${suite.id}/messages`)).json();
    expect(history.messages.map((m: { text: string }) => m.text)).toContain('keep this turn');
  });

  it('when the provider rejects the full context then the turn is retried with the summary only', async () => {
    await chat('a long earlier message');
    suite.server.script(400, 'ok');
    const { reply } = await (await chat('and now?')).json();
    expect(reply.kind).toBe('answer');
    const [rejected, retried] = replyRequests(suite.server).slice(-2);
    expect(contents(rejected!)).toContain('a long earlier message');
    expect(contents(retried!)).not.toContain('a long earlier message');
  });
});

describe('idle close and restore', () => {
  const suite = conversationSuite('idle', { idle_timeout: '2s' }, { archive: 'directory' });
  const { chat, closed } = suite;

  it('when a conversation idles then it closes, and the next message restores its context from Redis', async () => {
    await chat('remember the word pineapple');
    await closed();
    const snapshot = await suite.snapshot();
    expect(snapshot.status).toBe('closed');
    expect(snapshot.turnCount).toBe(1);
    // Only Redis can restore it now.
    rmSync(join(suite.engine.config.archiveDir, 'conversations', encodeURIComponent(suite.engine.workflowId(suite.id))), {
      recursive: true,
    });
    await chat('which word?');
    expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word pineapple');
  });

  it('when Redis lost the snapshot then the next run restores the context from the archive, and history spans both runs', async () => {
    await chat('remember the word mango');
    await closed();
    expect(await suite.engine.redis.del(suite.contextKey())).toBe(1);
    await chat('which fruit?');
    expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word mango');
    const history = await (await suite.engine.get(`/api/v1/conversations/${suite.id}/messages`)).json();
    expect(history.messages.filter((m: { role: string }) => m.role === 'user').map((m: { text: string }) => m.text)).toEqual([
      'remember the word mango',
      'which fruit?',
    ]);
    expect((await suite.snapshot()).counters.messagesReceived).toBe(2);
  });

  it('when a turn asks the model then its history carries the earlier turns as texts only, without their ids, times and usage', async () => {
    const first = await (await chat('kiwi is my favourite fruit')).json();
    await chat('and mango?');
    const { EventType } = proto.temporal.api.enums.v1;
    const scheduled = ((await suite.handle().fetchHistory()).events ?? [])
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.activityTaskScheduledEventAttributes!)
      .filter((a) => a.activityType?.name === 'generateReply');
    const converter = suite.engine.temporal.options.loadedDataConverter;
    const input = await decodeFromPayloadsAtIndex<{ window: unknown[] }>(converter, 0, scheduled.at(-1)!.input?.payloads);
    expect(input.window).toEqual([{ messages: [{ text: 'kiwi is my favourite fruit' }], reply: { text: first.reply.text } }]);
  });
});

describe('idle close after a checkpoint', () => {
  // Parking off, the default: a checkpointed conversation keeps no idle timer; the workers' idle closer asks it to close.
  const suite = conversationSuite('closer', { idle_timeout: '4s', quiet_period: '1s' });
  const { EventType } = proto.temporal.api.enums.v1;
  const { checkpointed, closed } = suite;

  it('when a checkpointed conversation has been idle for its timeout then the idle closer closes it, the run having no timer of its own', async () => {
    await suite.chat('remember the word lime');
    await closed();
    const events = (await suite.handle().fetchHistory()).events ?? [];
    const checkpoint = events.findLastIndex((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    const request = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'idle-close');
    expect(request).toBeGreaterThan(checkpoint);
    expect(events.slice(checkpoint, request).filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)).toEqual([]);
    expect(events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    await suite.chat('which fruit?');
    expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word lime');
  });

  it('when no worker runs past a checkpointed conversation\'s idle timeout then it closes once one starts again', async () => {
    await suite.chat('remember the word pear');
    await checkpointed();
    await suite.engine.stopWorker();
    try {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    } finally {
      await suite.engine.startWorker();
    }
    await closed();
    await suite.chat('which fruit?');
    expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word pear');
  });

  it('when a conversation is asked to close before it has been idle for its timeout then it stays open and answers in the same run', async () => {
    await suite.chat('remember the word quince');
    await checkpointed();
    await suite.handle().signal(idleCloseSignal);
    const response = await suite.chat('which fruit?');
    expect(response.status).toBe(200);
    expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word quince');
    expect((await suite.runs()).map((run) => run.status)).toEqual(['RUNNING']);
    await closed();
  });

  it('when parking is off and nothing was ever parked then no worker polls the parked queue', async () => {
    await suite.chat('hello');
    expect(await parkedQueuePollers(suite.engine)).toEqual([]);
  });
});

describe('quiet checkpoint and parking', () => {
  const suite = conversationSuite('parked', { idle_timeout: '8s', quiet_period: '1s', park_after: '1s' }, { archive: 'directory' });
  const { EventType } = proto.temporal.api.enums.v1;
  const parkedQueue = () => `${suite.engine.config.temporal.taskQueue}-parked`;
  /** The run waiting on the parked queue, once the conversation has been quiet for the quiet period. */
  const parked = () =>
    eventually(async () => {
      const run = await suite.handle().describe();
      return run.status.name === 'RUNNING' && run.taskQueue === parkedQueue() && run;
    }, { what: 'a parked run' });

  it('when a conversation has been quiet for the quiet period then it is checkpointed and parked, and its idle close writes nothing', async () => {
    await suite.chat('remember the word kiwi');
    const run = await parked();
    // Checkpointed before it parked: the context is in Redis while the conversation is still open.
    expect(await suite.engine.redis.exists(suite.contextKey())).toBe(1);
    await suite.closed();

    // The parked run closed without an activity: it had nothing left to write.
    const types = ((await suite.engine.temporal.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events ?? []).map((e) => e.eventType);
    expect(types).toContain(EventType.EVENT_TYPE_TIMER_FIRED);
    expect(types.at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    expect(types.filter((t) => t === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toEqual([]);
    await suite.chat('which fruit?');
    expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word kiwi');
  });

  it('when a parked conversation gets a message then it answers it with its context, back on the conversations\' queue', async () => {
    await suite.chat('remember the word plum');
    await parked();
    const response = await suite.chat('which fruit?');
    expect(response.status).toBe(200);
    expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word plum');
    const run = await suite.handle().describe();
    expect([run.status.name, run.taskQueue]).toEqual(['RUNNING', suite.engine.config.temporal.taskQueue]);
    // Continued from the parked run, not started again after an idle close: the same conversation run chain.
    const statuses = (await suite.runs()).map((r) => r.status);
    expect(statuses.filter((status) => status === 'CONTINUED_AS_NEW')).toHaveLength(2);
    expect(statuses).not.toContain('COMPLETED');
  });

  it('when a run parked under parking on meets workers with parking off (a rolling change) then they serve the parked queue and it answers', async () => {
    const { engine } = suite;
    await suite.chat('remember the word date');
    await parked();
    const query = `WorkflowId = '${engine.workflowId(suite.id)}' AND TaskQueue = '${parkedQueue()}' AND ExecutionStatus = 'Running'`;
    await eventually(async () => (await engine.temporal.workflow.count(query)).count === 1 || undefined, { what: 'the parked run in visibility' });
    await engine.stopWorker();
    const notParking = await startWorker({
      config: { ...engine.config, conversation: { ...engine.config.conversation, parkAfter: null } },
      workflowBundle: await sharedWorkflowBundle(),
    });
    try {
      const response = await suite.chat('which fruit?');
      expect(response.status).toBe(200);
      expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word date');
    } finally {
      await notParking.stop();
      await engine.startWorker();
    }
  });
});

describe('parking after a longer pause than the checkpoint', () => {
  const suite = conversationSuite('park-later', { idle_timeout: '60s', quiet_period: '1s', park_after: '6s' });

  it('when a conversation has been quiet for the quiet period but not park_after then it is checkpointed and stays on the conversations\' queue, and parks later', async () => {
    await suite.chat('remember the word fig');
    await suite.checkpointed();
    expect((await suite.handle().describe()).taskQueue).toBe(suite.engine.config.temporal.taskQueue);
    await eventually(async () => (await suite.handle().describe()).taskQueue === `${suite.engine.config.temporal.taskQueue}-parked` || undefined, {
      what: 'a parked run',
    });
    await suite.chat('which fruit?');
    expect(contents(replyRequests(suite.server).at(-1)!)).toContain('remember the word fig');
  });
});
