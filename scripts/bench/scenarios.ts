/**
 * The bench's scenarios, each a small function of the world and the plan's sizes. `--quick` runs the same
 * scenarios, smaller (under two minutes in all, for CI); the full plan runs the sizes the issue names.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { developmentUser } from '../dev-credentials';
import { latencyStats } from '../chaos/latency-stats';
import type { LatencyStats } from '../chaos/drill-report';
import { closedLoop, openConversations, paced, type LoadResult, type Progress } from './load';
import { watchProcesses, type ProcessUsage } from './resources';
import { engineTarget, floorTarget, modelTarget, type Target } from './targets';
import type { World } from './world';

export interface ScenarioResult {
  scenario: string;
  target: Target['name'];
  description: string;
  conversations: number;
  turns: number;
  errors: number;
  /** The first few errors, as the client saw them. */
  errorSamples: string[];
  turnsPerSecond: number;
  latency: LatencyStats;
  firstToken?: LatencyStats;
  /** Latency minus the model's own median time (measured alone at one conversation). */
  overhead?: LatencyStats;
  newConversationsPerSecond?: number;
  processes: ProcessUsage[];
  /** Scenario-specific numbers (e.g. the first and last turns of a long conversation). */
  extra?: Record<string, number | string | null>;
}

export interface Plan {
  /** How long the model alone is measured, at each of 1 and 50 conversations. */
  modelMs: number;
  singleTurns: number;
  sweep: number[];
  sweepMs: number;
  open: number[];
  openConcurrency: number;
  probe: number;
  /** New conversations (3 messages each) asked before and after the restart: a few users, as a journey would be. */
  restartProbe: number;
  soak: { conversations: number; everyMs: number; durationMs: number };
  longTurns: number;
  /** With `parked`, conversations park once checkpointed (CONVERSATION_PARK_AFTER = the quiet period; off by default). */
  restart: { conversations: number; idleTimeoutMs: number; quietPeriodMs: number; parked: boolean };
}

export const fullPlan: Plan = {
  modelMs: 10_000,
  singleTurns: 200,
  sweep: [1, 10, 50, 200, 500],
  sweepMs: 30_000,
  open: [2_000, 10_000],
  openConcurrency: 100,
  probe: 50,
  restartProbe: 10,
  soak: { conversations: 200, everyMs: 5_000, durationMs: 10 * 60_000 },
  longTurns: 1_000,
  // Idle long enough that none closes before the stack goes down (opening 2,000 takes a few minutes here).
  restart: { conversations: 2_000, idleTimeoutMs: 10 * 60_000, quietPeriodMs: 20_000, parked: false },
};

export const quickPlan: Plan = {
  modelMs: 3_000,
  singleTurns: 20,
  sweep: [10, 50],
  sweepMs: 5_000,
  open: [100],
  openConcurrency: 50,
  probe: 10,
  restartProbe: 5,
  soak: { conversations: 20, everyMs: 2_000, durationMs: 8_000 },
  longTurns: 30,
  restart: { conversations: 50, idleTimeoutMs: 10_000, quietPeriodMs: 2_000, parked: false },
};

