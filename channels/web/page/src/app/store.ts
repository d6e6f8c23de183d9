/** The page's Redux store: the session, the live conversation state, notices and RTK Query's REST cache. */
import { combineReducers, configureStore } from '@reduxjs/toolkit';
import { restApi } from '../api/rest-api';
import { liveSlice } from '../live/live-slice';
import { loadSession } from '../session/session-storage';
import { sessionSlice } from '../session/session-slice';
import { claimsOf, isExpired } from '../session/token-claims';
import { listeners } from './listeners';
import { noticeSlice } from './notice-slice';

const reducer = combineReducers({
  session: sessionSlice.reducer,
  live: liveSlice.reducer,
  notice: noticeSlice.reducer,
  [restApi.reducerPath]: restApi.reducer,
});

export type RootState = ReturnType<typeof reducer>;

export function createStore() {
  const stored = loadSession();
  const claims = stored && claimsOf(stored.token);
  const session = claims && !isExpired(claims) ? stored : undefined;
  return configureStore({
    reducer,
    preloadedState: { session: session ? { session } : {} },
    middleware: (defaults) => defaults().prepend(listeners.middleware).concat(restApi.middleware),
  });
}

export type AppStore = ReturnType<typeof createStore>;
export type AppDispatch = AppStore['dispatch'];
