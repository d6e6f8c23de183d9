/** The page: the sign-in page until someone is signed in, then the chat with its live connection. */
import Box from '@mui/material/Box';
import CircularProgress from '@mui/material/CircularProgress';
import { useWebConfigQuery } from '../api/rest-api';
import { ChatShell } from '../chat/chat-shell';
import { LiveProvider } from '../live/live-provider';
import { forgetUser } from '../session/oidc';
import { signedOut } from '../session/session-slice';
import { SignInPage } from '../session/sign-in-page';
import { useSignInCallback, useTokenRenewal } from '../session/use-oidc';
import type { Session } from '../session/session-slice';
import type { OidcSettings } from '../session/oidc';
import { useAppDispatch, useAppSelector } from './hooks';

export function App() {
  const session = useAppSelector((state) => state.session.session);
  const oidc = useWebConfigQuery().data?.oidc;
  const completingSignIn = useSignInCallback(oidc);
  if (completingSignIn) {
    return (
      <Box sx={{ display: 'grid', placeItems: 'center', height: '100dvh' }}>
        <CircularProgress aria-label="Signing in" />
      </Box>
    );
  }
  return session ? <SignedIn session={session} oidc={oidc} /> : <SignInPage />;
}

function SignedIn({ session, oidc }: { session: Session; oidc: OidcSettings | undefined }) {
  const dispatch = useAppDispatch();
  useTokenRenewal(oidc, session);
  const signOut = () => {
    if (oidc && session.via === 'oidc') void forgetUser(oidc);
    dispatch(signedOut());
  };
  return (
    <LiveProvider session={session}>
      <ChatShell session={session} onSignOut={signOut} />
    </LiveProvider>
  );
}
