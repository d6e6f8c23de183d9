/**
 * The REST payloads the page reads (see /openapi.json). Written out here: the page's program cannot import the
 * server's modules (lib/conversation-list.ts, lib/conversation-history.ts, api/routes/web-page.ts) it mirrors.
 */

/** One entry of `GET /api/v1/conversations`, newest first. `id` is the full id (`web:alice:x`). */
export interface ConversationSummary {
  id: string;
  channel: 'api' | 'web' | 'telegram';
  clientId: string;
  title: string;
  status: string;
  turnCount: number;
  lastActiveAt: string;
}

/** One message of a conversation's history, oldest first. */
export interface HistoryItem {
  turn: number;
  role: 'user' | 'assistant';
  id: string;
  text: string;
  at: string;
  inReplyTo?: string[];
  provider?: string;
  model?: string;
}

export interface HistoryPage {
  conversationId: string;
  messages: HistoryItem[];
  nextAfter: number | null;
}

/** `GET /web/config.json`: what the server tells the page about signing in. */
export interface WebConfig {
  /** Pasting a token is offered (development, or no identity provider configured). */
  tokenSignIn: boolean;
  /** OpenID Connect authorization code + PKCE against this provider. */
  oidc?: { authority: string; clientId: string; scope: string };
}
