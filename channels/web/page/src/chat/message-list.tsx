/**
 * The conversation's messages, oldest first, kept scrolled to the newest while the reader is at the bottom (a
 * reader who scrolled up to read is left where they are). A log for screen readers: new messages are announced.
 */
import Box from '@mui/material/Box';
import { useEffect, useRef } from 'react';
import { MessageBubble } from './message-bubble';
import type { ShownMessage } from './timeline';

/** Within this many pixels of the bottom counts as "at the bottom". */
const bottomSlackPx = 80;

export interface MessageListProps {
  messages: ShownMessage[];
  /** New messages and replies arrive as they happen. */
  live: boolean;
  onResend(message: ShownMessage): void;
}

export function MessageList({ messages, live, onResend }: MessageListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);

  useEffect(() => {
    const element = scroller.current;
    if (element && atBottom.current) element.scrollTop = element.scrollHeight;
  }, [messages]);

  return (
    <Box
      ref={scroller}
      onScroll={(event) => {
        const element = event.currentTarget;
        atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < bottomSlackPx;
      }}
      sx={{ flex: 1, overflowY: 'auto', px: { xs: 1.5, md: 3 }, py: 2 }}
    >
      <Box component="ol" role="log" aria-label="Messages" data-live={live} sx={{ listStyle: 'none', m: 0, p: 0, maxWidth: 900, mx: 'auto' }}>
        {messages.map((message) => (
          <MessageBubble
            key={message.key}
            message={message}
            {...(message.state === 'rejected' ? { onResend: () => onResend(message) } : {})}
          />
        ))}
      </Box>
    </Box>
  );
}
