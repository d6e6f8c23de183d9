/** The conversation of a Telegram chat is `telegram:<chat id>` (DESIGN §3): built here, read back here. */

export function telegramConversationId(chatId: number): string {
  return `telegram:${chatId}`;
}

/** The chat id, or undefined for an id that is not a Telegram conversation's. */
export function chatIdOf(conversationId: string): number | undefined {
  const match = /^telegram:(-?\d+)$/.exec(conversationId);
  const chatId = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(chatId) ? chatId : undefined;
}
