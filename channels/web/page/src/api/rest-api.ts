/**
 * The REST API through RTK Query: the conversation list, full histories (every page, oldest first), reset and
 * delete. Every call carries the session's bearer token; a 401 signs the user out with the server's reason.
 */
import { createApi, fetchBaseQuery, type BaseQueryFn, type FetchArgs, type FetchBaseQueryError } from '@reduxjs/toolkit/query/react';
import { signedOut, type SessionState } from '../session/session-slice';
import { describeError } from './problem';
import type { ConversationSummary, HistoryItem, HistoryPage, WebConfig } from './types';

const rawQuery = fetchBaseQuery({
  baseUrl: '/',
  prepareHeaders(headers, { getState }) {
    const { session } = (getState() as { session: SessionState }).session;
    if (session) headers.set('authorization', `Bearer ${session.token}`);
    return headers;
  },
});

const authenticatedQuery: BaseQueryFn<string | FetchArgs, unknown, FetchBaseQueryError> = async (args, api, extra) => {
  const result = await rawQuery(args, api, extra);
  if (result.error?.status === 401) {
    api.dispatch(signedOut({ notice: `Signed out: ${describeError(result.error)}` }));
  }
  return result;
};

/** Messages per history request (the API's most). */
const historyPageSize = 200;

/** `web:alice:x` → the path segment the API accepts (`web%3Aalice%3Ax`). */
export const conversationPath = (id: string) => `api/v1/conversations/${encodeURIComponent(id)}`;

export const restApi = createApi({
  reducerPath: 'rest',
  baseQuery: authenticatedQuery,
  tagTypes: ['Conversations', 'History'],
  endpoints: (build) => ({
    webConfig: build.query<WebConfig, void>({ query: () => 'web/config.json' }),
    conversations: build.query<ConversationSummary[], void>({
      query: () => 'api/v1/conversations',
      transformResponse: (body: { conversations: ConversationSummary[] }) => body.conversations,
      providesTags: ['Conversations'],
    }),
    /** The whole history of a conversation (live and archived), read page by page. */
    history: build.query<HistoryItem[], string>({
      async queryFn(id, _api, _extra, query) {
        const messages: HistoryItem[] = [];
        let after = 0;
        for (;;) {
          const page = await query(`${conversationPath(id)}/messages?after=${after}&limit=${historyPageSize}`);
          if (page.error) return { error: page.error };
          const { messages: more, nextAfter } = page.data as HistoryPage;
          messages.push(...more);
          if (nextAfter === null) return { data: messages };
          after = nextAfter;
        }
      },
      providesTags: (_result, _error, id) => [{ type: 'History', id }],
    }),
    resetConversation: build.mutation<void, string>({
      query: (id) => ({ url: `${conversationPath(id)}/reset`, method: 'POST' }),
      invalidatesTags: ['Conversations'],
    }),
    deleteConversation: build.mutation<void, string>({
      query: (id) => ({ url: conversationPath(id), method: 'DELETE' }),
      // Taken out of the list here: the list is read from Temporal's visibility store, which forgets a moment later.
      async onQueryStarted(id, { dispatch, queryFulfilled }) {
        try {
          await queryFulfilled;
        } catch {
          return; // not deleted: the caller shows why
        }
        dispatch(restApi.util.updateQueryData('conversations', undefined, (list) => list.filter((conversation) => conversation.id !== id)));
      },
      invalidatesTags: (_result, error, id) => (error ? [] : [{ type: 'History', id }]),
    }),
  }),
});

export const {
  useWebConfigQuery,
  useConversationsQuery,
  useHistoryQuery,
  useResetConversationMutation,
  useDeleteConversationMutation,
} = restApi;
