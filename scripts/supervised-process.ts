/**
 * Keeps one app process running: when it exits while nobody asked it to stop, it is started again. A process
 * killed with SIGKILL (an operator, the OOM killer, a chaos drill) comes back after `initialDelayMs`; one that
 * exits on its own goes through an exponential backoff, so a crash loop does not spin the CPU.
 */
import { describeExit, type ChildExit, type ChildHandle } from './child-process';

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** A process that ran this long was healthy: its next restart waits `initialDelayMs` again. */
  resetAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 10_000, resetAfterMs: 60_000 };

export class SupervisedProcess {
  private child: ChildHandle | undefined;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Number of unexpected exits so far. */
  exits = 0;
  lastExit: ChildExit | undefined;

  constructor(
    readonly name: string,
    private readonly start: () => ChildHandle,
    private readonly log: (line: string) => void,
    private readonly policy: RestartPolicy = defaultRestartPolicy,
  ) {
    this.delayMs = policy.initialDelayMs;
  }

  run(): void {
    const child = this.start();
    const startedAt = Date.now();
    this.child = child;
    void child.exited.then((exit) => this.onExit(exit, Date.now() - startedAt));
  }

  /** Pid of the live process, if one is running right now. */
  pid(): number | undefined {
    return this.child?.running() ? this.child.process.pid : undefined;
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.child?.stop(graceMs);
  }

  private onExit(exit: ChildExit, uptimeMs: number): void {
    if (this.stopping) return;
    this.exits += 1;
    this.lastExit = exit;
    if (uptimeMs >= this.policy.resetAfterMs || exit.signal === 'SIGKILL') this.delayMs = this.policy.initialDelayMs;
    this.log(
      `[stack] ${this.name} exited unexpectedly (${describeExit(exit)}) after ${(uptimeMs / 1000).toFixed(1)} s; ` +
        `restarting in ${this.delayMs / 1000} s`,
    );
    this.timer = setTimeout(() => this.run(), this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, this.policy.maxDelayMs);
  }
}
