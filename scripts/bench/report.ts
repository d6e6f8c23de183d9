/**
 * The bench's report: `bench.json` (every scenario's numbers) and `bench.html`, one self-contained page with a
 * table per scenario and bar charts of throughput and latency, engine beside floor. No script, no external asset.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml } from '../chaos/html-escape';
import type { ScenarioResult } from './scenarios';

export interface BenchReport {
  startedAt: string;
  quick: boolean;
  workers: number;
  /** `dev server`, or the cluster profile with its shards and replicas. */
  profile: string;
  machine: { cpus: number; memoryGb: number; node: string };
  scenarios: ScenarioResult[];
  /** The goals, each computed from the scenarios that measure it (null when that scenario did not run). */
  comparisons: Record<string, number | null>;
}

/**
 * Engine against floor: throughput ratios per sweep size, the single conversation's extra latency, and the soak's
 * extra p99 (the floor's own p99 there is what the box gives that load).
 */
export function compare(results: readonly ScenarioResult[]): Record<string, number | null> {
  const find = (scenario: string, target: string) => results.find((r) => r.scenario === scenario && r.target === target);
  const out: Record<string, number | null> = {};
  for (const engine of results.filter((r) => r.target === 'engine' && r.scenario.startsWith('sweep-'))) {
    const floor = find(engine.scenario, 'floor');
    out[`${engine.scenario}: engine/floor turns/s`] = floor?.turnsPerSecond ? round2(engine.turnsPerSecond / floor.turnsPerSecond) : null;
  }
  const latencyGap = (scenario: string, stat: 'p50' | 'p99') => {
    const [engine, floor] = [find(scenario, 'engine')?.latency[stat], find(scenario, 'floor')?.latency[stat]];
    if (engine != null && floor != null) out[`${scenario}: engine ${stat} − floor ${stat} (ms)`] = engine - floor;
  };
  latencyGap('single', 'p50');
  latencyGap('soak', 'p99');
  return out;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function writeReport(dir: string, report: BenchReport): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'bench.json');
  const html = join(dir, 'bench.html');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, renderHtml(report));
  return { json, html };
}

const colors: Record<ScenarioResult['target'], string> = { engine: '#1f77b4', floor: '#ff7f0e', model: '#2ca02c' };

function renderHtml(report: BenchReport): string {
  const sweep = report.scenarios.filter((r) => r.scenario.startsWith('sweep-') || r.scenario === 'single');
  const rows = report.scenarios.map(row).join('\n');
  const comparisons = Object.entries(report.comparisons)
    .map(([name, value]) => `<tr><td>${escapeHtml(name)}</td><td>${value ?? '—'}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ai-assistant-core bench ${escapeHtml(report.startedAt)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
td:first-child,th:first-child,td.text{text-align:left}
.err{color:#b00;font-weight:bold}
</style></head><body>
<h1>Bench ${report.quick ? '(quick) ' : ''}${escapeHtml(report.startedAt)}</h1>
<p>${report.machine.cpus} CPUs, ${report.machine.memoryGb} GB, Node ${escapeHtml(report.machine.node)}, ${escapeHtml(report.profile)}, ${report.workers} worker process(es).
Latency is what the client saw (ms); overhead is latency minus the model's own median time; CPU in % of one core, RSS in MB.</p>
<h2>Engine against the raw-Temporal floor</h2>
<table><tr><th>comparison</th><th>value</th></tr>${comparisons}</table>
${barChart('Turns per second', sweep, (r) => r.turnsPerSecond)}
${barChart('Turn latency p50 (ms)', sweep, (r) => r.latency.p50 ?? 0)}
${barChart('Turn latency p99 (ms)', sweep, (r) => r.latency.p99 ?? 0)}
<h2>Scenarios</h2>
<table><tr><th>scenario</th><th>target</th><th>what</th><th>turns</th><th>errors</th><th>turns/s</th>
<th>p50</th><th>p95</th><th>p99</th><th>max</th><th>first token p50 / p99</th><th>overhead p50 / p99</th><th>processes</th><th>more</th></tr>
${rows}</table>
</body></html>
`;
}

function row(r: ScenarioResult): string {
  const pair = (s?: { p50: number | null; p99: number | null }) => (s ? `${s.p50 ?? '—'} / ${s.p99 ?? '—'}` : '—');
  const processes = r.processes
    .map((p) => `${escapeHtml(p.name)}: ${p.cpuPercent ?? '—'} % CPU, ${p.peakRssMb ?? '—'} MB`)
    .join('<br>');
  const extra = Object.entries(r.extra ?? {}).map(([k, v]) => `${escapeHtml(k)}: ${v ?? '—'}`);
  if (r.newConversationsPerSecond !== undefined) extra.unshift(`new conversations/s: ${r.newConversationsPerSecond}`);
  const errors = r.errors > 0 ? `<span class="err" title="${escapeHtml(r.errorSamples.join('\n'))}">${r.errors}</span>` : '0';
  return `<tr><td>${escapeHtml(r.scenario)}</td><td class="text">${r.target}</td><td class="text">${escapeHtml(r.description)}</td>
<td>${r.turns}</td><td>${errors}</td><td>${r.turnsPerSecond}</td><td>${r.latency.p50 ?? '—'}</td><td>${r.latency.p95 ?? '—'}</td>
<td>${r.latency.p99 ?? '—'}</td><td>${r.latency.max ?? '—'}</td><td>${pair(r.firstToken)}</td><td>${pair(r.overhead)}</td>
<td class="text">${processes}</td><td class="text">${extra.join('<br>')}</td></tr>`;
}

/** Grouped horizontal bars: one group per scenario, one bar per target. */
function barChart(title: string, results: readonly ScenarioResult[], value: (r: ScenarioResult) => number): string {
  if (results.length === 0) return '';
  const barH = 16;
  const labelW = 110;
  const plotW = 600;
  const max = Math.max(1, ...results.map(value));
  const groups = [...new Set(results.map((r) => r.scenario))];
  let y = 28;
  const parts: string[] = [];
  for (const group of groups) {
    parts.push(`<text x="0" y="${y + 12}" font-size="12">${escapeHtml(group)}</text>`);
    for (const r of results.filter((x) => x.scenario === group)) {
      const w = (value(r) / max) * plotW;
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${colors[r.target]}"><title>${r.target}: ${value(r)}</title></rect>`,
        `<text x="${labelW + w + 4}" y="${y + 12}" font-size="11">${r.target} ${value(r)}</text>`,
      );
      y += barH;
    }
    y += 6;
  }
  return `<h3>${escapeHtml(title)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 120}" height="${y}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg>`;
}
