/**
 * `npm run bench`: starts its own stack (the way `npm start` runs it), a zero-latency model and the raw-Temporal
 * floor, runs the scenarios, and writes bench.json and bench.html. Exits non-zero when any turn failed, never
 * because of a timing.
 * @example npm run bench -- --quick
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compare, writeReport, type BenchReport } from './report';
import { fullPlan, quickPlan, scenarioNames, scenarios, type BenchContext, type ScenarioName, type ScenarioResult } from './scenarios';
import { startWorld, type World } from './world';

const usage = `npm run bench -- [options]
  --quick            the same scenarios, small (under two minutes; what CI runs)
  --only a,b         run only these scenarios (${scenarioNames.join(', ')})
  --workers N        worker processes (default 1, as npm start)
  --cluster          Temporal's real server on a private PostgreSQL (npm run start:cluster's profile) instead of the
                     dev server; with --shards N history shards (default 4) and --api-replicas N (default 2)
  --sweep 1,10,50    conversation counts of the concurrency sweep (default: the plan's)
  --seconds S        how long each step of the sweep runs (default: 30, quick 5)
  --open 2000,10000  how many conversations the open scenario opens, in steps (default: the plan's)
  --parked           the restart scenario with conversations parked once quiet (CONVERSATION_PARK_AFTER; off by default)
  --out DIR          where bench.json, bench.html and the processes' log go (default data/bench/<time>)`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    workers: { type: 'string', default: '1' },
    cluster: { type: 'boolean', default: false },
    shards: { type: 'string', default: '4' },
    'api-replicas': { type: 'string', default: '2' },
    sweep: { type: 'string' },
    seconds: { type: 'string' },
    open: { type: 'string' },
    parked: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const only = (values.only?.split(',') ?? [...scenarioNames]) as ScenarioName[];
const unknown = only.filter((name) => !scenarioNames.includes(name));
const workers = Number(values.workers);
const cluster = values.cluster ? { historyShards: Number(values.shards), apiReplicas: Number(values['api-replicas']) } : undefined;
const sweep = values.sweep?.split(',').map(Number);
const open = values.open?.split(',').map(Number);
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
const positive = (n: number | undefined) => n === undefined || (Number.isInteger(n) && n > 0);
const problem = unknown.length > 0 ? `unknown scenario: ${unknown.join(', ')}`
  : !positive(workers) ? '--workers takes a positive integer'
  : cluster && !(positive(cluster.historyShards) && positive(cluster.apiReplicas)) ? '--shards and --api-replicas take positive integers'
  : !(sweep ?? []).every(positive) ? '--sweep takes positive integers separated by commas'
  : !(open ?? []).every(positive) ? '--open takes positive integers separated by commas'
  : !positive(seconds) ? '--seconds takes a positive integer' : undefined;
if (problem) {
  console.error(`${problem}\n\n${usage}`);
  process.exit(2);
}
const basePlan = values.quick ? quickPlan : fullPlan;
const plan = {
  ...basePlan,
  ...(sweep ? { sweep } : {}),
  ...(open ? { open } : {}),
  ...(seconds ? { sweepMs: seconds * 1000 } : {}),
  restart: { ...basePlan.restart, parked: values.parked },
};

const startedAt = new Date().toISOString();
const dir = values.out ?? join('data', 'bench', startedAt.replace(/[:.]/g, '-'));
mkdirSync(dir, { recursive: true });
const processLog = createWriteStream(join(dir, 'processes.log'));
const say = (line: string) => console.log(line);
let world: World | undefined;
// Ctrl-C: stop every process the bench started and keep the report of the scenarios that finished.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`[bench] ${signal}: stopping`);
    void (world?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const profile = cluster ? `cluster (${cluster.historyShards} history shards, ${cluster.apiReplicas} API replicas)` : 'dev server';
say(`[bench] ${values.quick ? 'quick' : 'full'} run of ${only.join(', ')}; ${profile}; ${workers} worker(s); output in ${dir}`);
world = await startWorld({ dir, workers, cluster, log: (line) => processLog.write(`${line}\n`) });
const results: ScenarioResult[] = [];
const report = (): BenchReport => ({
  startedAt,
  quick: values.quick,
  workers,
  profile,
  machine: { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
  scenarios: results,
  comparisons: compare(results),
});
const ctx: BenchContext = {
  world,
  plan,
  runId: `b${Date.now().toString(36)}`,
  log: say,
  progress: (label) => {
    let last = 0;
    return (done, errors) => {
      if (Date.now() - last < 2_000) return;
      last = Date.now();
      say(`[bench] ${label}: ${done} turns${errors > 0 ? `, ${errors} errors` : ''}`);
    };
  },
  record: (result) => {
    results.push(result);
    const { p50, p99 } = result.latency;
    say(
      `[bench] ${result.scenario} ${result.target}: ${result.turnsPerSecond} turns/s, p50 ${p50} ms, p99 ${p99} ms` +
        (result.firstToken ? `, first token p50 ${result.firstToken.p50} ms` : '') +
        `, ${result.errors} errors; ` +
        result.processes.map((p) => `${p.name} ${p.cpuPercent ?? '?'} % CPU ${p.peakRssMb ?? '?'} MB`).join(', '),
    );
    writeReport(dir, report());
  },
};

let failure: unknown;
try {
  for (const name of only) {
    say(`[bench] scenario ${name}`);
    await scenarios[name](ctx);
  }
} catch (error) {
  failure = error;
} finally {
  await world.stop();
  processLog.end();
}
const files = writeReport(dir, report());
const errors = results.reduce((sum, r) => sum + r.errors, 0);
for (const [name, value] of Object.entries(report().comparisons)) say(`[bench] ${name}: ${value ?? '—'}`);
say(`[bench] report: ${files.html}`);
if (failure) say(`[bench] FAILED: ${(failure as Error).message}; the processes' output is in ${join(dir, 'processes.log')}`);
else if (errors > 0) say(`[bench] FAILED: ${errors} turns failed (see errorSamples in ${files.json})`);
else say('[bench] done: no errors');
process.exit(failure || errors > 0 ? 1 : 0);

