/**
 * The report's latency-over-time chart as inline SVG: one dot per delivered message (x = when it was sent,
 * y = how long its reply took), a band per fault, a mark per lost message. Drawn by hand so the HTML page needs
 * no script or external asset and still opens from a CI artifact years later.
 */
import type { FaultKind } from './drill-log';
import { escapeHtml } from './html-escape';

/** What the chart draws; times in seconds since the drill started. */
export interface ChartInput {
  durationS: number;
  points: { t: number; latencyMs: number; label: string }[];
  faults: { kind: FaultKind; fromS: number; toS: number; label: string }[];
  lost: { t: number; label: string }[];
}

/** Line and band colour per fault kind, shared with the page's legend. */
export const faultColors: Record<FaultKind, string> = {
  'worker-kill': '#d62728',
  'temporal-restart': '#9467bd',
  'redis-restart': '#8c564b',
  'archive-outage': '#ff7f0e',
  'model-outage': '#e377c2',
};

const width = 960;
const height = 360;
const margin = { top: 56, right: 20, bottom: 40, left: 64 };
const plotW = width - margin.left - margin.right;
const plotH = height - margin.top - margin.bottom;
const labelRows = 3;

/** Renders `input` as a standalone `<svg>` element. */
export function renderLatencyChart(input: ChartInput): string {
  const maxT = Math.max(1, input.durationS, ...input.points.map((p) => p.t), ...input.faults.map((f) => f.toS));
  const x = (t: number) => margin.left + (Math.max(0, t) / maxT) * plotW;
  const y = yScale(input.points.map((p) => p.latencyMs));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="Latency over drill time">`,
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`,
    ...y.ticks.map((tick) => gridLine(margin.left, y.at(tick), formatMs(tick), 'y')),
    ...xTicks(maxT).map((tick) => gridLine(x(tick), margin.top + plotH, `${Number(tick.toFixed(3))}s`, 'x')),
    ...faultMarks(input.faults, x),
    ...input.points.map((p) => `<circle cx="${round(x(p.t))}" cy="${round(y.at(p.latencyMs))}" r="2.2" fill="#2a6f97" `
      + `fill-opacity="0.7"><title>${escapeHtml(p.label)}</title></circle>`),
    ...input.lost.map((l) => `<path d="M${round(x(l.t)) - 4},${margin.top + 2}h8l-4,8z" fill="#000">`
      + `<title>${escapeHtml(l.label)}</title></path>`),
    `<text x="${margin.left + plotW / 2}" y="${height - 6}" text-anchor="middle" class="axis">drill time (s)</text>`,
    `<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="axis">`
      + `latency (ms, ${y.log ? 'log' : 'linear'} scale)</text>`,
    '</svg>',
  ];
  return parts.join('\n');
}

/** Log scale when latencies span more than a factor of 20 (a fault's stall next to normal turns), else linear. */
function yScale(values: readonly number[]): { at: (ms: number) => number; ticks: number[]; log: boolean } {
  const positive = values.map((v) => Math.max(1, v));
  const lo = Math.min(...positive, Infinity);
  const hi = Math.max(...positive, 1);
  const bottom = margin.top + plotH;
  if (Number.isFinite(lo) && hi / lo > 20) {
    const from = Math.floor(Math.log10(lo));
    const to = Math.ceil(Math.log10(hi));
    const at = (ms: number) => bottom - ((Math.log10(Math.max(1, ms)) - from) / Math.max(1, to - from)) * plotH;
    return { at, ticks: Array.from({ length: to - from + 1 }, (_, i) => 10 ** (from + i)), log: true };
  }
  // At least 10 ms tall so an empty or instant drill still gets whole-number ticks.
  const step = niceStep(Math.max(hi, 10) / 5);
  const top = Math.max(step, Math.ceil(hi / step) * step);
  const at = (ms: number) => bottom - (Math.max(0, ms) / top) * plotH;
  return { at, ticks: Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step), log: false };
}

function xTicks(maxT: number): number[] {
  const step = niceStep(maxT / 8);
  return Array.from({ length: Math.floor(maxT / step) + 1 }, (_, i) => i * step);
}

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1e-9)));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
}

function gridLine(at: number, anchor: number, label: string, axis: 'x' | 'y'): string {
  if (axis === 'y') {
    return `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${round(anchor)}" y2="${round(anchor)}" stroke="#e5e5e5"/>`
      + `<text x="${margin.left - 6}" y="${round(anchor) + 4}" text-anchor="end" class="tick">${escapeHtml(label)}</text>`;
  }
  return `<line x1="${round(at)}" x2="${round(at)}" y1="${margin.top}" y2="${anchor}" stroke="#e5e5e5"/>`
    + `<text x="${round(at)}" y="${anchor + 16}" text-anchor="middle" class="tick">${escapeHtml(label)}</text>`;
}

/**
 * A band per fault with its kind written above the plot. A drill kills a worker every few seconds, so the rarer
 * faults pick label rows first and a label is left out where all rows are taken; colour and hover text still say
 * the kind.
 */
function faultMarks(faults: ChartInput['faults'], x: (t: number) => number): string[] {
  const rows: [number, number][][] = Array.from({ length: labelRows }, () => []);
  const labelRow = new Map<ChartInput['faults'][number], number>();
  const rareFirst = [...faults].sort((a, b) =>
    Number(a.kind === 'worker-kill') - Number(b.kind === 'worker-kill') || a.fromS - b.fromS);
  for (const fault of rareFirst) {
    const span = labelSpan(x(fault.fromS), fault.kind);
    const row = rows.findIndex((taken) => taken.every(([from, to]) => span[1] < from || span[0] > to));
    if (row >= 0) {
      rows[row]!.push(span);
      labelRow.set(fault, row);
    }
  }
  return faults.map((fault) => {
    const from = x(fault.fromS);
    const bandW = Math.max(1.5, x(fault.toS) - from);
    const color = faultColors[fault.kind];
    const row = labelRow.get(fault);
    const [left] = labelSpan(from, fault.kind);
    const text = row === undefined ? '' : `<text x="${round(left)}" y="${margin.top - 6 - row * 15}" class="fault" `
      + `fill="${color}">${escapeHtml(fault.kind)}</text>`;
    return `<g><title>${escapeHtml(fault.label)}</title><rect x="${round(from)}" y="${margin.top}" width="${round(bandW)}" `
      + `height="${plotH}" fill="${color}" fill-opacity="${bandW > 2 ? 0.15 : 0.6}"/>${text}</g>`;
  });
}

/** Where a label starting at `at` goes: right of its line, or left of it near the right edge so it is not cut. */
function labelSpan(at: number, kind: string): [number, number] {
  const labelW = kind.length * 6.5 + 6;
  return at + labelW > width ? [at - labelW, at] : [at, at + labelW];
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
