/**
 * Signing in: with the identity provider the server names (OpenID Connect), and, in development or without a
 * provider, by pasting a bearer token (`npm start` writes one for user `dev` to data/dev-token).
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Container from '@mui/material/Container';
import Divider from '@mui/material/Divider';
import Paper from '@mui/material/Paper';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { describeError } from '../api/problem';
import { useWebConfigQuery } from '../api/rest-api';
import { startSignIn } from './oidc';
import { sessionFor, signedIn } from './session-slice';

export function SignInPage() {
  const dispatch = useAppDispatch();
  const notice = useAppSelector((state) => state.session.notice);
  const config = useWebConfigQuery();
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string>();
  const oidc = config.data?.oidc;
  // Without the server's word (it may be down), pasting a token is still worth offering.
  const tokenSignIn = config.data?.tokenSignIn ?? config.isError;

  const submit = () => {
    const session = sessionFor(token, 'token');
    if (typeof session === 'string') setProblem(session);
    else dispatch(signedIn(session));
  };

  return (
    <Container component="main" maxWidth="sm" sx={{ py: { xs: 4, md: 10 } }}>
      <Paper variant="outlined" sx={{ p: { xs: 3, md: 4 }, display: 'flex', flexDirection: 'column', gap: 2 }}>
        <Typography component="h1" variant="h5">
          Sign in to the assistant
        </Typography>
        {notice && <Alert severity="warning">{notice}</Alert>}
        {config.isLoading && <CircularProgress aria-label="Loading" sx={{ alignSelf: 'center' }} />}
        {config.isError && <Alert severity="error">{describeError(config.error)}</Alert>}
        {oidc && (
          <Button variant="contained" size="large" onClick={() => void startSignIn(oidc).catch((error: unknown) => setProblem(describeError(error)))}>
            Sign in with {new URL(oidc.authority).host}
          </Button>
        )}
        {oidc && tokenSignIn && <Divider>or</Divider>}
        {tokenSignIn && (
          <Box
            component="form"
            onSubmit={(event) => {
              event.preventDefault();
              submit();
            }}
            sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}
          >
            <TextField
              label="Access token"
              value={token}
              onChange={(event) => setToken(event.target.value)}
              error={problem !== undefined}
              helperText={problem ?? 'In development, npm start writes one for user dev to data/dev-token; npm run token -- --user <name> makes more.'}
              autoComplete="off"
              spellCheck={false}
              multiline
              minRows={3}
              maxRows={6}
              slotProps={{ htmlInput: { style: { fontFamily: 'monospace', wordBreak: 'break-all' } } }}
              autoFocus
            />
            <Button type="submit" variant={oidc ? 'outlined' : 'contained'} disabled={!token.trim()}>
              Sign in with this token
            </Button>
          </Box>
        )}
      </Paper>
    </Container>
  );
}
