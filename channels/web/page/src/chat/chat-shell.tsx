/**
 * The signed-in page: app bar, the conversation list (a side panel on wide screens, a drawer on phones) and the open
 * conversation. With no conversation in the URL, a new chat is open; its id is kept once its first message goes out.
 */
import MenuIcon from '@mui/icons-material/Menu';
import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Drawer from '@mui/material/Drawer';
import IconButton from '@mui/material/IconButton';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import useMediaQuery from '@mui/material/useMediaQuery';
import { useTheme } from '@mui/material/styles';
import { useState } from 'react';
import { useAppSelector } from '../app/hooks';
import { NoticeSnackbar } from '../app/notice-snackbar';
import { useOpenConversation } from '../app/use-route';
import { useConversationsQuery } from '../api/rest-api';
import { hasStarted } from '../live/live-slice';
import { newId } from '../live/new-id';
import { AccountMenu } from '../session/account-menu';
import type { Session } from '../session/session-slice';
import { ColorModeMenu } from '../theme/color-mode-menu';
import { ChatView } from './chat-view';
import { ConnectionStatus } from './connection-status';
import { ConversationList } from './conversation-list';

const drawerWidth = 300;
/** How often the list is read again while it lacks a conversation this tab started. */
const listPollMs = 2000;

export interface ChatShellProps {
  session: Session;
  onSignOut(): void;
}

export function ChatShell({ session, onSignOut }: ChatShellProps) {
  const phone = useMediaQuery(useTheme().breakpoints.down('md'));
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [openId, open] = useOpenConversation();
  const newChatId = () => `web:${session.user}:${newId()}`;
  const [draftId, setDraftId] = useState(newChatId);
  const conversationId = openId ?? draftId;
  const started = useAppSelector((state) => hasStarted(state, conversationId));
  const listed = useConversationsQuery().data?.find((conversation) => conversation.id === conversationId);
  // The list comes from Temporal's visibility store, which learns of a new conversation a moment after it starts.
  useConversationsQuery(undefined, { pollingInterval: started && !listed ? listPollMs : 0 });
  const title = listed?.title ?? 'New chat';

  const select = (id: string | undefined) => {
    open(id);
    setDrawerOpen(false);
  };
  const startNewChat = () => {
    setDraftId(newChatId());
    select(undefined);
  };

  const list = <ConversationList selected={conversationId} onSelect={select} onNew={startNewChat} />;
  return (
    <Box sx={{ display: 'flex', height: '100dvh' }}>
      <AppBar position="fixed" sx={{ zIndex: (theme) => theme.zIndex.drawer + 1 }}>
        <Toolbar sx={{ gap: 1 }}>
          {phone && (
            <IconButton color="inherit" edge="start" aria-label="Conversations" onClick={() => setDrawerOpen(true)}>
              <MenuIcon />
            </IconButton>
          )}
          <Typography component="h1" variant="h6" noWrap sx={{ flex: 1 }}>
            Assistant
          </Typography>
          <ConnectionStatus />
          <ColorModeMenu />
          <AccountMenu user={session.user} onSignOut={onSignOut} />
        </Toolbar>
      </AppBar>
      {phone ? (
        <Drawer
          variant="temporary"
          open={drawerOpen}
          onClose={() => setDrawerOpen(false)}
          slotProps={{ paper: { sx: { width: drawerWidth, maxWidth: '85vw', display: 'flex' } } }}
        >
          {list}
        </Drawer>
      ) : (
        <Drawer variant="permanent" sx={{ width: drawerWidth, flexShrink: 0 }} slotProps={{ paper: { sx: { width: drawerWidth, display: 'flex' } } }}>
          <Toolbar />
          {list}
        </Drawer>
      )}
      <Box component="main" sx={{ flex: 1, minWidth: 0, display: 'flex', flexDirection: 'column', position: 'relative' }}>
        <Toolbar />
        <ChatView
          key={conversationId}
          conversationId={conversationId}
          title={title}
          isNew={conversationId === draftId}
          onSent={() => openId === undefined && open(conversationId)}
          onDeleted={startNewChat}
        />
      </Box>
      <NoticeSnackbar />
    </Box>
  );
}
