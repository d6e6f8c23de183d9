import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { testServices } from './support/services';

/** What an operator gets from `temporal workflow list --query …` (the CLI the project provisions). */
function listWorkflowIds(query: string): string[] {
  const { temporalCliPath, temporalAddress } = testServices();
  const out = execFileSync(temporalCliPath, ['workflow', 'list', '--address', temporalAddress, '--query', query, '-o', 'json']);
  return (JSON.parse(out.toString() || '[]') as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId);
}

describe('conversations in the Temporal UI', () => {
  let engine: Engine;
  const user = `ops-${Date.now()}`;
  let alice: Record<string, string>;
  beforeAll(async () => {
    // Refreshed every second here (a minute by default), so the throttled attributes catch up within the test.
    engine = await startEngine({ app: { conversation: { idle_timeout: '3s', quiet_period: '1s' } } });
    alice = await engine.as(user);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('when a user chats then search attributes, summary, details and activity summaries describe the conversation', async () => {
    const before = new Date(Date.now() - 60_000).toISOString();
    for (const text of ['hello', 'and again']) {
      expect((await engine.post('/api/v1/chat', { conversationId: 'ops', text }, alice)).status).toBe(200);
    }
    const workflowId = `api:${user}:ops`;

    for (const query of [
      `ChatUser = "${user}"`,
      `ChatUser = "${user}" AND ChatChannel = "api"`,
      `ChatUser = "${user}" AND ChatTurns >= 2`,
      `ChatUser = "${user}" AND ChatStatus = "waiting"`,
      `ChatUser = "${user}" AND ChatLastActiveAt > "${before}"`,
    ]) {
      expect(await eventually(() => listWorkflowIds(query).includes(workflowId) || undefined, { what: query })).toBe(true);
    }
    expect(listWorkflowIds(`ChatUser = "${user}" AND ChatTurns > 2`)).toEqual([]);

    // The run the edge started carries the summary (a run continued as new, e.g. parked once quiet, has none).
    const firstRunId = (await engine.temporal.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.firstRunId ?? '';
    const first = engine.temporal.workflow.getHandle(workflowId, firstRunId);
    expect(await (await first.describe()).staticSummary()).toBe(`API conversation "ops" with ${user}`);
    // The current run's details, whichever run it is.
    const metadata = await engine.temporal.workflow.getHandle(workflowId).query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('**Turns** 2');
    expect(metadata.currentDetails).toContain('**Last reply** via dev/echo');

    const { temporalCliPath, temporalAddress } = testServices();
    const showFirst = ['workflow', 'show', '--address', temporalAddress, '-w', workflowId, '-r', firstRunId, '-o', 'json'];
    const history = execFileSync(temporalCliPath, showFirst);
    const summaries = (JSON.parse(history.toString()).events as { userMetadata?: { summary?: { data: string } } }[])
      .flatMap((e) => (e.userMetadata?.summary ? [JSON.parse(Buffer.from(e.userMetadata.summary.data, 'base64').toString())] : []));
    expect(summaries).toEqual(expect.arrayContaining(['reply to 1 message']));
  });

  it('when a user chats quickly then search attributes are written less often than turns and catch up once it is quiet', async () => {
    const turns = 16;
    for (let i = 0; i < turns; i++) {
      expect((await engine.post('/api/v1/chat', { conversationId: 'busy', text: `quick ${i}` }, alice)).status).toBe(200);
    }
    const workflowId = `api:${user}:busy`;

    const query = `ChatUser = "${user}" AND ChatTurns = ${turns} AND ChatStatus = "waiting"`;
    expect(await eventually(() => listWorkflowIds(query).includes(workflowId) || undefined, { what: query })).toBe(true);
    const { temporalCliPath, temporalAddress } = testServices();
    const history = execFileSync(temporalCliPath, ['workflow', 'show', '--address', temporalAddress, '-w', workflowId, '-o', 'json']);
    const upserts = (JSON.parse(history.toString()).events as { eventType: string }[])
      .filter((e) => e.eventType === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES').length;
    // Unthrottled, every turn wrote twice (thinking, then waiting).
    expect(upserts).toBeLessThan(turns);
  });

  it('when a conversation closes for idleness then it is listed as closed', async () => {
    await engine.post('/api/v1/chat', { conversationId: 'sleepy', text: 'bye' }, alice);
    const workflowId = `api:${user}:sleepy`;
    await eventually(() => listWorkflowIds(`ChatUser = "${user}" AND ChatStatus = "closed"`).includes(workflowId) || undefined, {
      what: 'ChatStatus closed',
    });
  });
});
