/**
 * The API's side of the audit log (lib/audit-log.ts): who the caller is, their roles, the request id and the
 * peer address, taken from the request. Writes never fail the request; a record that cannot be written is logged
 * at error.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AuditAction, AuditEvent, AuditLog } from '../lib/audit-log';
import { peerAddress } from './caller';

declare module 'hono' {
  interface ContextVariableMap {
    audit: AuditLog;
  }
}

/** Makes the log reachable from every handler and helper as `audit(c, …)`. */
export function withAudit(log: AuditLog): MiddlewareHandler {
  return async (c, next) => {
    c.set('audit', log);
    await next();
  };
}

export function audit(c: Context, action: AuditAction, target: string, outcome: AuditEvent['outcome']): void {
  const principal = c.get('principal');
  c.get('audit').record({
    actor: principal?.user ?? '(no valid token)',
    roles: principal ? [principal.role] : [],
    action,
    target,
    outcome,
    requestId: c.get('requestId') ?? '',
    ip: peerAddress(c),
  });
}
