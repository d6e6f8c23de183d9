/** What can be done with the open conversation: export it (Markdown, JSON), reset its context, delete it. */
import DeleteIcon from '@mui/icons-material/DeleteOutlined';
import DownloadIcon from '@mui/icons-material/Download';
import MoreVertIcon from '@mui/icons-material/MoreVert';
import RestartAltIcon from '@mui/icons-material/RestartAlt';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import IconButton from '@mui/material/IconButton';
import ListItemIcon from '@mui/material/ListItemIcon';
import Menu from '@mui/material/Menu';
import MenuItem from '@mui/material/MenuItem';
import { useState } from 'react';
import { useAppDispatch } from '../app/hooks';
import { noticeShown } from '../app/notice-slice';
import { describeError } from '../api/problem';
import { restApi, useDeleteConversationMutation, useResetConversationMutation } from '../api/rest-api';
import { download, exportConversation, type ExportFormat } from '../export/conversation-export';
import { conversationForgotten } from '../live/live-slice';

const exports: { format: ExportFormat; label: string }[] = [
  { format: 'markdown', label: 'Export as Markdown' },
  { format: 'json', label: 'Export as JSON' },
];

export interface ConversationMenuProps {
  conversation: { id: string; title: string };
  /** Nothing to act on yet (a new chat before its first message). */
  disabled: boolean;
  onDeleted(): void;
}

export function ConversationMenu({ conversation, disabled, onDeleted }: ConversationMenuProps) {
  const { id } = conversation;
  const dispatch = useAppDispatch();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [reset] = useResetConversationMutation();
  const [remove, removal] = useDeleteConversationMutation();
  const failed = (error: unknown) => dispatch(noticeShown('error', describeError(error)));

  const exportAs = async (format: ExportFormat) => {
    setAnchor(null);
    const reading = dispatch(restApi.endpoints.history.initiate(id, { subscribe: false, forceRefetch: true }));
    try {
      download(exportConversation(conversation, await reading.unwrap(), format));
    } catch (error) {
      failed(error);
    }
  };
  const resetContext = async () => {
    setAnchor(null);
    try {
      await reset(id).unwrap();
      dispatch(noticeShown('success', 'Reset: the assistant starts afresh from here; the history stays.'));
    } catch (error) {
      failed(error);
    }
  };
  const deleteConversation = async () => {
    try {
      await remove(id).unwrap();
      setConfirming(false);
      dispatch(conversationForgotten(id));
      dispatch(noticeShown('success', 'The conversation was deleted.'));
      onDeleted();
    } catch {
      // The dialog stays open and shows why.
    }
  };

  return (
    <>
      <IconButton aria-label="Conversation actions" aria-haspopup="menu" disabled={disabled} onClick={(event) => setAnchor(event.currentTarget)}>
        <MoreVertIcon />
      </IconButton>
      <Menu anchorEl={anchor} open={anchor !== null} onClose={() => setAnchor(null)}>
        {exports.map(({ format, label }) => (
          <MenuItem key={format} onClick={() => void exportAs(format)}>
            <ListItemIcon>
              <DownloadIcon fontSize="small" />
            </ListItemIcon>
            {label}
          </MenuItem>
        ))}
        <MenuItem onClick={() => void resetContext()}>
          <ListItemIcon>
            <RestartAltIcon fontSize="small" />
          </ListItemIcon>
          Reset context
        </MenuItem>
        <MenuItem
          onClick={() => {
            setAnchor(null);
            removal.reset();
            setConfirming(true);
          }}
        >
          <ListItemIcon>
            <DeleteIcon fontSize="small" />
          </ListItemIcon>
          Delete…
        </MenuItem>
      </Menu>
      <Dialog open={confirming} onClose={() => setConfirming(false)} aria-labelledby="delete-title">
        <DialogTitle id="delete-title">Delete this conversation?</DialogTitle>
        <DialogContent>
          <DialogContentText>
            “{conversation.title}” and its whole history are removed everywhere, for good. Export it first to keep a copy.
          </DialogContentText>
          {removal.isError && (
            <Alert severity="error" sx={{ mt: 2 }}>
              {describeError(removal.error)}
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirming(false)} autoFocus>
            Cancel
          </Button>
          <Button color="error" variant="contained" loading={removal.isLoading} onClick={() => void deleteConversation()}>
            Delete
          </Button>
        </DialogActions>
      </Dialog>
    </>
  );
}
