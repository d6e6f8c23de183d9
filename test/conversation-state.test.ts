import { describe, expect, it } from 'vitest';
import { ConversationState, maxMessagesPerTurn } from '../workflows/conversation-state';
import type { ConversationSettings, InboundMessage, Reply } from '../workflows/messages';
import {
  codecOverheadBytes,
  encodedBytes,
  historyBytesPerRun,
  payloadBudgetBytes,
  turnTextBudgetBytes,
  utf8Bytes,
  windowBudgetBytes,
} from '../workflows/payload-budget';

const settings: ConversationSettings = {
  systemPrompt: 'test',
  contextTokenBudget: 100,
  summaryMaxTokens: 50,
  idleTimeoutMs: 60_000,
  maxTurnsPerRun: 3,
  maxSignalsPerRun: 10,
  dedupeWindow: 3,
  archiveEveryTurns: 2,
};

const message = (id: string, text = `text of ${id}`): InboundMessage => ({ messageId: id, text, receivedAt: '2026-01-01T00:00:00Z' });
const reply = (text: string, inReplyTo: string[]): Reply => ({
  replyId: `r-${inReplyTo.join('+')}`,
  inReplyTo,
  text,
  provider: 'p',
  model: 'm',
  usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
  kind: 'answer',
  createdAt: '2026-01-01T00:00:01Z',
});

/** A run the server has nothing to say about: no suggestion, a small history. */
const quietRun = { suggested: false, historyBytes: 10_000, nowMs: 0 };

