/** The caller of a request as the edge API knows it (lib/conversation-address.ts): who, which request, from where. */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Caller } from '../lib/conversation-address';

/** Only on routes behind authenticate() (api/auth.ts). */
export function callerOf(c: Context): Caller {
  return { principal: c.get('principal'), requestId: c.get('requestId') ?? '', ip: peerAddress(c) };
}

export function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? '';
  } catch {
    return ''; // not served by @hono/node-server (an in-memory request)
  }
}