export const scenarioNames = ['model', 'single', 'sweep', 'open', 'soak', 'long', 'restart'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface BenchContext {
  world: World;
  plan: Plan;
  /** A fresh prefix per run, so a rerun against the same stack never continues old conversations. */
  runId: string;
  progress: (label: string) => Progress;
  record: (result: ScenarioResult) => void;
  log: (line: string) => void;
  /** The model's own median turn, for the overhead numbers; set by the model scenario. */
  modelMs?: number;
}

const streamingUsers = 5;

export const scenarios: Record<ScenarioName, (ctx: BenchContext) => Promise<void>> = {
  async model(ctx) {
    const target = modelTarget(ctx.world.model.url);
    for (const conversations of [1, 50]) {
      const result = await measure(ctx, target, `model-${conversations}`, 'the model server alone', conversations, (p) =>
        closedLoop(target, { runId: ctx.runId, conversations, durationMs: ctx.plan.modelMs }, p),
      );
      if (conversations === 1) ctx.modelMs = result.latency.p50 ?? 0;
    }
  },

  async single(ctx) {
    await bothTargets(ctx, async (target) => {
      await measure(ctx, target, 'single', 'one conversation, one message at a time (the latency floor)', 1, (p) =>
        closedLoop(target, { runId: `${ctx.runId}-single`, conversations: 1, messages: ctx.plan.singleTurns, warmUp: true, streamingUsers: 1 }, p),
      );
    });
  },

  async sweep(ctx) {
    for (const conversations of ctx.plan.sweep) {
      await bothTargets(ctx, async (target) => {
        await measure(ctx, target, `sweep-${conversations}`, `${conversations} conversations chatting without pause`, conversations, (p) =>
          closedLoop(target, { runId: `${ctx.runId}-sweep${conversations}`, conversations, durationMs: ctx.plan.sweepMs, warmUp: true, streamingUsers }, p),
        );
      });
    }
  },

  async open(ctx) {
    const target = engineTarget(ctx.world.api, ctx.world.authorization());
    // The floor opens as many as the first step, for comparison (it has no cache or memory goal to probe).
    const first = ctx.plan.open[0] ?? 0;
    await withFloor(ctx, async (floor) => {
      const floorRunId = `${ctx.runId}-open${first}`;
      const result = await measure(ctx, floor, `open-${first}`, `open ${first} new conversations, ${ctx.plan.openConcurrency} at a time`, first, (p) =>
        openConversations(floor, { runId: floorRunId, conversations: first, concurrency: ctx.plan.openConcurrency }, p),
      );
      result.newConversationsPerSecond = result.turnsPerSecond;
      // The floor's best case for the probe: the ones it opened last, still cached, asked again all at once (what
      // the machine allows for that many turns at once, whatever the engine does).
      await measure(ctx, floor, `probe-${first}`, `${ctx.plan.probe} of the ${first} just opened answer again`, ctx.plan.probe, (p) =>
        probe(floor, newest(floorRunId, ctx.plan.probe, first), p),
      );
    });
    let opened = 0;
    for (const total of ctx.plan.open) {
      const runId = `${ctx.runId}-open${total}`;
      const result = await measure(ctx, target, `open-${total}`, `open ${total} new conversations, ${ctx.plan.openConcurrency} at a time`, total, (p) =>
        openConversations(target, { runId, conversations: total, concurrency: ctx.plan.openConcurrency }, p),
      );
      result.newConversationsPerSecond = result.turnsPerSecond;
      opened += total;
      // The opened conversations stay live (idle) while a few of them are asked again.
      await measure(ctx, target, `probe-${opened}`, `${ctx.plan.probe} of ${opened} live idle conversations answer again`, ctx.plan.probe, (p) =>
        probe(target, spread(runId, ctx.plan.probe, total), p),
      );
    }
  },

  async soak(ctx) {
    const { conversations, everyMs, durationMs } = ctx.plan.soak;
    const description = `${conversations} conversations, one message each every ${everyMs / 1000} s, for ${durationMs / 1000} s`;
    // The floor under the same load: what this box gives that many conversations, whatever the engine does.
    await bothTargets(ctx, async (target) => {
      await measure(ctx, target, 'soak', description, conversations, (p) =>
        paced(target, { runId: `${ctx.runId}-soak`, conversations, everyMs, durationMs, streamingUsers }, p),
      );
    });
  },

  async long(ctx) {
    const target = engineTarget(ctx.world.api, ctx.world.authorization());
    const turns = ctx.plan.longTurns;
    const result = await measure(ctx, target, 'long', `one conversation, ${turns} turns`, 1, (p) =>
      closedLoop(target, { runId: `${ctx.runId}-long`, conversations: 1, messages: turns }, p),
    );
    // Turn 1 starts the workflow; turns 2–11 against the last ten say whether a turn's cost grows with length.
    const ordered = result.turnLatencies;
    const p50 = (latencies: number[]) => Math.round(latencyStats(latencies).p50 ?? NaN);
    result.extra = {
      'turns 2–11 p50 ms': p50(ordered.slice(1, 11)),
      [`turns ${turns - 9}–${turns} p50 ms`]: p50(ordered.slice(-10)),
    };
  },

  async restart(ctx) {
    const { conversations, idleTimeoutMs, quietPeriodMs, parked } = ctx.plan.restart;
    const idle = {
      CONVERSATION_IDLE_TIMEOUT: `${idleTimeoutMs}ms`,
      CONVERSATION_QUIET_PERIOD: `${quietPeriodMs}ms`,
      ...(parked ? { CONVERSATION_PARK_AFTER: `${quietPeriodMs}ms` } : {}),
    };
    const runId = `${ctx.runId}-restart`;
    const target = engineTarget(ctx.world.api, ctx.world.authorization());
    await ctx.world.stopStack();
    await ctx.world.startStack(idle);
    try {
      ctx.log(`[bench] restart: opening ${conversations} conversations that close after ${idleTimeoutMs / 1000} s idle`);
      const openedAt = performance.now();
      const opened = await openConversations(target, { runId, conversations, concurrency: ctx.plan.openConcurrency });
      if (opened.errors.length > 0) throw new Error(`opening conversations failed: ${opened.errors[0]}`);
      // The same new conversations with no backlog: what the box gives them anyway.
      await newConversations(ctx, target, 'restart-reference', `the same new messages before the downtime, no backlog`, `${runId}-before`);
      // As in life, the stack goes down a while after the last message: the quiet ones are checkpointed (or parked).
      ctx.log(`[bench] restart: ${(quietPeriodMs * 1.5) / 1000} s quiet before the stack goes down`);
      await sleep(quietPeriodMs * 1.5);
      await ctx.world.stopStack();
      // Down until the last idle timer has expired (and a quiet period more), so every close is due at the restart.
      const downMs = Math.max(0, openedAt + idleTimeoutMs + quietPeriodMs - performance.now()) + quietPeriodMs;
      ctx.log(`[bench] restart: stack down for ${Math.round(downMs / 1000)} s, so every idle timer expires meanwhile`);
      await sleep(downMs);
      await ctx.world.startStack(idle);
      const drained = watchDrain(ctx, runId).catch((error: unknown) => {
        ctx.log(`[bench] restart: counting the open conversations failed: ${String(error)}`);
        return undefined;
      });
      // New conversations and idle ones coming back, at once: the latter's messages queue with the closes.
      const [after] = await Promise.all([
        newConversations(ctx, target, 'restart', `new conversations right after a restart, while ${conversations} idle closes drain`, `${runId}-after`),
        // The last opened: quiet when the stack went down, their idle closes among the backlog.
        measure(ctx, target, 'restart-returning', `${ctx.plan.restartProbe} idle conversations write again meanwhile`, ctx.plan.restartProbe, (p) =>
          probe(target, newest(runId, ctx.plan.restartProbe, conversations), p),
        ),
      ]);
      const drainedAfterS = await drained;
      ctx.log(`[bench] restart: idle closes drained ${drainedAfterS === undefined ? 'not within 10 minutes' : `after ${drainedAfterS} s`}`);
      after.extra = { ...after.extra, 'idle closes drained after s': drainedAfterS ?? null };
    } finally {
      await ctx.world.stopStack();
      await ctx.world.startStack();
    }
  },
};

/**
 * Seconds from now until the conversations opened under `runId` have closed, all but the ones written to again
 * (`restartProbe` of them); undefined after 10 minutes.
 */
async function watchDrain(ctx: BenchContext, runId: string): Promise<number | undefined> {
  const startedAt = performance.now();
  const connection = await Connection.connect({ address: ctx.world.temporalAddress });
  const client = new Client({ connection });
  const query = `WorkflowId STARTS_WITH 'api:${developmentUser}:${runId}-c' AND ExecutionStatus = 'Running'`;
  try {
    while (performance.now() - startedAt < 10 * 60_000) {
      const { count } = await client.workflow.count(query);
      if (count <= ctx.plan.restartProbe) return Math.round((performance.now() - startedAt) / 1000);
      await sleep(2_000);
    }
    return undefined;
  } finally {
    await connection.close();
  }
}

/** `restartProbe` new conversations of 3 messages each; their first messages (starting a workflow) apart from the rest. */
async function newConversations(ctx: BenchContext, target: Target, scenario: string, description: string, runId: string): Promise<ScenarioResult> {
  const conversations = ctx.plan.restartProbe;
  let first: number[] = [];
  let later: number[] = [];
  const result = await measure(ctx, target, scenario, description, conversations, async (p) => {
    const outcome = await closedLoop(target, { runId, conversations, messages: 3 }, p);
    first = outcome.turns.filter((t) => t.index === 0).map((t) => t.latencyMs);
    later = outcome.turns.filter((t) => t.index > 0).map((t) => t.latencyMs);
    return outcome;
  });
  const p99 = (latencies: number[]) => Math.round(latencyStats(latencies).p99 ?? NaN);
  result.extra = { 'first messages p99 ms': p99(first), 'later messages p99 ms': p99(later) };
  return result;
}

/** `count` of the `total` conversations opened under `runId`, spread over all of them. */
function spread(runId: string, count: number, total: number): string[] {
  const step = Math.max(1, Math.floor(total / count));
  return Array.from({ length: count }, (_, n) => `${runId}-c${n * step}`);
}

/** The last `count` of the `total` conversations opened under `runId`. */
function newest(runId: string, count: number, total: number): string[] {
  return Array.from({ length: Math.min(count, total) }, (_, n) => `${runId}-c${total - 1 - n}`);
}

/** Sends one more message to each of `ids`, all at once. */
async function probe(target: Target, ids: string[], progress: Progress): Promise<LoadResult> {
  const started = performance.now();
  const result: LoadResult = { turns: [], errors: [], wallMs: 0 };
  await Promise.all(
    ids.map(async (id) => {
      const at = performance.now() - started;
      try {
        result.turns.push({ ...(await target.turn(id, `${id}-probe`, 'Still there?', false)), at, index: 1 });
      } catch (error) {
        result.errors.push(`${id}: ${(error as Error).message}`);
      }
      progress(result.turns.length, result.errors.length);
    }),
  );
  result.wallMs = performance.now() - started;
  return result;
}

async function bothTargets(ctx: BenchContext, run: (target: Target) => Promise<void>): Promise<void> {
  await run(engineTarget(ctx.world.api, ctx.world.authorization()));
  await withFloor(ctx, run);
}

async function withFloor(ctx: BenchContext, run: (floor: Target) => Promise<void>): Promise<void> {
  const floor = await floorTarget({ temporalAddress: ctx.world.temporalAddress, redisUrl: ctx.world.redisUrl, taskQueue: ctx.world.floorTaskQueue });
  try {
    await run(floor);
  } finally {
    await floor.close();
  }
}

async function measure(
  ctx: BenchContext,
  target: Target,
  scenario: string,
  description: string,
  conversations: number,
  load: (progress: Progress) => Promise<LoadResult>,
): Promise<ScenarioResult & { readonly turnLatencies: number[] }> {
  const watch = watchProcesses(() => ctx.world.pids());
  const outcome = await load(ctx.progress(`${scenario} (${target.name})`));
  const processes = watch.stop();
  const latencies = outcome.turns.map((t) => t.latencyMs);
  const firstTokens = outcome.turns.flatMap((t) => (t.firstTokenMs === undefined ? [] : [t.firstTokenMs]));
  const round = (stats: LatencyStats): LatencyStats => Object.fromEntries(
    Object.entries(stats).map(([k, v]) => [k, v === null ? null : Math.round(v)]),
  ) as unknown as LatencyStats;
  const result: ScenarioResult = {
    scenario,
    target: target.name,
    description,
    conversations,
    turns: outcome.turns.length,
    errors: outcome.errors.length,
    errorSamples: outcome.errors.slice(0, 5),
    turnsPerSecond: Math.round((outcome.turns.length / (outcome.wallMs / 1000)) * 10) / 10,
    latency: round(latencyStats(latencies)),
    ...(firstTokens.length > 0 ? { firstToken: round(latencyStats(firstTokens)) } : {}),
    ...(target.name !== 'model' && ctx.modelMs !== undefined
      ? { overhead: round(latencyStats(latencies.map((l) => l - ctx.modelMs!))) }
      : {}),
    processes: processes.filter((p) => (target.name === 'floor' ? p.name !== 'api' && !p.name.startsWith('worker') : p.name !== 'floor-worker')),
  };
  ctx.record(result);
  // In send order: the long scenario compares early and late turns.
  const turnLatencies = [...outcome.turns].sort((a, b) => a.at - b.at).map((t) => t.latencyMs);
  // Not enumerable: the report's JSON keeps the statistics, not every turn.
  return Object.defineProperty(result, 'turnLatencies', { value: turnLatencies }) as ScenarioResult & { turnLatencies: number[] };
}
