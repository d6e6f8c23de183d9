/**
 * The custom search attributes operators filter conversations by in the Temporal UI (names are a contract).
 * Registered by the dev stack (also on an existing DB file) and by the compose setup.
 */
export const searchAttributes = {
  ChatChannel: 'Keyword',
  ChatUser: 'Keyword',
  ChatTurns: 'Int',
  ChatLastActiveAt: 'Datetime',
  ChatStatus: 'Keyword',
} as const;
