/** The user's conversations, newest first (web and API together), and the button that starts a new one. */
import AddIcon from '@mui/icons-material/Add';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import LinearProgress from '@mui/material/LinearProgress';
import List from '@mui/material/List';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemText from '@mui/material/ListItemText';
import Typography from '@mui/material/Typography';
import { describeError } from '../api/problem';
import { useConversationsQuery } from '../api/rest-api';

export interface ConversationListProps {
  /** The open conversation's full id. */
  selected: string | undefined;
  onSelect(id: string): void;
  onNew(): void;
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function ConversationList({ selected, onSelect, onNew }: ConversationListProps) {
  const { data: conversations, error, isLoading } = useConversationsQuery();
  return (
    <Box component="nav" aria-label="Conversations" sx={{ display: 'flex', flexDirection: 'column', minHeight: 0, flex: 1 }}>
      <Box sx={{ p: 1.5 }}>
        <Button fullWidth variant="contained" startIcon={<AddIcon />} onClick={onNew}>
          New chat
        </Button>
      </Box>
      {isLoading && <LinearProgress aria-label="Loading conversations" />}
      {error && (
        <Alert severity="error" sx={{ mx: 1.5 }}>
          {describeError(error)}
        </Alert>
      )}
      {conversations?.length === 0 && (
        <Typography variant="body2" color="text.secondary" sx={{ px: 2, py: 1 }}>
          No conversations yet.
        </Typography>
      )}
      <List dense sx={{ overflowY: 'auto', flex: 1 }}>
        {conversations?.map((conversation) => (
          <ListItemButton
            key={conversation.id}
            selected={conversation.id === selected}
            aria-current={conversation.id === selected ? 'page' : undefined}
            onClick={() => onSelect(conversation.id)}
          >
            <ListItemText
              primary={conversation.title}
              secondary={`${conversation.channel === 'api' ? 'API · ' : ''}${when.format(new Date(conversation.lastActiveAt))}`}
              slotProps={{ primary: { noWrap: true } }}
            />
          </ListItemButton>
        ))}
      </List>
    </Box>
  );
}
