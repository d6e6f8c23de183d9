/**
 * `npm run chaos`: runs a drill and prints its verdict; the exit status is non-zero when anything was lost,
 * doubled or reordered, so the drill can gate a release.
 */
import { setMaxListeners } from 'node:events';
import { verdictOf } from './accounting';
import { runDrill } from './drill';
import { parseDrillOptions, usage } from './options';

let options;
try {
  options = parseDrillOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (options === 'help') {
  console.log(usage);
  process.exit(0);
}

console.log(
  `[chaos] ${options.conversations} API + ${options.telegram} Telegram conversations × ${options.messages} messages, ` +
    `${options.workers} workers, ` +
    (options.largeShare > 0 ? `${Math.round(options.largeShare * 100)} % large messages, ` : '') +
    `worker kill every ${options.killEveryMs / 1000} s, faults: ${options.faults.join(', ') || 'worker kills only'}`,
);
// Ctrl-C ends the drill early but still stops everything it started and writes the report of what happened.
const interrupt = new AbortController();
// Every simulated user waits on it (think time, retries): many listeners are expected, not a leak.
setMaxListeners(0, interrupt.signal);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`[chaos] ${signal}: stopping the drill`);
    interrupt.abort();
  });
}
const { report, files } = await runDrill(options, (line) => console.log(line), interrupt.signal);
for (const channel of report.channels) {
  const { p50, p95, p99, max } = channel.latency;
  console.log(
    `[chaos] ${channel.channel}: sent ${channel.sent}, delivered ${channel.delivered}, lost ${channel.lost}, ` +
      `duplicated ${channel.duplicated}, out of order ${channel.outOfOrder}, apologies ${channel.apologies}; ` +
      `latency ms p50 ${p50} p95 ${p95} p99 ${p99} max ${max}; ${channel.throughput.toFixed(1)} msg/s` +
      (channel.unattributed > 0 ? `; ${channel.unattributed} replies answering no sent message` : ''),
  );
  if (channel.telegram) {
    console.log(
      `[chaos] telegram: ${channel.telegram.uncertainSends ?? 'unreadable'} uncertain sends (tg:uncertain-sends), ` +
        `${channel.telegram.leftoverPreviews} previews left unfinished`,
    );
  }
}
for (const fault of report.faults.filter((f) => f.kind !== 'worker-kill')) {
  console.log(`[chaos] ${fault.kind}: recovered ${fault.recoveryMs === null ? 'never' : `${fault.recoveryMs} ms`} after it ended`);
}
const kills = report.faults.filter((f) => f.kind === 'worker-kill').length;
console.log(`[chaos] ${kills} worker kills; report: ${files.html}`);
console.log(`[chaos] ${verdictOf(report)}`);
process.exit(interrupt.signal.aborted ? 130 : report.ok ? 0 : 1);
