/**
 * The signed-in session in sessionStorage: it survives a reload of the tab and ends with it, and other tabs (and
 * other sites) never see it.
 */
import type { Session } from './session-slice';

const key = 'aac.session';

export function loadSession(): Session | undefined {
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(key) ?? 'null');
    if (typeof stored !== 'object' || stored === null || !('token' in stored) || !('user' in stored) || !('via' in stored)) return undefined;
    return stored as Session;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(key, JSON.stringify(session));
  else sessionStorage.removeItem(key);
}
