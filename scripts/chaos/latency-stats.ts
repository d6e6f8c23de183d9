/**
 * Latency percentiles by the nearest-rank method: every value reported is one that was actually measured, which
 * keeps small drills honest (no interpolated p99 that no user experienced).
 */
import type { LatencyStats } from './drill-report';

/**
 * Nearest-rank percentile of ascending `sorted`: the value at rank ⌈p/100 · n⌉.
 * @example percentile([10, 20, 30, 40], 50) // 20
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

/** p50/p95/p99/max of `values` (any order). */
export function latencyStats(values: readonly number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? null,
  };
}
