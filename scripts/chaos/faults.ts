/**
 * Fault injection on the drill's own processes and services: SIGKILL of random workers on a timer, and a
 * schedule of one-off faults (Temporal restart, Redis restart, archive outage, model outage), each recorded
 * with when it started and when it was undone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultKind, FaultRecord } from './drill-log';
import type { Infrastructure } from './infrastructure';

export interface FaultPlan {
  killEveryMs: number;
  faults: Exclude<FaultKind, 'worker-kill'>[];
  outageMs: number;
}

/** Gap before the first scheduled fault and between two of them, so each one's recovery shows on its own. */
const gapMs = 10_000;
/** How long a restarted service stays down. */
const downMs = 3_000;

/** How long the schedule of one-off faults takes; the load is stretched to outlast it. */
export function scheduleLengthMs(plan: FaultPlan): number {
  return plan.faults.reduce((sum, kind) => sum + gapMs + (kind.endsWith('outage') ? plan.outageMs : downMs), gapMs);
}

/**
 * Starts injecting: `scheduled` settles when every one-off fault was injected and undone; worker kills go on until
 * `signal` aborts, and `finished` settles once everything is undone.
 */
export function startFaults(
  infra: Infrastructure,
  plan: FaultPlan,
  faults: FaultRecord[],
  signal: AbortSignal,
  log: (line: string) => void,
): { scheduled: Promise<void>; finished: Promise<void> } {
  const record = async (kind: FaultKind, detail: string, act: () => Promise<void>) => {
    const startedAt = Date.now();
    log(`[chaos] fault: ${kind} (${detail})`);
    await act();
    faults.push({ kind, detail, startedAt, endedAt: Date.now() });
  };

  const kills = (async () => {
    if (plan.killEveryMs <= 0) return;
    while (!(await pause(plan.killEveryMs, signal))) {
      const pids = infra.stack.workerPids();
      const pid = pids[Math.floor(Math.random() * pids.length)];
      if (pid === undefined) continue; // every worker is restarting right now
      await record('worker-kill', `SIGKILL worker pid ${pid}`, async () => {
        process.kill(pid, 'SIGKILL');
      });
    }
  })();

  const scheduled = (async () => {
    for (const kind of plan.faults) {
      if (await pause(gapMs, signal)) return;
      await record(kind, describe(kind, plan), () => inject(infra, kind, plan.outageMs));
    }
  })();
  return { scheduled, finished: Promise.all([kills, scheduled]).then(() => undefined) };
}

async function inject(infra: Infrastructure, kind: Exclude<FaultKind, 'worker-kill'>, outageMs: number): Promise<void> {
  switch (kind) {
    case 'temporal-restart':
      return bounce(infra.temporal, downMs);
    case 'redis-restart':
      return bounce(infra.redis, downMs);
    case 'archive-outage':
      return bounce(infra.archive, outageMs);
    case 'model-outage': {
      // A mix of what real providers do when they are in trouble: errors, rate limits, silence.
      const third = outageMs / 3;
      for (const fault of [500, 429, 'hang'] as const) {
        infra.model.setFault(fault);
        await sleep(third);
      }
      infra.model.setFault(undefined);
      return;
    }
  }
}

async function bounce(service: { stop(): Promise<void>; start(): Promise<void> }, downForMs: number): Promise<void> {
  await service.stop();
  await sleep(downForMs);
  await service.start();
}

function describe(kind: FaultKind, plan: FaultPlan): string {
  if (kind === 'archive-outage') return `MinIO stopped for ${plan.outageMs / 1000} s`;
  if (kind === 'model-outage') return `model answers 500, 429, then hangs, for ${plan.outageMs / 1000} s`;
  return `stopped, down ${downMs / 1000} s, started again on the same data`;
}

/** Waits `ms`; true when the drill ended meanwhile. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
  return signal.aborted;
}
