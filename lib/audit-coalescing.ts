/**
 * Refusals anyone can repeat at will (a bad token, a request past a limit, a role denial) are recorded once per
 * window and caller instead of once each, so that a flood of them cannot flood the audit log, its Redis stream or
 * the archive: the first is recorded at once, and when the window ends one more record counts the rest
 * ("…; 57 more like it within 10 s", with the last request's id). Everything else is recorded one by one.
 */
import type { AuditAction, AuditEvent } from './audit-log';

const floodable: ReadonlySet<AuditAction> = new Set(['auth.token-refused', 'limit.exceeded', 'role.denied']);
/** Callers tracked at once; past it, the rest of a window's refusals are counted together per action. */
const maxCallers = 10_000;

interface Window {
  event: AuditEvent;
  more: number;
  timer: NodeJS.Timeout;
}

export class AuditCoalescing {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly write: (event: AuditEvent) => void,
    private readonly windowMs: number,
  ) {}

  record(event: AuditEvent): void {
    if (!floodable.has(event.action) || this.windowMs === 0) {
      this.write(event);
      return;
    }
    const crowded = this.windows.size >= maxCallers;
    const key = crowded ? `${event.action}\n*` : [event.action, event.actor, event.ip ?? '', event.outcome].join('\n');
    const open = this.windows.get(key);
    if (open) {
      open.more += 1;
      open.event = { ...open.event, ...(event.requestId ? { requestId: event.requestId } : {}) };
      return;
    }
    const shown = crowded ? { ...event, actor: '(many callers)', ip: '', target: 'refusals past the per-caller tracking limit' } : event;
    // A crowd's first refusal is counted with the rest (its own record would name one caller of many).
    if (!crowded) this.write(shown);
    const timer = setTimeout(() => this.close(key), this.windowMs);
    timer.unref();
    this.windows.set(key, { event: shown, more: crowded ? 1 : 0, timer });
  }

  /** Writes what the open windows counted (on shutdown). */
  flush(): void {
    for (const key of [...this.windows.keys()]) this.close(key);
  }

  private close(key: string): void {
    const window = this.windows.get(key);
    if (!window) return;
    clearTimeout(window.timer);
    this.windows.delete(key);
    if (window.more === 0) return;
    const seconds = Math.round(this.windowMs / 100) / 10;
    this.write({ ...window.event, target: `${window.event.target}; ${window.more} more like it within ${seconds} s` });
  }
}
