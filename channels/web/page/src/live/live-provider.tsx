/** Opens the signed-in user's live connection for the components below and closes it on sign-out. */
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useStore } from 'react-redux';
import { useAppDispatch } from '../app/hooks';
import type { RootState } from '../app/store';
import { signedOut, type Session } from '../session/session-slice';
import { LiveConnection } from './live-connection';
import { loadResumePoint } from './resume-points';

const LiveContext = createContext<LiveConnection | undefined>(undefined);

export function LiveProvider({ session, children }: { session: Session; children: ReactNode }) {
  const dispatch = useAppDispatch();
  const store = useStore<RootState>();
  const [connection, setConnection] = useState<LiveConnection>();
  const { user } = session;

  // One connection per user: a renewed token only changes what the next handshake sends (the effect below).
  useEffect(() => {
    const live = new LiveConnection({
      token: store.getState().session.session?.token ?? '',
      user,
      dispatch,
      resumePoint: (id) => store.getState().live.conversations[id]?.resumeAfter ?? loadResumePoint(id),
      onUnauthorized: (detail) => dispatch(signedOut({ notice: `Signed out: ${detail}` })),
    });
    setConnection(live);
    return () => live.close();
  }, [user, dispatch, store]);

  useEffect(() => connection?.setToken(session.token), [connection, session.token]);

  return connection ? <LiveContext value={connection}>{children}</LiveContext> : null;
}

export function useLive(): LiveConnection {
  const connection = useContext(LiveContext);
  if (!connection) throw new Error('useLive() needs a <LiveProvider> above it');
  return connection;
}
