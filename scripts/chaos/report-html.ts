/**
 * The drill's report files: `report.json` (the verdict and the raw log it came from, so the accounting can be
 * re-run) and `report.html`, one self-contained page an operator opens from a CI artifact.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verdictOf } from './accounting';
import type { DrillLog } from './drill-log';
import type { ChannelReport, DrillReport, FaultReport, MessageRef } from './drill-report';
import { offenderCap } from './drill-report';
import { escapeHtml } from './html-escape';
import { faultColors, renderLatencyChart } from './latency-chart';

/** Renders the report as one HTML page: inline CSS and SVG, no scripts, every string escaped. */
export function renderHtml(report: DrillReport, log: DrillLog): string {
  const seconds = (at: number) => (at - report.startedAt) / 1000;
  const sentAt = new Map(log.messages.map((m) => [m.messageId, m.sentAt]));
  const chart = renderLatencyChart({
    durationS: report.durationMs / 1000,
    points: report.latencySeries.map((p) => ({ t: p.t, latencyMs: p.latencyMs,
      label: `${p.conversationId} / ${p.messageId}: ${formatMs(p.latencyMs)} (sent at ${p.t.toFixed(1)} s)` })),
    faults: report.faults.map((f) => ({ kind: f.kind, fromS: seconds(f.startedAt), toS: seconds(f.endedAt),
      label: `${f.kind}: ${f.detail}` })),
    lost: report.channels.flatMap((c) => c.offenders.lost).map((m) => ({ t: seconds(sentAt.get(m.messageId) ?? 0),
      label: `lost: ${m.conversationId} / ${m.messageId}` })),
  });
  const verdict = verdictOf(report);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chaos drill: ${report.ok ? 'PASS' : 'FAIL'}</title>
<style>${css}</style></head><body>
<h1 class="${report.ok ? 'pass' : 'fail'}">${escapeHtml(verdict)}</h1>
<p>${escapeHtml(new Date(report.startedAt).toISOString())} · ${(report.durationMs / 1000).toFixed(1)} s ·
${report.faults.length} faults${messageNotes(log)}${report.ignoredMessages > 0
    ? ` · <strong>${report.ignoredMessages} replies deliberately ignored by the client</strong>` : ''}</p>
<h2>Channels</h2>${channelTable(report.channels)}${telegramNote(report.channels)}
<h2>Latency over drill time</h2>
<p class="legend">${legend()} · ▼ lost message</p>
<figure>${chart}</figure>
<h2>Faults</h2>${faultTable(report.faults, seconds)}
<h2>Offending messages</h2>${offenderLists(report.channels)}
<h2>Options</h2><pre>${escapeHtml(JSON.stringify(log.options, null, 2))}</pre>
</body></html>
`;
}

/**
 * Writes `report.json` ({ report, log }) and `report.html` into `dir`, creating it.
 * @returns the paths written
 */
export function writeReport(dir: string, report: DrillReport, log: DrillLog): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  writeFileSync(json, `${JSON.stringify({ report, log }, null, 2)}\n`);
  writeFileSync(html, renderHtml(report, log));
  return { json, html };
}

/** The summary line's notes on what was sent: the large share, and how often the API pushed back. */
function messageNotes(log: DrillLog): string {
  const share = typeof log.options.largeShare === 'number' ? log.options.largeShare : 0;
  const large = log.messages.filter((m) => m.large).length;
  const throttled = log.messages.reduce((sum, m) => sum + (m.throttled ?? 0), 0);
  const refused = log.messages.filter((m) => m.refusedStatus !== undefined);
  const statuses = [...new Set(refused.map((m) => m.refusedStatus))].join(', ');
  return (share > 0 || large > 0 ? ` · large share ${share}: ${plural(large, 'message')} near the size limit` : '')
    + (throttled > 0 ? ` · ${plural(throttled, 'answer')} 429 (too many waiting), sent again` : '')
    + (refused.length > 0 ? ` · <span class="fail">${plural(refused.length, 'message')} refused (HTTP ${statuses})</span>` : '');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function channelTable(channels: readonly ChannelReport[]): string {
  const head = ['channel', 'sent', 'delivered', 'lost', 'duplicated', 'out of order', 'apologies', 'unattributed',
    'p50', 'p95', 'p99', 'max', 'msg/s'];
  const rows = channels.map((c) => [escapeHtml(c.channel), c.sent, c.delivered, bad(c.lost), bad(c.duplicated),
    bad(c.outOfOrder), c.apologies, bad(c.unattributed), formatMs(c.latency.p50), formatMs(c.latency.p95),
    formatMs(c.latency.p99), formatMs(c.latency.max), c.throughput.toFixed(2)]);
  return table(head, rows);
}

/** The engine's count of the documented Telegram duplicate window, next to the duplicates the chats showed. */
function telegramNote(channels: readonly ChannelReport[]): string {
  const telegram = channels.find((c) => c.telegram);
  if (!telegram?.telegram) return '';
  const { uncertainSends, leftoverPreviews, duplicatesInSendWindow } = telegram.telegram;
  return `<p>Telegram: <strong>${uncertainSends ?? 'unreadable'}</strong> uncertain sends (the engine's`
    + ` <code>tg:uncertain-sends</code>: parts sent again after a worker died between send and marker) ·`
    + ` ${telegram.duplicated} duplicated in the chats`
    + (duplicatesInSendWindow ? ' (all within that documented window: not a failure)' : '')
    + ` · ${bad(leftoverPreviews)} previews left unfinished</p>`;
}

function faultTable(faults: readonly FaultReport[], seconds: (at: number) => number): string {
  if (faults.length === 0) return '<p>No faults injected.</p>';
  const head = ['kind', 'detail', 'started (s)', 'ended (s)', 'in flight', 'recovery'];
  const rows = faults.map((f) => [`<span style="color:${faultColors[f.kind]}">■</span> ${escapeHtml(f.kind)}`,
    escapeHtml(f.detail), seconds(f.startedAt).toFixed(1), seconds(f.endedAt).toFixed(1), f.inFlightAtStart,
    f.recoveryMs === null ? '<span class="fail">never</span>' : formatMs(f.recoveryMs)]);
  return table(head, rows);
}

function offenderLists(channels: readonly ChannelReport[]): string {
  const lists = channels.flatMap((c) => (['lost', 'duplicated', 'outOfOrder'] as const).map((kind) => {
    const refs = c.offenders[kind];
    if (refs.length === 0) return '';
    return `<details open><summary>${escapeHtml(c.channel)}: ${kind} (${refs.length} shown, at most ${offenderCap})`
      + `</summary>${table(['conversationId', 'messageId', 'index'], refs.map(refCells))}</details>`;
  })).join('');
  return lists || '<p>None.</p>';
}

function refCells(ref: MessageRef): (string | number)[] {
  return [escapeHtml(ref.conversationId), escapeHtml(ref.messageId), ref.index];
}

/** Cells are HTML already: callers escape text and format numbers. */
function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

function legend(): string {
  return Object.entries(faultColors)
    .map(([kind, color]) => `<span style="color:${color}">■</span> ${escapeHtml(kind)}`).join(' ');
}

function bad(count: number): string {
  return count > 0 ? `<span class="fail">${count}</span>` : '0';
}

function formatMs(ms: number | null): string {
  if (ms === null) return '—';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

const css = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}
h1.pass{color:#1a7f37}h1.fail,.fail{color:#cf222e}h2{margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse}th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}
figure{margin:0}svg{width:100%;height:auto}
svg .tick{font-size:11px;fill:#666}svg .axis{font-size:12px;fill:#444}svg .fault{font-size:11px}
pre{background:#f6f8fa;padding:.8rem;overflow:auto}details{margin:.5rem 0}summary{cursor:pointer}
.legend{color:#555}`;
