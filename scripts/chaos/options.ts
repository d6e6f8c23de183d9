/** `npm run chaos -- [options]`: what the drill does, parsed from the command line. */
import { parseArgs } from 'node:util';
import { msToNumber, type Duration } from '@temporalio/common';
import type { FaultKind } from './drill-log';

export interface DrillOptions {
  conversations: number;
  /** Telegram users, each in its own private chat with the bot (0: no Telegram channel). */
  telegram: number;
  messages: number;
  workers: number;
  /** SIGKILL a random worker this often (0: never). */
  killEveryMs: number;
  /** Faults besides worker kills, each injected once. */
  faults: Exclude<FaultKind, 'worker-kill'>[];
  outageMs: number;
  thinkMs: number;
  messageChars: number;
  /**
   * Share of messages (0..1) padded with CJK text to near the size limit: 15,900 characters (~48 KB of UTF-8) over
   * the API, 4,000 over Telegram. Picked evenly by position, so the same messages are large in every drill.
   */
  largeShare: number;
  /** Give up on one message after this long (it then counts as lost unless its reply shows up later). */
  replyTimeoutMs: number;
  /** Deliberately ignore every Nth reply at the client (0: off): proves the accounting catches losses. */
  dropEvery: number;
  out: string;
  quick: boolean;
}

export const usage = `npm run chaos -- [options]

Starts a private stack (Temporal dev server, Redis, MinIO, a local model server, N workers, the API), drives
simulated users over the HTTP API and over Telegram (a local Bot API server), injects faults, and reports lost, duplicated and out-of-order replies.
Exit status 0 only when nothing was lost, doubled or reordered.

  --conversations N   simulated conversations, one user each          (default 50; --quick 10)
  --telegram N        simulated Telegram users, one private chat each;
                      0: no Telegram channel                          (default 50; --quick 3)
  --messages N        messages per conversation                       (default 20; --quick 6)
  --workers N         worker processes                                (default 2)
  --kill-every D      SIGKILL a random worker every D, e.g. 5s; 0 off (default 5s)
  --faults LIST       worker | all | a comma list of temporal-restart, redis-restart, archive-outage,
                      model-outage (each once, besides worker kills)  (default worker; --quick all)
  --outage D          length of the archive and model outages         (default 30s; --quick 10s)
  --think D           pause between a user's messages                 (default 1s; stretched so the run
                      outlasts the fault schedule)
  --message-chars N   length of each message                          (default 80)
  --large-share P     share of messages (0 to 1, e.g. 0.2) padded with CJK text to near the size limit:
                      15,900 characters over the API, 4,000 over Telegram (default 0; --quick 0.2)
  --reply-timeout D   stop waiting for one reply after D              (default 120s)
  --drop-every N      ignore every Nth reply at an API client (tests the accounting; exits non-zero)
  --out DIR           where report.json and report.html go            (default data/chaos/<time>)
  --quick             a short drill with every fault (under 3 minutes) for CI
  --help              this text
`;

const allFaults: DrillOptions['faults'] = ['temporal-restart', 'redis-restart', 'archive-outage', 'model-outage'];

export function parseDrillOptions(argv: string[], now = new Date()): DrillOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      conversations: { type: 'string' },
      telegram: { type: 'string' },
      messages: { type: 'string' },
      workers: { type: 'string' },
      'kill-every': { type: 'string' },
      faults: { type: 'string' },
      outage: { type: 'string' },
      think: { type: 'string' },
      'message-chars': { type: 'string' },
      'large-share': { type: 'string' },
      'reply-timeout': { type: 'string' },
      'drop-every': { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  return {
    conversations: count(values.conversations, quick ? 10 : 50, 'conversations'),
    telegram: values.telegram === undefined ? (quick ? 3 : 50) : count(values.telegram, 0, 'telegram', 0),
    messages: count(values.messages, quick ? 6 : 20, 'messages'),
    workers: count(values.workers, 2, 'workers'),
    killEveryMs: duration(values['kill-every'], '5s', 'kill-every'),
    faults: faults(values.faults ?? (quick ? 'all' : 'worker')),
    outageMs: duration(values.outage, quick ? '10s' : '30s', 'outage'),
    thinkMs: duration(values.think, '1s', 'think'),
    messageChars: count(values['message-chars'], 80, 'message-chars'),
    largeShare: fraction(values['large-share'], quick ? 0.2 : 0, 'large-share'),
    replyTimeoutMs: duration(values['reply-timeout'], '120s', 'reply-timeout'),
    dropEvery: values['drop-every'] === undefined ? 0 : count(values['drop-every'], 0, 'drop-every'),
    out: values.out ?? `data/chaos/${now.toISOString().replace(/[:.]/g, '-')}`,
    quick,
  };
}

function count(value: string | undefined, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected a whole number ≥ ${min}, got "${value}"`);
  return n;
}

function fraction(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new Error(`--${name}: expected a fraction from 0 to 1 such as 0.2, got "${value}"`);
  }
  return n;
}

function duration(value: string | undefined, fallback: string, name: string): number {
  try {
    return msToNumber((value ?? fallback) as Duration);
  } catch {
    throw new Error(`--${name}: expected a duration such as 500ms, 5s or 2m, got "${value}"`);
  }
}

function faults(list: string): DrillOptions['faults'] {
  if (list === 'all') return allFaults;
  const names = list.split(',').map((name) => name.trim()).filter((name) => name && name !== 'worker');
  const unknown = names.filter((name) => !(allFaults as string[]).includes(name));
  if (unknown.length > 0) throw new Error(`--faults: unknown ${unknown.join(', ')} (known: worker, all, ${allFaults.join(', ')})`);
  return names as DrillOptions['faults'];
}
