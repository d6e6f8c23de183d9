/** A fenced code block with a button that copies its text. */
import CheckIcon from '@mui/icons-material/Check';
import ContentCopyIcon from '@mui/icons-material/ContentCopy';
import Box from '@mui/material/Box';
import IconButton from '@mui/material/IconButton';
import Tooltip from '@mui/material/Tooltip';
import { useRef, useState, type ReactNode } from 'react';
import { useAppDispatch } from '../app/hooks';
import { noticeShown } from '../app/notice-slice';

/** How long the button shows that the copy worked. */
const copiedMs = 2000;

export function CodeBlock({ children }: { children?: ReactNode }) {
  const pre = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  const dispatch = useAppDispatch();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(pre.current?.textContent ?? '');
      setCopied(true);
      setTimeout(() => setCopied(false), copiedMs);
    } catch {
      dispatch(noticeShown('error', 'The browser did not allow copying (it needs https or localhost): select the text instead.'));
    }
  };
  return (
    <Box sx={{ position: 'relative' }}>
      <Tooltip title={copied ? 'Copied' : 'Copy code'}>
        <IconButton
          size="small"
          aria-label={copied ? 'Copied' : 'Copy code'}
          onClick={copy}
          sx={{ position: 'absolute', top: 4, right: 4, bgcolor: 'background.paper', '&:hover': { bgcolor: 'background.paper' } }}
        >
          {copied ? <CheckIcon fontSize="small" /> : <ContentCopyIcon fontSize="small" />}
        </IconButton>
      </Tooltip>
      <pre ref={pre}>{children}</pre>
    </Box>
  );
}
