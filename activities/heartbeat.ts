/**
 * Heartbeats for the model activities. They keep a long call visibly alive (a killed worker is noticed within
 * seconds; a cancellation request reaches the activity) and carry what a later attempt must know: which
 * providers refused this very request, so a retry never sends it to them again.
 */
import type { Context } from '@temporalio/activity';

interface PulseDetails {
  rejectedProviders?: string[];
}

export class Pulse {
  /** Providers that rejected the request in an earlier attempt of this activity. */
  readonly rejectedEarlier: ReadonlySet<string>;
  private readonly rejected: Set<string>;

  constructor(private readonly context: Context) {
    const details = context.info.heartbeatDetails as PulseDetails | undefined;
    this.rejected = new Set(details?.rejectedProviders ?? []);
    this.rejectedEarlier = new Set(this.rejected);
  }

  /** The SDK throttles heartbeats, so calling this often (e.g. on every token) costs nothing. */
  beat(): void {
    this.context.heartbeat({ rejectedProviders: [...this.rejected] } satisfies PulseDetails);
  }

  rejectedBy(provider: string): void {
    this.rejected.add(provider);
    this.beat();
  }

  /** Beats every quarter of the heartbeat timeout (at most every 5 s) until `fn` settles. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    const timeoutMs = this.context.info.heartbeatTimeoutMs;
    const periodMs = timeoutMs ? Math.min(5_000, Math.max(50, timeoutMs / 4)) : 5_000;
    this.beat();
    const timer = setInterval(() => this.beat(), periodMs);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
  }
}
