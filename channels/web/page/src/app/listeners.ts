/**
 * Side effects of actions: the session and resume points are kept in sessionStorage, signing out forgets every
 * cached response, and a new conversation or a finished reply refreshes the list and that conversation's history.
 */
import { createListenerMiddleware, isAnyOf } from '@reduxjs/toolkit';
import { restApi } from '../api/rest-api';
import { conversationForgotten, eventReceived, messageAcknowledged } from '../live/live-slice';
import { saveResumePoint } from '../live/resume-points';
import { saveSession } from '../session/session-storage';
import { signedIn, signedOut, type SessionState } from '../session/session-slice';
import type { LiveState } from '../live/live-slice';

type State = { session: SessionState; live: LiveState };

export const listeners = createListenerMiddleware();

listeners.startListening({
  matcher: isAnyOf(signedIn, signedOut),
  effect: (_action, api) => saveSession((api.getState() as State).session.session),
});

listeners.startListening({
  actionCreator: signedOut,
  effect: (_action, api) => {
    api.dispatch(restApi.util.resetApiState());
  },
});

listeners.startListening({
  actionCreator: eventReceived,
  effect: ({ payload: { conversationId, event } }, api) => {
    const before = (api.getOriginalState() as State).live.conversations[conversationId]?.resumeAfter;
    const after = (api.getState() as State).live.conversations[conversationId]?.resumeAfter;
    if (after !== before) saveResumePoint(conversationId, after);
    if (event.type === 'reply') {
      api.dispatch(restApi.util.invalidateTags(['Conversations', { type: 'History', id: conversationId }]));
    }
  },
});

listeners.startListening({
  actionCreator: messageAcknowledged,
  effect: ({ payload }, api) => {
    if (payload.problem === undefined) api.dispatch(restApi.util.invalidateTags(['Conversations']));
  },
});

listeners.startListening({
  actionCreator: conversationForgotten,
  effect: ({ payload }) => saveResumePoint(payload, undefined),
});
