/** One message of the conversation: the user's as written, the assistant's as Markdown (streaming or final). */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { MarkdownView } from '../markdown/markdown-view';
import { visuallyHidden } from '../theme/visually-hidden';
import type { ShownMessage } from './timeline';

export function MessageBubble({ message, onResend }: { message: ShownMessage; onResend?: () => void }) {
  const mine = message.role === 'user';
  const streaming = message.state === 'streaming';
  return (
    <Box
      component="li"
      data-role={message.role}
      data-state={message.state}
      aria-busy={streaming}
      sx={{ display: 'flex', justifyContent: mine ? 'flex-end' : 'flex-start', mb: 1.5 }}
    >
      <Paper
        variant={mine ? 'elevation' : 'outlined'}
        elevation={0}
        sx={{
          px: 2,
          py: 1.25,
          maxWidth: { xs: '92%', md: '75%' },
          minWidth: 0,
          bgcolor: mine ? 'primary.main' : 'background.paper',
          color: mine ? 'primary.contrastText' : 'text.primary',
          opacity: message.state === 'sending' ? 0.7 : 1,
        }}
      >
        <Box component="span" sx={visuallyHidden}>
          {mine ? 'You:' : 'Assistant:'}
        </Box>
        {mine ? (
          <Typography sx={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{message.text}</Typography>
        ) : (
          <MarkdownView text={message.joinedMidway ? `…${message.text}` : message.text} />
        )}
        {streaming && (
          <Typography variant="caption" sx={{ display: 'block', color: 'text.secondary', mt: 0.5 }}>
            {message.text ? 'Writing…' : 'Thinking…'}
          </Typography>
        )}
        {message.state === 'sending' && (
          <Typography variant="caption" sx={{ display: 'block', mt: 0.5 }}>
            Sending…
          </Typography>
        )}
        {message.state === 'rejected' && (
          <Box role="alert" sx={{ mt: 1 }}>
            <Typography variant="body2">Not sent: {message.problem}</Typography>
            {onResend && (
              <Button size="small" color="inherit" variant="outlined" onClick={onResend} sx={{ mt: 0.5 }}>
                Send again
              </Button>
            )}
          </Box>
        )}
      </Paper>
    </Box>
  );
}
