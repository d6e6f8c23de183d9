/**
 * Samples the RSS and CPU time of the processes under test from /proc, once a second: peak RSS and average CPU
 * (in % of one core) per process over a scenario. Linux only; elsewhere the numbers stay empty.
 */
import { readFileSync } from 'node:fs';

export interface ProcessUsage {
  name: string;
  /** Peak resident set size during the scenario, MB. */
  peakRssMb: number | null;
  /** RSS at the scenario's end, MB. */
  endRssMb: number | null;
  /** CPU time over wall time, in % of one core. */
  cpuPercent: number | null;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on every Linux that matters). */
const ticksPerSecond = 100;

interface Sample {
  cpuTicks: number;
  rssKb: number;
}

/** Several pids are one entry summed (a PostgreSQL server and its backends; shared memory then counts in each). */
function sample(pids: number | number[]): Sample | undefined {
  const samples = [pids].flat().map(sampleOne).filter((s): s is Sample => s !== undefined);
  if (samples.length === 0) return undefined;
  return samples.reduce((sum, s) => ({ cpuTicks: sum.cpuTicks + s.cpuTicks, rssKb: sum.rssKb + s.rssKb }));
}

/** `pid` and its direct children, when the kernel lists them. */
export function withChildren(pid: number): number[] {
  try {
    return [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

function sampleOne(pid: number): Sample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return { cpuTicks, rssKb };
  } catch {
    return undefined;
  }
}

/** Watches the processes `pids()` names (they may change: a restarted worker) until stop() returns their usage. */
export function watchProcesses(pids: () => Record<string, number | number[] | undefined>): { stop(): ProcessUsage[] } {
  const startedAt = performance.now();
  const first = new Map<string, Sample>();
  const last = new Map<string, Sample>();
  const peak = new Map<string, number>();
  const tick = () => {
    for (const [name, pid] of Object.entries(pids())) {
      const now = pid === undefined ? undefined : sample(pid);
      if (!now) continue;
      if (!first.has(name)) first.set(name, now);
      last.set(name, now);
      peak.set(name, Math.max(peak.get(name) ?? 0, now.rssKb));
    }
  };
  tick();
  const timer = setInterval(tick, 1000);
  return {
    stop() {
      tick();
      clearInterval(timer);
      const seconds = (performance.now() - startedAt) / 1000;
      return Object.keys(pids()).map((name) => {
        const a = first.get(name);
        const b = last.get(name);
        const mb = (kb: number | undefined) => (kb === undefined ? null : Math.round(kb / 1024));
        return {
          name,
          peakRssMb: mb(peak.get(name)),
          endRssMb: mb(b?.rssKb),
          cpuPercent: a && b && seconds > 0 ? Math.round(((b.cpuTicks - a.cpuTicks) / ticksPerSecond / seconds) * 100) : null,
        };
      });
    },
  };
}
