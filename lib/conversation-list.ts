/**
 * A user's conversations, from Temporal's visibility store: every run the user's API and web conversations had
 * (running or closed, within the namespace's retention), one entry per conversation (its newest run), newest
 * activity first. Titles come from Redis (lib/conversation-store.ts); the search attributes give the rest.
 */
import type { Client } from '@temporalio/client';
import { searchAttributeKeys } from '../workflows/messages';
import { parseConversationId } from './conversation-address';
import { quoted } from './visibility-query';

export interface ConversationSummary {
  /** The full id, e.g. `web:alice:4f1c…`. */
  id: string;
  channel: 'api' | 'web';
  clientId: string;
  title: string;
  /** `waiting`, `thinking`, `closing` while its run is open; `closed` after an idle close. */
  status: string;
  turnCount: number;
  lastActiveAt: string;
}

/** Visibility pages hold this many runs; a user with more runs than `maxRuns` sees the newest conversations first. */
const maxRuns = 2000;

export async function listConversations(client: Client, user: string, limit: number): Promise<Omit<ConversationSummary, 'title'>[]> {
  const keys = searchAttributeKeys;
  // Continued runs (every 25 turns, each park and return) are not conversations of their own: only open and closed ones.
  const query = `${keys.user.name} = ${quoted(user)} AND ${keys.channel.name} IN ('api', 'web') AND ExecutionStatus != 'ContinuedAsNew'`;
  const newest = new Map<string, Omit<ConversationSummary, 'title'>>();
  let seen = 0;
  for await (const run of client.workflow.list({ query })) {
    if (++seen > maxRuns) break;
    const ref = parseConversationId(run.workflowId);
    if (!ref || ref.channel === 'telegram' || ref.user !== user) continue;
    const attributes = run.typedSearchAttributes;
    const lastActive = attributes.get(keys.lastActiveAt) ?? run.closeTime ?? run.startTime;
    const running = run.status.name === 'RUNNING';
    const summary = {
      id: ref.id,
      channel: ref.channel,
      clientId: ref.clientId,
      status: running ? (attributes.get(keys.status) ?? 'waiting') : 'closed',
      turnCount: attributes.get(keys.turns) ?? 0,
      lastActiveAt: lastActive.toISOString(),
    };
    const known = newest.get(ref.id);
    // A conversation's running run, else its most recently active one.
    if (!known || (known.status === 'closed' && (running || known.lastActiveAt < summary.lastActiveAt))) newest.set(ref.id, summary);
  }
  return [...newest.values()].sort((a, b) => b.lastActiveAt.localeCompare(a.lastActiveAt)).slice(0, limit);
}
