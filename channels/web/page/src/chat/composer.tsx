/** Where the user writes: Enter sends, Shift+Enter starts a new line. */
import SendIcon from '@mui/icons-material/Send';
import Box from '@mui/material/Box';
import IconButton from '@mui/material/IconButton';
import TextField from '@mui/material/TextField';
import { useState, type Ref } from 'react';

export interface ComposerProps {
  onSend(text: string): void;
  inputRef?: Ref<HTMLTextAreaElement>;
}

export function Composer({ onSend, inputRef }: ComposerProps) {
  const [text, setText] = useState('');
  const send = () => {
    if (!text.trim()) return;
    onSend(text);
    setText('');
  };
  return (
    <Box
      component="form"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
      sx={{ display: 'flex', alignItems: 'flex-start', gap: 1, px: { xs: 1.5, md: 3 }, pt: 1.5, pb: 1, borderTop: 1, borderColor: 'divider' }}
    >
      <TextField
        inputRef={inputRef}
        label="Message"
        multiline
        maxRows={8}
        fullWidth
        autoComplete="off"
        value={text}
        helperText="Enter sends, Shift+Enter starts a new line"
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
          event.preventDefault();
          send();
        }}
      />
      <IconButton type="submit" color="primary" aria-label="Send" disabled={!text.trim()} sx={{ mt: 1 }}>
        <SendIcon />
      </IconButton>
    </Box>
  );
}
