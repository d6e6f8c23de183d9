/** Who is signed in: the bearer token every REST call and the socket handshake carry, and the user it names. */
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { claimsOf, isExpired } from './token-claims';

export interface Session {
  token: string;
  /** The token's `sub`. */
  user: string;
  /** How it was obtained: a pasted token, or the identity provider (whose tokens are renewed). */
  via: 'token' | 'oidc';
}

export interface SessionState {
  session?: Session;
  /** Why the user was signed out, shown on the sign-in page. */
  notice?: string;
}

/** A session for `token`, or a sentence saying why it cannot be used. */
export function sessionFor(token: string, via: Session['via']): Session | string {
  const claims = claimsOf(token.trim());
  if (!claims) return 'That is not a bearer token (a JWT with a subject): paste the whole token.';
  if (isExpired(claims)) return 'That token has expired: get a new one.';
  return { token: token.trim(), user: claims.sub, via };
}

export const sessionSlice = createSlice({
  name: 'session',
  initialState: (): SessionState => ({}),
  reducers: {
    signedIn(_state, action: PayloadAction<Session>) {
      return { session: action.payload };
    },
    signedOut(_state, action: PayloadAction<{ notice?: string } | undefined>) {
      return action.payload?.notice ? { notice: action.payload.notice } : {};
    },
  },
});

export const { signedIn, signedOut } = sessionSlice.actions;
