/**
 * One chaos drill, start to end: private infrastructure, simulated users, faults on a schedule, a drain period,
 * then the accounting and the report files.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { developmentAuthorization } from '../dev-credentials';
import { account } from './accounting';
import type { DrillLog, FaultRecord } from './drill-log';
import type { DrillReport } from './drill-report';
import { scheduleLengthMs, startFaults, type FaultPlan } from './faults';
import { startInfrastructure } from './infrastructure';
import { runLoad, type LoadRecord } from './load';
import type { DrillOptions } from './options';
import { writeReport } from './report-html';
import { startTelegramUsers, type TelegramLoad } from './telegram-load';

/** After the last message is sent, replies still on their way get this long to arrive. */
const drainTimeoutMs = 60_000;

export interface DrillResult {
  report: DrillReport;
  files: { json: string; html: string };
}

/**
 * @param progress receives one status line every few seconds and a line per fault.
 * The services' own output goes to `<out>/services.log`.
 */
export async function runDrill(options: DrillOptions, progress: (line: string) => void, interrupt: AbortSignal): Promise<DrillResult> {
  const workDir = mkdtempSync(join(tmpdir(), 'aac-chaos-'));
  const servicesLog = join(workDir, 'services.log');
  const infra = await startInfrastructure({
    dir: workDir,
    workers: options.workers,
    telegram: options.telegram > 0,
    log: (line) => appendFileSync(servicesLog, `${line}\n`),
  });
  const plan: FaultPlan = { killEveryMs: options.killEveryMs, faults: options.faults, outageMs: options.outageMs };
  // Stretch the users' pauses so the load outlasts the fault schedule: a fault with no traffic proves nothing.
  const thinkMs = Math.max(options.thinkMs, scheduleLengthMs(plan) / options.messages);
  const record: LoadRecord = { messages: [], replies: [], ignoredMessageIds: [] };
  const faults: FaultRecord[] = [];
  const stopFaults = new AbortController();
  const startedAt = Date.now();
  const status = setInterval(() => progress(statusLine(record, faults, startedAt)), 3000);
  const runId = `chaos-${startedAt.toString(36)}`;
  let telegramUsers: TelegramLoad | undefined;
  let uncertainSends: number | null = null;

  try {
    interrupt.addEventListener('abort', () => stopFaults.abort(), { once: true });
    const injection = startFaults(infra, plan, faults, stopFaults.signal, progress);
    if (infra.telegram) {
      telegramUsers = startTelegramUsers({
        telegram: infra.telegram,
        runId,
        users: options.telegram,
        messages: options.messages,
        thinkMs,
        messageChars: options.messageChars,
        largeShare: options.largeShare,
        replyTimeoutMs: options.replyTimeoutMs,
        signal: interrupt,
      }, record);
    }
    await runLoad(
      {
        api: infra.stack.urls.api,
        authorization: developmentAuthorization(infra.stack),
        runId,
        conversations: options.conversations,
        messages: options.messages,
        thinkMs,
        messageChars: options.messageChars,
        largeShare: options.largeShare,
        replyTimeoutMs: options.replyTimeoutMs,
        dropEvery: options.dropEvery,
        signal: interrupt,
      },
      record,
      async (pending) => {
        await telegramUsers?.done;
        await injection.scheduled;
        stopFaults.abort();
        await injection.finished;
        const deadline = Date.now() + drainTimeoutMs;
        const waiting = () => pending() + (telegramUsers?.pending() ?? 0);
        while (waiting() > 0 && Date.now() < deadline && !interrupt.aborted) await sleep(500);
      },
    );
  } finally {
    clearInterval(status);
    stopFaults.abort();
    // The last look at the chats records previews left unfinished; the counter is read while Redis still runs.
    telegramUsers?.stop();
    if (infra.telegram) uncertainSends = await infra.uncertainSends();
    await infra.stop();
  }

  const log: DrillLog = {
    startedAt,
    endedAt: Date.now(),
    options: { ...options, thinkMs },
    messages: record.messages,
    replies: record.replies,
    faults,
    ignoredMessageIds: record.ignoredMessageIds,
    ...(infra.telegram ? { telegram: { uncertainSends } } : {}),
  };
  const report = account(log);
  const files = writeReport(options.out, report, log);
  rmSync(workDir, { recursive: true, force: true });
  return { report, files };
}

function statusLine(record: LoadRecord, faults: FaultRecord[], startedAt: number): string {
  const answered = new Set(record.replies.flatMap((r) => r.inReplyTo));
  const sent = record.messages.length;
  const done = record.messages.filter((m) => answered.has(m.messageId)).length;
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  return `[chaos] ${seconds} s: sent ${sent}, answered ${done}, pending ${sent - done}, faults ${faults.length}`;
}
