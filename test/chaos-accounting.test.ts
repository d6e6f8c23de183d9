import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { account, verdictOf } from '../scripts/chaos/accounting';
import type { DrillLog, FaultRecord, ObservedReply, SentMessage } from '../scripts/chaos/drill-log';
import { latencyStats } from '../scripts/chaos/latency-stats';
import { drillAnswer, marker, markersIn } from '../scripts/chaos/markers';
import { isLargeMessage, largeMessageChars, padWithCjk, plainText } from '../scripts/chaos/message-text';
import { parseDrillOptions, usage, type DrillOptions } from '../scripts/chaos/options';
import { defaultAnswer } from '../scripts/simulators/openai-server';
import { renderHtml, writeReport } from '../scripts/chaos/report-html';

const t0 = 1_700_000_000_000;

function sent(conversationId: string, index: number, sentAt = t0 + index * 1000): SentMessage {
  return { channel: 'api', conversationId, messageId: `${conversationId}-m${index}`, index, sentAt, acceptedAt: sentAt + 5 };
}

function reply(message: SentMessage | SentMessage[], replyId: string, at: number, extra: Partial<ObservedReply> = {}): ObservedReply {
  const answered = Array.isArray(message) ? message : [message];
  return { channel: 'api', conversationId: answered[0]!.conversationId, replyId, text: 'ok',
    inReplyTo: answered.map((m) => m.messageId), source: 'http', at, ...extra };
}

function sse(message: SentMessage | SentMessage[], replyId: string, at: number, eventId: string): ObservedReply {
  return reply(message, replyId, at, { source: 'sse', eventId });
}

function drill(messages: SentMessage[], replies: ObservedReply[], faults: FaultRecord[] = []): DrillLog {
  return { startedAt: t0, endedAt: t0 + 10_000, options: { quick: true }, messages, replies, faults };
}

/** Three messages in one conversation, each answered 100 ms after it was sent, over HTTP and SSE. */
function cleanDrill(): DrillLog {
  const messages = [0, 1, 2].map((i) => sent('c1', i));
  const replies = messages.flatMap((m, i) => [reply(m, `r${i}`, m.sentAt + 100), sse(m, `r${i}`, m.sentAt + 110, `${m.sentAt + 90}-0`)]);
  return drill(messages, replies);
}

