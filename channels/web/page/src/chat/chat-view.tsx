/** One conversation: its full history, what streams in live while it is open, and the composer. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import LinearProgress from '@mui/material/LinearProgress';
import Typography from '@mui/material/Typography';
import { useEffect, useMemo, useRef } from 'react';
import { useAppSelector } from '../app/hooks';
import { describeError, statusOf } from '../api/problem';
import { useHistoryQuery } from '../api/rest-api';
import { useLive } from '../live/live-provider';
import { hasStarted } from '../live/live-slice';
import { Composer } from './composer';
import { ConversationMenu } from './conversation-menu';
import { MessageList } from './message-list';
import { shownMessages } from './timeline';

export interface ChatViewProps {
  conversationId: string;
  title: string;
  /** A chat started in this tab: there is nothing to read until the server has its first message. */
  isNew: boolean;
  /** The first message went out (a new chat now has an id worth keeping in the URL). */
  onSent(): void;
  onDeleted(): void;
}

export function ChatView({ conversationId, title, isNew, onSent, onDeleted }: ChatViewProps) {
  const live = useLive();
  const liveState = useAppSelector((state) => state.live.conversations[conversationId]);
  const started = useAppSelector((state) => hasStarted(state, conversationId));
  const history = useHistoryQuery(conversationId, { skip: isNew && !started });
  const input = useRef<HTMLTextAreaElement>(null);
  const exists = history.isSuccess;

  useEffect(() => {
    if (!exists) return undefined;
    live.follow(conversationId);
    return () => live.unfollow(conversationId);
  }, [live, conversationId, exists]);

  useEffect(() => input.current?.focus(), [conversationId]);

  const messages = useMemo(() => shownMessages(history.data, liveState), [history.data, liveState]);
  // A conversation named in the URL that never got a message is not there (404): it is a new chat.
  const failed = history.isError && statusOf(history.error) !== 404;

  return (
    <>
      <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, px: { xs: 1.5, md: 3 }, py: 0.5, borderBottom: 1, borderColor: 'divider' }}>
        <Typography component="h2" variant="subtitle1" noWrap sx={{ flex: 1 }}>
          {title}
        </Typography>
        <ConversationMenu conversation={{ id: conversationId, title }} disabled={!exists} onDeleted={onDeleted} />
      </Box>
      {history.isLoading && <LinearProgress aria-label="Loading the conversation" sx={{ position: 'absolute', left: 0, right: 0 }} />}
      {failed && (
        <Alert severity="error" action={<Button color="inherit" onClick={() => void history.refetch()}>Retry</Button>} sx={{ m: 2 }}>
          {describeError(history.error)}
        </Alert>
      )}
      {messages.length === 0 && !history.isLoading && !failed ? (
        <Box sx={{ flex: 1, display: 'grid', placeItems: 'center', p: 3 }}>
          <Typography color="text.secondary">Ask anything to start the conversation.</Typography>
        </Box>
      ) : (
        <MessageList
          messages={messages}
          live={liveState?.following === true}
          onResend={(message) => message.messageId && live.resend(conversationId, message.messageId, message.text)}
        />
      )}
      <Composer
        inputRef={input}
        onSend={(text) => {
          live.send(conversationId, text);
          onSent();
        }}
      />
    </>
  );
}