describe('ConversationState', () => {
  it('when a message id repeats then the repeat is ignored and counted', () => {
    const state = new ConversationState(settings);
    expect(state.acceptMessage(message('a'))).toBe('accepted');
    expect(state.acceptMessage(message('a'))).toBe('duplicate');
    expect(state.pendingCount()).toBe(1);
    expect(state.counters.duplicatesIgnored).toBe(1);
  });

  it('when more ids than the dedupe window arrive then only the oldest is forgotten', () => {
    const state = new ConversationState(settings);
    for (const id of ['a', 'b', 'c', 'd']) state.acceptMessage(message(id));
    expect(state.acceptMessage(message('a'))).toBe('accepted');
    expect(state.acceptMessage(message('d'))).toBe('duplicate');
  });

  it('when the same reset request arrives twice then the context is reset once', () => {
    const state = new ConversationState(settings);
    expect(state.acceptReset('tg:9')).toBe('accepted');
    expect(state.acceptReset('tg:9')).toBe('duplicate');
    expect(state.takeNext()).toEqual({ kind: 'reset' });
    expect(state.takeNext()).toEqual({ kind: 'none' });
    expect(state.snapshot('c').counters.duplicatesIgnored).toBe(1);
  });

  it('when several messages wait then one turn takes them all, stopping at a reset', () => {
    const state = new ConversationState(settings);
    state.acceptMessage(message('a'));
    state.acceptMessage(message('b'));
    state.acceptReset('x');
    state.acceptMessage(message('c'));
    expect(state.takeNext()).toEqual({ kind: 'turn', messages: [message('a'), message('b')] });
    expect(state.takeNext()).toEqual({ kind: 'reset' });
    expect(state.takeNext()).toEqual({ kind: 'turn', messages: [message('c')] });
    expect(state.takeNext()).toEqual({ kind: 'none' });
  });

  it('when the window exceeds the token budget then the oldest turns are folded and the newest stays', () => {
    const state = new ConversationState(settings);
    for (const id of ['a', 'b', 'c']) state.recordTurn([message(id, 'x'.repeat(120))], reply('y'.repeat(80), [id]));
    const fold = state.turnsToFold();
    expect(fold.map((t) => t.number)).toEqual([1, 2]);
    state.applySummary('short summary', fold.length);
    expect(state.window.map((t) => t.number)).toEqual([3]);
    expect(state.summary).toBe('short summary');
  });

  it('when restoring a snapshot then answered messages still pending are dropped and numbering continues', () => {
    const state = new ConversationState(settings);
    state.acceptMessage(message('old'));
    state.acceptMessage(message('new'));
    state.restore({ summary: 's', window: [], seenMessageIds: ['old'], turnCount: 7, savedAt: '2026-01-01T00:00:00Z' });
    expect(state.takeNext()).toEqual({ kind: 'turn', messages: [message('new')] });
    expect(state.recordTurn([message('new')], reply('r', ['new'])).number).toBe(8);
    expect(state.acceptMessage(message('old'))).toBe('duplicate');
  });

  it('when a run reaches its turn or signal limit then it asks to continue as new', () => {
    const byTurns = new ConversationState(settings);
    for (const id of ['a', 'b', 'c']) byTurns.recordTurn([message(id)], reply('r', [id]));
    expect(byTurns.shouldContinueAsNew(quietRun)).toBe(true);
    const bySignals = new ConversationState(settings);
    for (let i = 0; i < 10; i++) bySignals.acceptMessage(message('same'));
    expect(bySignals.shouldContinueAsNew(quietRun)).toBe(true);
    expect(new ConversationState(settings).shouldContinueAsNew({ ...quietRun, suggested: true })).toBe(true);
    expect(new ConversationState(settings).shouldContinueAsNew(quietRun)).toBe(false);
  });

  it('when state is carried to a new run then summary, window, dedupe set and inbox survive', () => {
    const state = new ConversationState(settings);
    state.recordTurn([message('a')], reply('r', ['a']));
    state.acceptMessage(message('b'));
    state.applySummary('sum', 0);
    const next = new ConversationState(settings, JSON.parse(JSON.stringify(state.carry())));
    expect(next.summary).toBe('sum');
    expect(next.window).toHaveLength(1);
    expect(next.acceptMessage(message('b'))).toBe('duplicate');
    expect(next.pendingCount()).toBe(1);
    expect(next.turnsThisRun).toBe(0);
  });

  it('when a flood of messages waits then one turn takes at most maxMessagesPerTurn and the rest wait', () => {
    const state = new ConversationState({ ...settings, dedupeWindow: 100 });
    for (let i = 0; i < maxMessagesPerTurn + 5; i++) state.acceptMessage(message(`m${i}`));
    const first = state.takeNext();
    expect(first.kind === 'turn' && first.messages.length).toBe(maxMessagesPerTurn);
    const second = state.takeNext();
    expect(second.kind === 'turn' && second.messages.length).toBe(5);
  });

  it('when a signal is not a message then it is ignored and counted, not thrown', () => {
    const state = new ConversationState(settings);
    expect(state.acceptMessage({ text: 'no id' } as unknown as InboundMessage)).toBe('malformed');
    expect(state.hasWork()).toBe(false);
    expect(state.counters.malformedIgnored).toBe(1);
  });

  it('when the reply is an apology then it is archived but kept out of the model context', () => {
    const state = new ConversationState(settings);
    state.recordTurn([message('a')], { ...reply('sorry', ['a']), kind: 'apology' });
    expect(state.window).toEqual([]);
    expect(state.unarchived).toHaveLength(1);
    expect(state.counters.apologies).toBe(1);
  });

  it('when counters were saved with the context then a restored run continues them', () => {
    const state = new ConversationState(settings);
    state.acceptMessage(message('new'));
    const counters = { messagesReceived: 5, duplicatesIgnored: 1, replies: 5, apologies: 0, summaries: 2, resets: 1, malformedIgnored: 0 };
    state.restore({ summary: '', window: [], seenMessageIds: [], turnCount: 5, counters, savedAt: '2026-01-01T00:00:00Z' });
    expect(state.counters).toMatchObject({ messagesReceived: 6, replies: 5, summaries: 2, resets: 1 });
  });

  describe('byte budget', () => {
    /** A maximum-size message: 16,000 CJK characters, 48,000 bytes of UTF-8. */
    const cjk = '漢'.repeat(16_000);
    const big = (id: string) => message(id, cjk);

    it('when maximum-size CJK messages queue up then a turn takes only as many as fit its text budget, at least one', () => {
      const state = new ConversationState({ ...settings, dedupeWindow: 100 });
      for (let i = 0; i < 5; i++) state.acceptMessage(big(`b${i}`));
      const sizes = [1, 2, 3].map(() => {
        const work = state.takeNext();
        return work.kind === 'turn' ? work.messages.reduce((n, m) => n + utf8Bytes(m.text), 0) : -1;
      });
      expect(sizes).toEqual([96_000, 96_000, 48_000]);
      expect(sizes.every((bytes) => bytes <= turnTextBudgetBytes)).toBe(true);
    });

    it('when one message alone is over the turn budget then it still gets its own turn', () => {
      const state = new ConversationState(settings);
      state.acceptMessage({ ...message('huge', 'preview…'), textRef: { key: 'k', sha256: 's', bytes: 10 * turnTextBudgetBytes, chars: 1 } });
      state.acceptMessage(message('small'));
      const work = state.takeNext();
      expect(work.kind === 'turn' && work.messages.map((m) => m.messageId)).toEqual(['huge']);
    });

    it('when the window holds more bytes than its budget then the oldest turns are folded, however few tokens the budget sees', () => {
      const state = new ConversationState({ ...settings, contextTokenBudget: 1_000_000 });
      for (const id of ['a', 'b', 'c']) state.recordTurn([message(id, 'x'.repeat(40_000))], reply('ok', [id]));
      const folded = state.turnsToFold();
      expect(folded.map((t) => t.messages[0]!.messageId)).toEqual(['a']);
      expect(encodedBytes(state.window.slice(folded.length))).toBeLessThanOrEqual(windowBudgetBytes + 2 * codecOverheadBytes);
    });

    it('when unarchived turns outgrow the payload budget then a segment takes only as many as fit', () => {
      const state = new ConversationState({ ...settings, archiveEveryTurns: 100, maxTurnsPerRun: 100 });
      for (let i = 0; i < 12; i++) {
        state.recordTurn([message(`m${i}`, 'y'.repeat(30_000))], reply('z'.repeat(30_000), [`m${i}`]));
        state.dropFromWindow(state.turnsToFold().length);
      }
      expect(state.archiveDue()).toBe(true);
      const turns = state.nextSegmentTurns(encodedBytes({ context: state.contextSnapshot(new Date(0)) }));
      expect(turns.length).toBeGreaterThan(0);
      expect(turns.length).toBeLessThan(12);
      expect(encodedBytes({ turns, context: state.contextSnapshot(new Date(0)) })).toBeLessThanOrEqual(payloadBudgetBytes);
    });

    it('when the inbox is large then it is stashed for the next run, which puts it back before what arrived since', () => {
      const state = new ConversationState({ ...settings, dedupeWindow: 100 });
      for (let i = 0; i < 10; i++) state.acceptMessage(message(`q${i}`, 'w'.repeat(30_000)));
      const stash = state.stashable()!;
      expect(stash.inbox).toHaveLength(10);
      // Arrives while the stash is being stored: not in it, so it must travel inline.
      state.acceptMessage(message('during'));
      const carried = state.carryStashed(stash, [{ key: 'k', sha256: 's', bytes: 1, chars: 1 }]);
      expect(carried.inbox.map((item) => (item.kind === 'message' ? item.message.messageId : item.kind))).toEqual(['during']);

      const next = new ConversationState({ ...settings, dedupeWindow: 100 }, JSON.parse(JSON.stringify(carried)));
      next.acceptMessage(message('later'));
      next.unstash(JSON.parse(JSON.stringify(stash)));
      expect(next.pendingCount()).toBe(12);
      expect(next.acceptMessage(message('q3'))).toBe('duplicate');
      const first = next.takeNext();
      expect(first.kind === 'turn' && first.messages[0]!.messageId).toBe('q0');
      expect(new ConversationState(settings).stashable()).toBeUndefined();
    });

    it('when the history grows large then the run continues as new, unless storing its state failed a moment ago', () => {
      const state = new ConversationState(settings);
      expect(state.shouldContinueAsNew({ ...quietRun, historyBytes: historyBytesPerRun })).toBe(true);
      state.postponeContinueAsNew(60_000);
      expect(state.shouldContinueAsNew({ ...quietRun, historyBytes: historyBytesPerRun, nowMs: 59_999 })).toBe(false);
      expect(state.shouldContinueAsNew({ ...quietRun, historyBytes: historyBytesPerRun, nowMs: 60_000 })).toBe(true);
    });

    it('when replaying a run recorded before the budget then coalescing follows the old count-only rule', () => {
      const state = new ConversationState({ ...settings, dedupeWindow: 100 }, undefined, false);
      for (let i = 0; i < 5; i++) state.acceptMessage(big(`b${i}`));
      const work = state.takeNext();
      expect(work.kind === 'turn' && work.messages.length).toBe(5);
      expect(state.shouldContinueAsNew({ ...quietRun, historyBytes: historyBytesPerRun })).toBe(false);
    });
  });
});