describe('chaos drill accounting', () => {
  it('when every message gets exactly one reply in order then the drill is ok', () => {
    const report = account(cleanDrill());
    expect(report.ok).toBe(true);
    expect(report.channels).toHaveLength(1);
    expect(report.channels[0]).toMatchObject({ channel: 'api', sent: 3, delivered: 3, lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(report.channels[0]!.latency).toEqual({ count: 3, p50: 100, p95: 100, p99: 100, max: 100 });
    expect(report.channels[0]!.throughput).toBeCloseTo(0.3);
    expect(report.latencySeries.map((p) => [p.t, p.latencyMs])).toEqual([[0, 100], [1, 100], [2, 100]]);
  });

  it('when a message never gets a reply then it is lost and the drill is not ok', () => {
    const [a, b] = [sent('c1', 0), sent('c1', 1)];
    const report = account(drill([a, b], [reply(a, 'r0', a.sentAt + 50)]));
    expect(report.ok).toBe(false);
    expect(report.channels[0]).toMatchObject({ delivered: 1, lost: 1 });
    expect(report.channels[0]!.offenders.lost).toEqual([{ conversationId: 'c1', messageId: b.messageId, index: 1 }]);
  });

  it('when the client ignores a message\'s reply then that message counts as lost even though the reply was logged', () => {
    const log = cleanDrill();
    log.ignoredMessageIds = [log.messages[1]!.messageId];
    const report = account(log);
    expect(report.ok).toBe(false);
    expect(report.ignoredMessages).toBe(1);
    expect(report.channels[0]!.offenders.lost.map((m) => m.index)).toEqual([1]);
  });

  it('when two distinct replies answer one message then it is duplicated', () => {
    const m = sent('c1', 0);
    const report = account(drill([m], [reply(m, 'r1', m.sentAt + 50), reply(m, 'r2', m.sentAt + 60)]));
    expect(report.ok).toBe(false);
    expect(report.channels[0]).toMatchObject({ delivered: 1, duplicated: 1 });
    expect(report.channels[0]!.offenders.duplicated.map((r) => r.messageId)).toEqual([m.messageId]);
  });

  it('when the same reply arrives once via HTTP and once via SSE then it is one delivery', () => {
    const m = sent('c1', 0);
    const report = account(drill([m], [reply(m, 'r1', m.sentAt + 50), sse(m, 'r1', m.sentAt + 55, `${m.sentAt + 45}-0`)]));
    expect(report.ok).toBe(true);
    expect(report.channels[0]!.duplicated).toBe(0);
    expect(report.channels[0]!.latency.max).toBe(50);
  });

  it('when the SSE stream re-sends the same event after a reconnect then it is one delivery', () => {
    const m = sent('c1', 0);
    const event = `${m.sentAt + 45}-0`;
    const report = account(drill([m], [sse(m, 'r1', m.sentAt + 50, event), sse(m, 'r1', m.sentAt + 900, event)]));
    expect(report.channels[0]!.duplicated).toBe(0);
  });

  it('when the same reply appears on the SSE stream twice under different event ids then it is duplicated', () => {
    const m = sent('c1', 0);
    const replies = [sse(m, 'r1', m.sentAt + 50, `${m.sentAt + 45}-0`), sse(m, 'r1', m.sentAt + 70, `${m.sentAt + 65}-0`)];
    const report = account(drill([m], replies));
    expect(report.ok).toBe(false);
    expect(report.channels[0]!.duplicated).toBe(1);
  });

  it('when replies arrive on the stream in a different order than their messages were sent then they are out of order', () => {
    const [a, b, c] = [0, 1, 2].map((i) => sent('c1', i)) as [SentMessage, SentMessage, SentMessage];
    // Observed in send order by the client clock, but the stream put c's reply before b's: the stream wins.
    const replies = [sse(a, 'ra', t0 + 3000, `${t0}-0`), sse(c, 'rc', t0 + 3001, `${t0}-1`), sse(b, 'rb', t0 + 3002, `${t0}-2`)];
    const report = account(drill([a, b, c], replies));
    expect(report.ok).toBe(false);
    expect(report.channels[0]).toMatchObject({ delivered: 3, lost: 0, duplicated: 0, outOfOrder: 1 });
    expect(report.channels[0]!.offenders.outOfOrder.map((m) => m.messageId)).toEqual([b.messageId]);
  });

  it('when replies are seen only over HTTP then their order follows when they were observed', () => {
    const [a, b] = [sent('c1', 0), sent('c1', 1)];
    const report = account(drill([a, b], [reply(b, 'rb', t0 + 2000), reply(a, 'ra', t0 + 2500)]));
    expect(report.channels[0]!.offenders.outOfOrder.map((m) => m.index)).toEqual([0]);
  });

  it('when a coalesced reply answers messages 3 and 4 after the reply to 2 then everything is in order', () => {
    const messages = [0, 1, 2, 3, 4].map((i) => sent('c1', i));
    const [m0, m1, m2, m3, m4] = messages as [SentMessage, SentMessage, SentMessage, SentMessage, SentMessage];
    const replies = [
      sse(m0, 'r0', t0 + 500, `${t0 + 400}-0`),
      sse(m1, 'r1', t0 + 1500, `${t0 + 1400}-0`),
      sse(m2, 'r2', t0 + 2500, `${t0 + 2400}-0`),
      sse([m3, m4], 'r34', t0 + 4500, `${t0 + 4400}-0`),
    ];
    const report = account(drill(messages, replies));
    expect(report.ok).toBe(true);
    expect(report.channels[0]).toMatchObject({ delivered: 5, outOfOrder: 0, duplicated: 0 });
  });

  it('when replies from different conversations interleave then each conversation is ordered on its own', () => {
    const [a0, a1, b0] = [sent('a', 0), sent('a', 1), sent('b', 0, t0 + 200)];
    const replies = [sse(a0, 'ra0', t0 + 100, `${t0 + 90}-0`), sse(b0, 'rb0', t0 + 300, `${t0 + 290}-0`), sse(a1, 'ra1', t0 + 1100, `${t0 + 1090}-0`)];
    expect(account(drill([a0, a1, b0], replies)).ok).toBe(true);
  });

  it('when a reply lands in another conversation than its message then the message is not delivered', () => {
    const m = sent('c1', 0);
    const report = account(drill([m], [{ ...reply(m, 'r1', m.sentAt + 50), conversationId: 'c2' }]));
    expect(report.channels[0]!.lost).toBe(1);
  });

  it('when a fault ends then recovery is the time until every message waiting then is answered', () => {
    const before = sent('c1', 0, t0 + 1000);
    const during = sent('c2', 0, t0 + 2000);
    const after = sent('c1', 1, t0 + 5000);
    const fault: FaultRecord = { kind: 'model-outage', detail: '500s for 3 s', startedAt: t0 + 1500, endedAt: t0 + 4500 };
    const replies = [reply(before, 'r0', t0 + 4700), reply(during, 'r1', t0 + 4900), reply(after, 'r2', t0 + 5300)];
    const report = account(drill([before, during, after], replies, [fault]));
    expect(report.faults).toEqual([{ ...fault, recoveryMs: 400, inFlightAtStart: 1 }]);
  });

  it('when nothing waits at the end of a fault then recovery is the first new message latency, think time excluded', () => {
    const m = sent('c1', 0, t0 + 9000);
    const fault: FaultRecord = { kind: 'worker-kill', detail: 'pid 42', startedAt: t0 + 4000, endedAt: t0 + 4000 };
    expect(account(drill([m], [reply(m, 'r0', t0 + 9250)], [fault])).faults[0]!.recoveryMs).toBe(250);
  });

  it('when nothing sent after a fault is answered then its recovery is null', () => {
    const m = sent('c1', 0, t0 + 5000);
    const fault: FaultRecord = { kind: 'worker-kill', detail: 'pid 42', startedAt: t0 + 4000, endedAt: t0 + 4000 };
    expect(account(drill([m], [], [fault])).faults[0]!.recoveryMs).toBeNull();
  });

  it('when percentiles are taken over 1..100 ms then nearest rank gives measured values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(latencyStats(values)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(latencyStats([7, 3, 5])).toEqual({ count: 3, p50: 5, p95: 7, p99: 7, max: 7 });
    expect(latencyStats([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null });
  });

  it('when the same log is accounted twice then the reports are identical', () => {
    const log = cleanDrill();
    const shuffled = { ...log, replies: [...log.replies].reverse(), messages: [...log.messages].reverse() };
    expect(account(shuffled)).toEqual(account(log));
  });
});

/** A Telegram user's message: its chat is the conversation. */
function tgSent(chatId: number, index: number, sentAt = t0 + index * 1000): SentMessage {
  return { channel: 'telegram', conversationId: `telegram:${chatId}`, messageId: `run-t${chatId}-m${index}`, index, sentAt };
}

/** A bot message in that chat as the drill's Telegram user saw it (complete unless `partial`). */
function tgReply(message: SentMessage | SentMessage[], messageId: number, at: number, extra: Partial<ObservedReply> = {}): ObservedReply {
  const answered = Array.isArray(message) ? message : [message];
  const chat = answered[0]!.conversationId.slice('telegram:'.length);
  return { channel: 'telegram', conversationId: answered[0]!.conversationId, replyId: `${chat}:${messageId}`,
    inReplyTo: answered.map((m) => m.messageId), text: 'Answer', source: 'telegram', position: messageId, kind: 'answer', at, ...extra };
}

describe('chaos drill accounting: telegram', () => {
  it('when API and Telegram users both chat then each channel is counted on its own', () => {
    const api = sent('c1', 0);
    const tg = tgSent(7, 0);
    const log = { ...drill([api, tg], [reply(api, 'r0', api.sentAt + 50), tgReply(tg, 1, tg.sentAt + 900)]), telegram: { uncertainSends: 0 } };
    const report = account(log);
    expect(report.ok).toBe(true);
    expect(report.channels.map((c) => c.channel)).toEqual(['api', 'telegram']);
    expect(report.channels[1]).toMatchObject({ sent: 1, delivered: 1, lost: 0, duplicated: 0, unattributed: 0,
      telegram: { uncertainSends: 0, leftoverPreviews: 0 } });
    expect(report.channels[1]!.latency.max).toBe(900);
    expect(report.channels[0]!.telegram).toBeUndefined();
  });

  it('when one bot message is seen complete twice (an edit repeated after a crash) then it is one delivery', () => {
    const m = tgSent(7, 0);
    const report = account(drill([m], [tgReply(m, 1, m.sentAt + 500), tgReply(m, 1, m.sentAt + 800)]));
    expect(report.channels[0]).toMatchObject({ delivered: 1, duplicated: 0 });
    expect(report.channels[0]!.latency.max).toBe(500);
  });

  it('when a preview is left unfinished and the answer is sent again as a new message then the message is duplicated', () => {
    const m = tgSent(7, 0);
    const leftover = tgReply(m, 1, t0 + 9000, { partial: true, kind: undefined });
    const log = { ...drill([m], [tgReply(m, 2, m.sentAt + 1500), leftover]), telegram: { uncertainSends: 0 } };
    const report = account(log);
    expect(report.ok).toBe(false);
    expect(report.channels[0]).toMatchObject({ delivered: 1, duplicated: 1, outOfOrder: 0,
      telegram: { uncertainSends: 0, leftoverPreviews: 1, duplicatesInSendWindow: false } });
    expect(report.channels[0]!.latency.max).toBe(1500);
  });

  it('when every extra bot message is one the engine counted as an uncertain send then the drill passes and says so', () => {
    const [a, b] = [tgSent(7, 0), tgSent(8, 0)];
    const leftover = tgReply(a, 1, t0 + 9000, { partial: true, kind: undefined });
    const replies = [tgReply(a, 2, a.sentAt + 1500), leftover, tgReply(b, 1, b.sentAt + 700), tgReply(b, 2, b.sentAt + 900)];
    const log = { ...drill([a, b], replies), telegram: { uncertainSends: 2 } };
    const report = account(log);
    expect(report.channels[0]).toMatchObject({ delivered: 2, duplicated: 2, telegram: { duplicatesInSendWindow: true } });
    expect(report.ok).toBe(true);
    expect(verdictOf(report)).toBe('PASS: nothing lost or reordered; 2 Telegram duplicated only within the documented send window');
    expect(renderHtml(report, log)).toContain('all within that documented window');
  });

  it('when one resent bot message answers two coalesced messages then one uncertain send covers it', () => {
    const [a, b] = [tgSent(7, 0), tgSent(7, 1)];
    const report = account({ ...drill([a, b], [tgReply([a, b], 1, b.sentAt + 500), tgReply([a, b], 2, b.sentAt + 600)]),
      telegram: { uncertainSends: 1 } });
    expect(report.channels[0]).toMatchObject({ delivered: 2, duplicated: 2, outOfOrder: 0, telegram: { duplicatesInSendWindow: true } });
    expect(report.ok).toBe(true);
  });

  it('when the chats hold more extra bot messages than uncertain sends then the drill fails', () => {
    const m = tgSent(7, 0);
    const replies = [tgReply(m, 1, m.sentAt + 500), tgReply(m, 2, m.sentAt + 600), tgReply(m, 3, m.sentAt + 700)];
    const report = account({ ...drill([m], replies), telegram: { uncertainSends: 1 } });
    expect(report.channels[0]).toMatchObject({ duplicated: 1, telegram: { duplicatesInSendWindow: false } });
    expect(report.ok).toBe(false);
    expect(verdictOf(report)).toBe('FAIL: messages lost, doubled or reordered');
  });

  it('when uncertain sends cover the duplicates but a message is lost then the drill still fails', () => {
    const [a, b] = [tgSent(7, 0), tgSent(7, 1)];
    const report = account({ ...drill([a, b], [tgReply(a, 1, a.sentAt + 500), tgReply(a, 2, a.sentAt + 600)]),
      telegram: { uncertainSends: 5 } });
    expect(report.channels[0]).toMatchObject({ lost: 1, duplicated: 1, telegram: { duplicatesInSendWindow: true } });
    expect(report.ok).toBe(false);
  });

  it('when the only bot message for a message is an unfinished preview then the message is lost', () => {
    const m = tgSent(7, 0);
    const report = account(drill([m], [tgReply(m, 1, t0 + 9000, { partial: true, kind: undefined })]));
    expect(report.channels[0]).toMatchObject({ delivered: 0, lost: 1, duplicated: 0, telegram: { uncertainSends: null, leftoverPreviews: 1 } });
  });

  it('when a message was complete and is later seen as a preview again then it delivered and is also left unfinished', () => {
    const m = tgSent(7, 0);
    const report = account(drill([m], [tgReply(m, 1, m.sentAt + 400), tgReply(m, 1, t0 + 9000, { partial: true })]));
    expect(report.channels[0]).toMatchObject({ delivered: 1, duplicated: 0, telegram: { leftoverPreviews: 1 } });
    expect(report.channels[0]!.latency.max).toBe(400);
  });

  it('when bot messages stand in the chat in another order than their messages were sent then they are out of order', () => {
    const [a, b] = [tgSent(7, 0), tgSent(7, 1)];
    // Seen complete in send order, but the chat shows b's answer above a's: the chat's order wins.
    const report = account(drill([a, b], [tgReply(a, 5, t0 + 3000), tgReply(b, 4, t0 + 3100)]));
    expect(report.channels[0]!.offenders.outOfOrder.map((m) => m.index)).toEqual([0]);
  });

  it('when a bot message names no message of its chat then it is unattributed, and an apology counts as one', () => {
    const [a, b] = [tgSent(7, 0), tgSent(7, 1)];
    const replies = [tgReply(a, 1, a.sentAt + 300, { kind: 'apology' }), tgReply(b, 2, b.sentAt + 300),
      tgReply(b, 3, t0 + 5000, { inReplyTo: [] }), tgReply(b, 4, t0 + 5100, { inReplyTo: ['run-t8-m0'] })];
    const report = account(drill([a, b], replies));
    expect(report.channels[0]).toMatchObject({ delivered: 2, apologies: 1, duplicated: 0, unattributed: 2 });
  });

  it('when the report has a telegram channel then the HTML shows the uncertain sends next to the duplicates', () => {
    const m = tgSent(7, 0);
    const log = { ...drill([m], [tgReply(m, 1, m.sentAt + 500)]), telegram: { uncertainSends: 3 } };
    const html = renderHtml(account(log), log);
    expect(html).toContain('<strong>3</strong> uncertain sends');
    expect(html).toContain('tg:uncertain-sends');
  });
});

describe('chaos drill telegram markers', () => {
  const body = (...messages: [string, string][]) => ({ model: 'm', messages: messages.map(([role, content]) => ({ role, content })) });

  it('when a turn coalesces two marked messages then the answer names both and nothing older', () => {
    const answer = drillAnswer(body(['system', 'be nice'], ['user', `${marker('r-t0-m0')} hi`], ['assistant', 'Answer to: {r-t0-m0}'],
      ['user', `${marker('r-t0-m1')} one`], ['user', `${marker('r-t0-m2')} two`]));
    expect(answer).toBe('Answer to: {r-t0-m1} {r-t0-m2}');
    expect(markersIn(answer)).toEqual(['r-t0-m1', 'r-t0-m2']);
  });

  it('when the messages carry no marker (API users, the summary request) then the default answer is used', () => {
    expect(drillAnswer(body(['user', 'message 0 of c1: lorem']))).toBe('Answer to: message 0 of c1: lorem');
    const summary = body(['system', 'You maintain the running summary'], ['user', 'Previous summary:\n(none)\n\nNew turns:\nUser: {r-t0-m0} hi']);
    expect(drillAnswer(summary)).toBe(defaultAnswer(summary));
  });

  it('when a preview shows a marker cut off mid-stream then no id is read from it', () => {
    expect(markersIn('Answer to: {r-t0-m1} {r-t0-m1')).toEqual(['r-t0-m1']);
    expect(markersIn('Answer to: {r-t0-m1 …')).toEqual([]);
  });
});

describe('chaos drill report files', () => {
  it('when ids contain markup then the HTML escapes them and still draws the chart', () => {
    const m = { ...sent('c1', 0), conversationId: '<script>alert(1)</script>', messageId: '"><script>x</script>' };
    const lostOne = { ...sent('c1', 1), conversationId: m.conversationId, messageId: '<script>lost</script>' };
    const fault: FaultRecord = { kind: 'worker-kill', detail: '<b>pid</b>', startedAt: t0 + 500, endedAt: t0 + 500 };
    const log = drill([m, lostOne], [reply(m, '<script>r</script>', m.sentAt + 40)], [fault]);
    const html = renderHtml(account(log), log);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>pid');
    expect(html).toContain('&lt;script&gt;lost&lt;/script&gt;');
    expect(html).toContain('<svg');
    expect(html).toContain('worker-kill');
  });

  it('when the report is written then report.json and report.html appear in a new directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'chaos-report-'));
    try {
      const log = cleanDrill();
      const report = account(log);
      const files = writeReport(join(root, 'nested', 'out'), report, log);
      expect(files).toEqual({ json: join(root, 'nested', 'out', 'report.json'), html: join(root, 'nested', 'out', 'report.html') });
      expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual({ report, log });
      expect(existsSync(files.html)).toBe(true);
      expect(readFileSync(files.html, 'utf8')).toContain('PASS');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('chaos drill options', () => {
  const parse = (...argv: string[]) => parseDrillOptions(argv) as DrillOptions;

  it('when --large-share is given then that share of messages is large', () => {
    expect(parse('--large-share', '0.35').largeShare).toBe(0.35);
    expect(parse('--large-share=1').largeShare).toBe(1);
    expect(parse('--large-share', '0').largeShare).toBe(0);
  });

  it('when --large-share is outside 0..1 or not a number then parsing fails naming the flag and the range', () => {
    for (const value of ['1.5', '-0.1', 'abc', '', '20%']) {
      expect(() => parse(`--large-share=${value}`)).toThrow(`--large-share: expected a fraction from 0 to 1 such as 0.2, got "${value}"`);
    }
  });

  it('when --quick is given then a fifth of the messages are large, and without it none', () => {
    expect(parse('--quick').largeShare).toBe(0.2);
    expect(parse().largeShare).toBe(0);
    expect(parse('--quick', '--large-share', '0').largeShare).toBe(0);
  });

  it('when the usage is printed then it explains --large-share', () => {
    expect(usage).toMatch(/--large-share P .*\n.*default 0; --quick 0\.2/);
  });
});

describe('chaos drill large messages', () => {
  it('when the share is 0.2 then every fifth message is large, the same in every drill', () => {
    const picks = (share: number, n = 60) => Array.from({ length: n }, (_, k) => k).filter((k) => isLargeMessage(k, share));
    expect(picks(0.2)).toEqual([4, 9, 14, 19, 24, 29, 34, 39, 44, 49, 54, 59]);
    expect(picks(0.29, 100)).toHaveLength(29);
    expect(picks(0)).toEqual([]);
    expect(picks(1)).toHaveLength(60);
  });

  it('when an API message is large then it keeps its plain start and stays under the API limits in UTF-8', () => {
    const plain = plainText('message 3 of chaos-x-c7: ', 80);
    const text = padWithCjk(plain, largeMessageChars.api);
    expect(text.startsWith(plain)).toBe(true);
    // api.max_text_chars is 16,000 and api.max_body_bytes 64 KiB by default.
    expect(text.length).toBe(15_900);
    const body = JSON.stringify({ conversationId: 'chaos-x-c7', text });
    expect(Buffer.byteLength(body)).toBeGreaterThan(47_000);
    expect(Buffer.byteLength(body)).toBeLessThan(64 * 1024);
  });

  it('when a Telegram message is large then its marker still names it and it fits one Telegram message', () => {
    const text = padWithCjk(plainText(`${marker('chaos-x-t2-m4')} message 4: `, 80), largeMessageChars.telegram);
    expect(text.length).toBe(4000);
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(markersIn(text)).toEqual(['chaos-x-t2-m4']);
    expect(drillAnswer({ model: 'm', messages: [{ role: 'user', content: text }] })).toBe('Answer to: {chaos-x-t2-m4}');
  });

  it('when a drill sent large messages and was throttled then the HTML summary says so', () => {
    const messages = [sent('c1', 0), { ...sent('c1', 1), large: true as const, throttled: 2 }];
    const log = { ...drill(messages, messages.map((m, i) => reply(m, `r${i}`, m.sentAt + 100))), options: { largeShare: 0.5 } };
    const html = renderHtml(account(log), log);
    expect(html).toContain('large share 0.5: 1 message near the size limit');
    expect(html).toContain('2 answers 429 (too many waiting), sent again');
  });

  it('when the API refused a message for good then the HTML summary names the status and the message is lost', () => {
    const log = drill([{ ...sent('c1', 0), large: true, refusedStatus: 413 }], []);
    const report = account(log);
    expect(report.channels[0]!.lost).toBe(1);
    expect(renderHtml(report, log)).toContain('1 message refused (HTTP 413)');
  });
});
